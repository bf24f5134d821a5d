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
