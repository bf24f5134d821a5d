package ledger_test

import (
	"testing"
	"time"

	"github.com/yianpay/payorder/pay/ledger"
)

// TestRecordOfEarlierVersionHasNoRefundHookToRun: a record saved before
// refunds had a hook decodes with its refunds' hook done, so that an upgrade
// neither announces old refunds to OnRefunded nor keeps their orders due.
func TestRecordOfEarlierVersionHasNoRefundHookToRun(t *testing.T) {
	old := `{"charges":[{"id":"ch_1","pingpp_order_no":"A1","amount":100,"paid_at":"2026-11-29T10:00:00Z"}],` +
		`"payment":{"charge_id":"ch_1","amount":100},"refunds":[{"id":"re_1","charge_id":"ch_1","amount":40}],` +
		`"fulfilment":{"id":"ful_ch_1","fulfilled_at":"2026-11-29T10:00:01Z"}}`
	r, err := ledger.UnmarshalRecord("A1", []byte(old), map[string][]byte{"ch_1": []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Refunds) != 1 || r.Refunds[0].Notice.FulfilledAt.IsZero() || r.Refunds[0].Notice.ID != "rfn_re_1" {
		t.Fatalf("refunds %+v; want re_1 with its hook done", r.Refunds)
	}
	if due := r.DueUntil(); !due.IsZero() {
		t.Errorf("DueUntil = %s; want nothing due", due)
	}
	if left, err := r.Refundable("ch_1"); left != 60 || err != nil {
		t.Errorf("Refundable = %d, %v; want 60", left, err)
	}
	// A refund recorded now has a hook to run until it is finished.
	r.Now = time.Now()
	r.ApplyRefund(ledger.Refund{ID: "re_2", ChargeID: "ch_1", Amount: 10})
	if r.DueUntil() != ledger.Forever {
		t.Errorf("DueUntil with a new refund's hook pending = %s; want Forever", r.DueUntil())
	}
	b, err := ledger.MarshalRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ledger.UnmarshalRecord("A1", b, map[string][]byte{"ch_1": []byte(`{}`)})
	if err != nil || !again.Refunds[1].Notice.FulfilledAt.IsZero() || again.Refunds[1].Notice.ID != "rfn_re_2" {
		t.Errorf("new refund after a round trip: %+v, %v; want its hook still to run", again.Refunds, err)
	}
}

// TestRefundAttemptsOfEarlierVersionMayHaveBeenSent: an unknown refund
// attempt saved before send permits decodes as sent at its start, so that
// no takeover closes as never sent an attempt that may have reached Ping++;
// one saved since keeps what its permit said, through a round trip.
func TestRefundAttemptsOfEarlierVersionMayHaveBeenSent(t *testing.T) {
	old := `{"charges":[{"id":"ch_1","pingpp_order_no":"A1","amount":100,"paid_at":"2026-11-29T10:00:00Z"}],` +
		`"payment":{"charge_id":"ch_1","amount":100},"refund_attempts":[` +
		`{"id":"q1","charge_id":"ch_1","amount":40,"started_at":"2026-11-29T11:00:00Z","fence":1,"held_until":"2026-11-29T11:00:20Z","state":"unknown"}]}`
	charges := map[string][]byte{"ch_1": []byte(`{}`)}
	r, err := ledger.UnmarshalRecord("A1", []byte(old), charges)
	if err != nil {
		t.Fatal(err)
	}
	if a := r.RefundAttempt("q1"); !a.SentAt.Equal(a.StartedAt) {
		t.Fatalf("attempt of an earlier version: SentAt %s; want its start %s", a.SentAt, a.StartedAt)
	}
	r.Now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	if _, _, err := r.BeginRefund(ledger.RefundWant{ID: "q2", Amount: 10, Lease: time.Minute}); err != nil {
		t.Fatal(err)
	}
	b, err := ledger.MarshalRecord(r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ledger.UnmarshalRecord("A1", b, charges)
	if err != nil {
		t.Fatal(err)
	}
	if a := again.RefundAttempt("q2"); !a.SentAt.IsZero() {
		t.Errorf("attempt never sent, after a round trip: SentAt %s; want zero", a.SentAt)
	}
	if a := again.RefundAttempt("q1"); !a.SentAt.Equal(a.StartedAt) {
		t.Errorf("attempt of an earlier version, after a round trip: SentAt %s; want its start", a.SentAt)
	}
}
