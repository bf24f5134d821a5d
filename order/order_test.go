package order_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/order"
)

func TestChargeable(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		closed  bool
		expires time.Time
		wantErr error
		wantMsg string
	}{
		{"Open", false, time.Time{}, nil, ""},
		{"NotYetExpired", false, now.Add(time.Second), nil, ""},
		{"ErrOrderNotPayable/Closed", true, time.Time{}, payorder.ErrOrderNotPayable, "订单已关闭"},
		{"ErrOrderNotPayable/Expired", false, now, payorder.ErrOrderNotPayable, "订单已关闭"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := order.Order{No: "1", Amount: 1, Closed: tt.closed, ExpiresAt: tt.expires}
			err := o.Chargeable(now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Chargeable = %v, want %v", err, tt.wantErr)
			}
			if got := payorder.ClientMessage(err); got != tt.wantMsg {
				t.Errorf("message = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestValidNo(t *testing.T) {
	for no, want := range map[string]bool{
		"12134676899915430002": true, "A1R2": true, strings.Repeat("9", 64): true,
		"": false, strings.Repeat("9", 65): false, "12 3": false, "1\x00": false, "订单": false, "1-2": false,
	} {
		if got := order.ValidNo(no); got != want {
			t.Errorf("ValidNo(%q) = %v, want %v", no, got, want)
		}
	}
}

func TestMemStore(t *testing.T) {
	s, err := order.NewMemStore(order.Order{No: "A1", Buyer: "b", Amount: 100, Metadata: map[string]any{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Order(context.Background(), "A1")
	if err != nil || o.Buyer != "b" || o.Closed {
		t.Fatalf("Order = %+v, %v", o, err)
	}
	o.Metadata["k"] = "changed"
	if again, _ := s.Order(context.Background(), "A1"); again.Metadata["k"] != "v" {
		t.Error("a caller's change reached the store")
	}
	if err := s.Close("A1"); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Order(context.Background(), "A1"); !o.Closed {
		t.Error("Close did not close the order")
	}
	if _, err := s.Order(context.Background(), "B1"); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("Order(unknown) = %v, want ErrOrderNotFound", err)
	}
	if err := s.Put(order.Order{No: "bad no", Amount: 1}); !errors.Is(err, payorder.ErrInvalidRequest) {
		t.Errorf("Put of an invalid order = %v, want ErrInvalidRequest", err)
	}
}

func TestValidateMetadataForPingpp(t *testing.T) {
	keys := func(n int) map[string]any {
		m := map[string]any{}
		for i := range n {
			m[string(rune('a'+i))] = i
		}
		return m
	}
	tests := []struct {
		name     string
		metadata map[string]any
		ok       bool
	}{
		{"NineKeysPlusOrderNo", keys(9), true},
		{"TenKeysPlusOrderNo", keys(10), false},
		{"TenKeysIncludingOrderNo", func() map[string]any { m := keys(9); m["order_no"] = "1"; return m }(), true},
		{"Nested", map[string]any{"k": map[string]any{"a": 1}}, false},
		{"TooLong", map[string]any{"k": strings.Repeat("长", 1000)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := order.Order{No: "1", Amount: 1, Metadata: tt.metadata}
			err := o.Validate()
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, payorder.ErrInvalidRequest) {
				t.Errorf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
