package order_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/order"
)

func TestPayable(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		status  order.Status
		expires time.Time
		wantErr error
		wantMsg string
	}{
		{"Unpaid", order.StatusUnpaid, time.Time{}, nil, ""},
		{"UnpaidNotYetExpired", order.StatusUnpaid, now.Add(time.Second), nil, ""},
		{"ErrOrderNotPayable/Paid", order.StatusPaid, time.Time{}, payorder.ErrOrderNotPayable, "订单已支付"},
		{"ErrOrderNotPayable/Refunded", order.StatusRefunded, time.Time{}, payorder.ErrOrderNotPayable, "订单已支付"},
		{"ErrOrderNotPayable/Closed", order.StatusClosed, time.Time{}, payorder.ErrOrderNotPayable, "订单已关闭"},
		{"ErrOrderNotPayable/Expired", order.StatusUnpaid, now, payorder.ErrOrderNotPayable, "订单已关闭"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := order.Order{No: "1", Amount: 1, Status: tt.status, ExpiresAt: tt.expires}
			err := o.Payable(now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Payable = %v, want %v", err, tt.wantErr)
			}
			if got := payorder.ClientMessage(err); got != tt.wantMsg {
				t.Errorf("message = %q, want %q", got, tt.wantMsg)
			}
		})
	}
}

func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]order.Status]bool{
		{order.StatusUnpaid, order.StatusPaid}:                         true,
		{order.StatusUnpaid, order.StatusClosed}:                       true,
		{order.StatusPaid, order.StatusPartiallyRefunded}:              true,
		{order.StatusPaid, order.StatusRefunded}:                       true,
		{order.StatusPartiallyRefunded, order.StatusPartiallyRefunded}: true,
		{order.StatusPartiallyRefunded, order.StatusRefunded}:          true,
	}
	all := []order.Status{order.StatusUnpaid, order.StatusPaid, order.StatusClosed, order.StatusPartiallyRefunded, order.StatusRefunded}
	for _, from := range all {
		for _, to := range all {
			if got := from.CanBecome(to); got != allowed[[2]order.Status{from, to}] {
				t.Errorf("%s.CanBecome(%s) = %v", from, to, got)
			}
		}
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

func TestFulfilmentClaims(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	o := order.Order{No: "1", Amount: 1}
	if ok, err := o.ClaimFulfilment(now, time.Minute, "a"); ok || err != nil {
		t.Fatalf("claim on an unpaid order = %v, %v; want nothing to do", ok, err)
	}
	o.ApplyPayment(order.Payment{ChargeID: "ch_1", Amount: 1})
	if ok, err := o.ClaimFulfilment(now, time.Minute, "a"); !ok || err != nil {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if _, err := o.ClaimFulfilment(now.Add(time.Second), time.Minute, "b"); !errors.Is(err, order.ErrFulfilmentBusy) {
		t.Fatalf("claim during another = %v, want ErrFulfilmentBusy", err)
	}
	// a's lease lapses; b takes over; a's late failure must not free b's claim.
	later := now.Add(2 * time.Minute)
	if ok, err := o.ClaimFulfilment(later, time.Minute, "b"); !ok || err != nil {
		t.Fatalf("claim after the lease = %v, %v", ok, err)
	}
	o.FinishFulfilment(later, "a", false)
	if o.FulfilmentClaim != "b" || !o.FulfilmentLeaseUntil.After(later) {
		t.Errorf("a stale holder released the claim in force: %q until %v", o.FulfilmentClaim, o.FulfilmentLeaseUntil)
	}
	o.FinishFulfilment(later, "b", true)
	if o.FulfilledAt.IsZero() || o.FulfilmentClaim != "" {
		t.Errorf("after success: fulfilled %v, claim %q", o.FulfilledAt, o.FulfilmentClaim)
	}
	if ok, _ := o.ClaimFulfilment(later.Add(time.Hour), time.Minute, "c"); ok {
		t.Error("a fulfilled order was claimed again")
	}
}
