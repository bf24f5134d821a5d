package pingpptest

import (
	"encoding/json"
	"testing"
	"time"
)

// TestRefundFinishesInRealTime: with a delay and no Advance, a refund
// finishes by itself when the delay has passed on the real clock, and its
// webhook is sent.
func TestRefundFinishesInRealTime(t *testing.T) {
	rc := newReceiver(t)
	srv := newServer(t, Config{WebhookURL: rc.URL, RefundDelay: 50 * time.Millisecond})
	c := create(t, srv, params("alipay", nil))
	if err := srv.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	_, body := call(t, srv, "POST", "/v1/charges/"+c.ID+"/refunds", map[string]any{"description": "x"})
	var rf Refund
	json.Unmarshal(body, &rf)
	if rf.Status != RefundPending {
		t.Fatalf("refund answer %s, want pending", body)
	}
	ds, err := srv.WaitDeliveries(testCtx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if ds[1].Type != EventRefundSucceeded {
		t.Errorf("second delivery %s, want %s", ds[1].Type, EventRefundSucceeded)
	}
	if got, _ := srv.Refund(rf.ID); got.Status != RefundSucceeded {
		t.Errorf("refund %s, want succeeded", got.Status)
	}
	if got, _ := srv.Charge(c.ID); got.AmountRefunded != c.Amount {
		t.Errorf("amount_refunded %d, want %d", got.AmountRefunded, c.Amount)
	}
}

// TestCloseStopsWaitingRefunds: Close does not wait out a refund's delay.
func TestCloseStopsWaitingRefunds(t *testing.T) {
	srv := NewServer(Config{RefundDelay: time.Hour})
	c := create(t, srv, params("alipay", nil))
	srv.Pay(c.ID)
	call(t, srv, "POST", "/v1/charges/"+c.ID+"/refunds", map[string]any{"description": "x"})
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a refund an hour away")
	}
}

func TestPaidChargesShowResponseOnlyExtra(t *testing.T) {
	srv := newServer(t, Config{})
	for _, tt := range []struct {
		channel string
		keys    []string
	}{
		{"wx", []string{"open_id", "bank_type"}},
		{"wx_pub", []string{"open_id", "bank_type"}},
		{"alipay", []string{"buyer_account"}},
		{"alipay_wap", []string{"success_url", "buyer_account"}},
		{"upacp", nil},
	} {
		t.Run(tt.channel, func(t *testing.T) {
			c := create(t, srv, params(tt.channel, map[string]any{"order_no": "x" + tt.channel[:2] + "20261201"}))
			if err := srv.Pay(c.ID); err != nil {
				t.Fatal(err)
			}
			got, _ := srv.Charge(c.ID)
			var extra map[string]any
			if err := json.Unmarshal(got.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.keys {
				if s, _ := extra[k].(string); s == "" {
					t.Errorf("extra %s lacks %s", got.Extra, k)
				}
			}
			if len(extra) != len(tt.keys) {
				t.Errorf("extra %s, want exactly %v", got.Extra, tt.keys)
			}
		})
	}
	c := create(t, srv, params("wx", map[string]any{"order_no": "wxtest2026120102"}))
	srv.Pay(c.ID)
	got, _ := srv.Charge(c.ID)
	var extra map[string]string
	json.Unmarshal(got.Extra, &extra)
	if extra["bank_type"] != "your bank type" {
		t.Errorf("test-mode bank_type %q, want Ping++'s test value \"your bank type\"", extra["bank_type"])
	}
}
