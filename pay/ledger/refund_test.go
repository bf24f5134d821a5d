package ledger_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/yianpay/payorder/pay/ledger"
)

// paidRecord is the record of an order paid 100 fen by ch_1 at now.
func paidRecord(now time.Time) *ledger.Record {
	r := &ledger.Record{OrderNo: "A1", Now: now}
	c := ledger.Charge{ID: "ch_1", PingppOrderNo: "A1", Amount: 100, JSON: json.RawMessage(`{}`)}
	r.ApplyPayment(ledger.Payment{ChargeID: "ch_1", Amount: 100}, c, false)
	return r
}

func TestBeginRefundRules(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	want := ledger.RefundWant{ID: "q1", Amount: 30, Lease: 20 * time.Second}

	if _, _, err := (&ledger.Record{Now: now}).BeginRefund(want); !errors.Is(err, ledger.ErrNotPaid) {
		t.Errorf("unpaid order: %v; want ErrNotPaid", err)
	}
	r := paidRecord(now)
	step, a, err := r.BeginRefund(want)
	if err != nil || step != ledger.RefundStepSend || a.ChargeID != "ch_1" || a.State != ledger.RefundUnknown || a.Fence != 1 {
		t.Fatalf("first begin = %v %+v %v; want send, unknown, fence 1, the paying charge", step, a, err)
	}
	if step, _, _ := r.BeginRefund(want); step != ledger.RefundStepWait {
		t.Errorf("same id while held: step %v; want wait", step)
	}
	conflict := want
	conflict.Amount = 31
	if _, _, err := r.BeginRefund(conflict); !errors.Is(err, ledger.ErrRefundConflict) {
		t.Errorf("same id, other amount: %v; want ErrRefundConflict", err)
	}
	if _, _, err := r.BeginRefund(ledger.RefundWant{ID: "q2", Amount: 71, Lease: time.Second}); !errors.Is(err, ledger.ErrRefundTooLarge) {
		t.Errorf("more than the rest: %v; want ErrRefundTooLarge", err)
	}
	if err := r.PermitRefundSend("q1", 1, 20*time.Second); err != nil {
		t.Fatalf("the holder's send permit: %v", err)
	}
	r.Now = now.Add(21 * time.Second)
	step, a, err = r.BeginRefund(want)
	if err != nil || step != ledger.RefundStepResolve || a.Fence != 2 || !a.SentAt.Equal(now) {
		t.Fatalf("same id after the lease: %v %+v %v; want resolve with fence 2, sent at the permit", step, a, err)
	}
	if err := r.RenewRefund("q1", 1, time.Minute); !errors.Is(err, ledger.ErrFenced) {
		t.Errorf("the former holder's renewal: %v; want ErrFenced", err)
	}
	if err := r.PermitRefundSend("q1", 1, time.Minute); !errors.Is(err, ledger.ErrFenced) {
		t.Errorf("the former holder's send permit: %v; want ErrFenced", err)
	}
	// Ping++'s answer is a fact, recorded whoever reports it.
	if !r.ReportRefund("q1", ledger.RefundReport{RefundID: "re_1", State: ledger.RefundPending}) {
		t.Fatal("report ignored")
	}
	if step, a, _ := r.BeginRefund(want); step != ledger.RefundStepDone || a.State != ledger.RefundPending {
		t.Errorf("same id once pending: %v %+v; want done, pending", step, a)
	}
	// The rest (70) may go; then nothing is left while q1 is pending.
	if _, a, err := r.BeginRefund(ledger.RefundWant{ID: "q3", Lease: time.Second}); err != nil || a.Amount != 70 {
		t.Fatalf("refund of the rest = %+v, %v; want 70", a, err)
	}
	if _, _, err := r.BeginRefund(ledger.RefundWant{ID: "q4", Lease: time.Second}); !errors.Is(err, ledger.ErrNothingToRefund) {
		t.Errorf("with everything held: %v; want ErrNothingToRefund", err)
	}
	if err := r.FailRefund("q3", 1, "refused"); err != nil {
		t.Fatal(err)
	}
	r.ApplyRefund(ledger.Refund{ID: "re_1", ChargeID: "ch_1", Amount: 30, RequestID: "q1"})
	if a := r.RefundAttempt("q1"); a.State != ledger.RefundSucceeded {
		t.Errorf("q1 after its refund succeeded: %s", a.State)
	}
	if left, _ := r.Refundable("ch_1"); left != 70 || r.Status() != ledger.StatusPartiallyRefunded {
		t.Errorf("refundable %d, status %s; want 70, partially_refunded", left, r.Status())
	}
}

// begunRefund is paidRecord with refund q1 of 30 fen begun at now, held
// for 20 s with fence 1, and what was asked for it.
func begunRefund(t *testing.T, now time.Time) (*ledger.Record, ledger.RefundWant) {
	t.Helper()
	r := paidRecord(now)
	want := ledger.RefundWant{ID: "q1", Amount: 30, Lease: 20 * time.Second}
	if _, _, err := r.BeginRefund(want); err != nil {
		t.Fatal(err)
	}
	return r, want
}

// An attempt whose holder stopped before its send permit is closed as
// failed by whoever takes it over: its former holder can no longer get the
// permit, so no request of it can reach Ping++.
func TestUnsentRefundIsClosedOnTakeover(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r, want := begunRefund(t, now)
	r.Now = now.Add(21 * time.Second)
	step, a, err := r.BeginRefund(want)
	if err != nil || step != ledger.RefundStepClosed || a.State != ledger.RefundFailed || a.Evidence == "" {
		t.Fatalf("same id after the lease, never sent: %v %+v %v; want closed, failed with evidence", step, a, err)
	}
	if step, _, _ := r.BeginRefund(want); step != ledger.RefundStepDone {
		t.Errorf("same id once closed: step %v; want done", step)
	}
	if err := r.PermitRefundSend("q1", 1, time.Minute); !errors.Is(err, ledger.ErrFenced) {
		t.Errorf("the former holder's send permit: %v; want ErrFenced", err)
	}
	if left, _ := r.Refundable("ch_1"); left != 100 {
		t.Errorf("refundable %d; want 100, the amount freed", left)
	}
}

// A sent attempt not found long after is marked unconfirmed once, with one
// anomaly, and keeps its amount until a person abandons it; only then, and
// only when no one holds it, is it failed.
func TestUnconfirmedRefundHoldsUntilAbandoned(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	r, _ := begunRefund(t, now)
	if err := r.PermitRefundSend("q1", 1, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := r.AbandonRefund("q1", "not in the dashboard"); !errors.Is(err, ledger.ErrNotUnconfirmed) {
		t.Errorf("abandoning a refund just sent: %v; want ErrNotUnconfirmed", err)
	}
	for range 2 {
		if err := r.MarkRefundUnconfirmed("q1", 1, "not found"); err != nil {
			t.Fatal(err)
		}
	}
	a := r.RefundAttempt("q1")
	if a.State != ledger.RefundUnknown || !a.UnconfirmedAt.Equal(now) || len(r.Anomalies) != 1 ||
		r.Anomalies[0].ID != ledger.RefundUnconfirmedAnomalyID("A1", "q1") || r.Anomalies[0].Kind != ledger.AnomalyRefundUnconfirmed {
		t.Fatalf("after two marks: %+v, anomalies %+v; want unknown, marked once, one refund_unconfirmed anomaly", a, r.Anomalies)
	}
	if left, _ := r.Refundable("ch_1"); left != 70 {
		t.Errorf("refundable while unconfirmed %d; want 70 (30 held)", left)
	}
	if err := r.AbandonRefund("q1", "not in the dashboard"); err != nil {
		t.Fatalf("abandon: %v", err)
	}
	if a := r.RefundAttempt("q1"); a.State != ledger.RefundFailed {
		t.Errorf("abandoned attempt %s; want failed", a.State)
	}
	if left, _ := r.Refundable("ch_1"); left != 100 {
		t.Errorf("refundable after abandon %d; want 100", left)
	}
	// Should the request land after all, Ping++'s report is still recorded.
	if !r.ReportRefund("q1", ledger.RefundReport{RefundID: "re_1", State: ledger.RefundSucceeded, Amount: 30}) {
		t.Error("a refund reported after the abandon was ignored")
	}
	if left, _ := r.Refundable("ch_1"); left != 70 {
		t.Errorf("refundable after the late refund %d; want 70", left)
	}
}
