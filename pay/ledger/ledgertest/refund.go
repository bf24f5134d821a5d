package ledgertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yianpay/payorder/pay/ledger"
)

func testResolveAnomaly(t *testing.T, l ledger.Ledger) {
	a := ledger.Anomaly{ID: "double_payment:ch_r", Kind: ledger.AnomalyDoublePayment, OrderNo: "R1", ChargeID: "ch_r",
		Amount: 100, Currency: "cny", Event: []byte(`{}`), CreatedAt: at("2026-11-29T10:00:00Z")}
	if _, err := l.RecordAnomaly(ctx, a); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.ResolveAnomaly(ctx, "double_payment:ch_none"); ok || !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("ResolveAnomaly(unknown) = %v, %v; want ErrNotFound", ok, err)
	}
	countAnomalies(t, l) // one unresolved
	before := read(t, l, "R1").Now
	var first time.Time
	for i, want := range []bool{true, false} {
		ok, err := l.ResolveAnomaly(ctx, a.ID)
		if err != nil || ok != want {
			t.Fatalf("ResolveAnomaly #%d = %v, %v; want %v", i+1, ok, err, want)
		}
		got, err := l.Anomalies(ctx)
		if err != nil || len(got) != 1 {
			t.Fatalf("Anomalies = %v, %v", got, err)
		}
		if d := got[0].Resolved.Sub(before); got[0].Resolved.IsZero() || d < -time.Minute || d > time.Minute {
			t.Errorf("Resolved = %s; want the ledger's clock, about %s", got[0].Resolved, before)
		}
		if i == 0 {
			first = got[0].Resolved
		} else if !got[0].Resolved.Equal(first) {
			t.Errorf("resolving again moved Resolved from %s to %s", first, got[0].Resolved)
		}
		want := a
		want.Resolved = got[0].Resolved
		if d := cmp.Diff([]ledger.Anomaly{want}, got, timeEqual); d != "" {
			t.Errorf("Anomalies (-want +got):\n%s", d)
		}
		countAnomalies(t, l) // none unresolved
	}
}

// paid records order no paid by charge ch_<no> of amount.
func paid(t testing.TB, l ledger.Ledger, no string, amount int64) {
	t.Helper()
	update(t, l, no, func(r *ledger.Record) error {
		c := ledger.Charge{ID: "ch_" + no, PingppOrderNo: no, Amount: amount, Currency: "cny", JSON: json.RawMessage(`{}`)}
		r.ApplyPayment(ledger.Payment{ChargeID: c.ID, Amount: amount, Currency: "cny"}, c, false)
		r.FinishFulfilment(0, true)
		return nil
	})
}

func testDueRefunds(t *testing.T, l ledger.Ledger) {
	paid(t, l, "RU", 100)
	paid(t, l, "RN", 100)
	since := read(t, l, "RU").Now.Add(-time.Hour)
	update(t, l, "RU", func(r *ledger.Record) error {
		_, _, err := r.BeginRefund(ledger.RefundWant{ID: "q", Amount: 10, Lease: time.Minute})
		return err
	})
	update(t, l, "RN", func(r *ledger.Record) error {
		r.ApplyRefund(ledger.Refund{ID: "re_n", ChargeID: "ch_RN", Amount: 10})
		return nil
	})
	due, err := l.Due(ctx, since)
	if d := cmp.Diff([]string{"RN", "RU"}, due); err != nil || d != "" {
		t.Fatalf("Due with an unknown refund and an unnotified one (-want +got):\n%s %v", d, err)
	}
	update(t, l, "RU", func(r *ledger.Record) error {
		if !r.ReportRefund("q", ledger.RefundReport{RefundID: "re_q", State: ledger.RefundPending}) {
			return errors.New("report ignored")
		}
		return nil
	})
	if due, err := l.Due(ctx, since); err != nil || len(due) != 2 {
		t.Errorf("Due with a pending refund = %v, %v; want both orders still", due, err)
	}
	update(t, l, "RU", func(r *ledger.Record) error {
		r.ReportRefund("q", ledger.RefundReport{RefundID: "re_q", State: ledger.RefundFailed, Evidence: "refused"})
		return nil
	})
	update(t, l, "RN", func(r *ledger.Record) error { r.FinishRefundNotice("re_n", 0, true); return nil })
	if due, err := l.Due(ctx, since); err != nil || len(due) != 0 {
		t.Errorf("Due after the refunds were settled = %v, %v; want none", due, err)
	}
}

// testUnconfirmedRefund keeps what the send permit and the unconfirmed mark
// record: an attempt read back after its permit is sent (a takeover
// resolves it rather than closing it as never sent), the mark records its
// anomaly once, without an event, and the attempt stays unknown and due
// until it is abandoned.
func testUnconfirmedRefund(t *testing.T, l ledger.Ledger) {
	paid(t, l, "RC", 100)
	since := read(t, l, "RC").Now.Add(-time.Hour)
	update(t, l, "RC", func(r *ledger.Record) error {
		if _, _, err := r.BeginRefund(ledger.RefundWant{ID: "q", Amount: 40, Lease: time.Minute}); err != nil {
			return err
		}
		return r.PermitRefundSend("q", 1, time.Minute)
	})
	if a := read(t, l, "RC").RefundAttempt("q"); a.SentAt.IsZero() {
		t.Fatalf("attempt read back after its permit: %+v; want SentAt", a)
	}
	for range 2 {
		update(t, l, "RC", func(r *ledger.Record) error { return r.MarkRefundUnconfirmed("q", 1, "not found") })
	}
	r := read(t, l, "RC")
	if a := r.RefundAttempt("q"); a.State != ledger.RefundUnknown || a.UnconfirmedAt.IsZero() {
		t.Fatalf("attempt after the mark: %+v; want unknown, unconfirmed", a)
	}
	if left, _ := r.Refundable("ch_RC"); left != 60 {
		t.Errorf("refundable while unconfirmed = %d; want 60", left)
	}
	var marked []ledger.Anomaly
	all, err := l.Anomalies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range all {
		if a.OrderNo == "RC" {
			marked = append(marked, a)
		}
	}
	if len(marked) != 1 || marked[0].ID != ledger.RefundUnconfirmedAnomalyID("RC", "q") || marked[0].Kind != ledger.AnomalyRefundUnconfirmed || marked[0].Amount != 40 {
		t.Errorf("anomalies of RC = %+v; want one refund_unconfirmed of 40", marked)
	}
	if due, err := l.Due(ctx, since); err != nil || !slices.Contains(due, "RC") {
		t.Errorf("Due = %v, %v; want RC, whose refund is unconfirmed", due, err)
	}
	update(t, l, "RC", func(r *ledger.Record) error { return r.AbandonRefund("q", "abandoned: not in the dashboard") })
	if a := read(t, l, "RC").RefundAttempt("q"); a.State != ledger.RefundFailed {
		t.Errorf("attempt after the abandon: %s; want failed", a.State)
	}
}

// testConcurrentRefunds begins 20 refunds of 30 fen of one 100 fen charge at
// once, spread over ls: exactly three fit, and the rest are refused as too
// large, whatever the interleaving.
func testConcurrentRefunds(t *testing.T, ls []ledger.Ledger) {
	const n = 20
	paid(t, ls[0], "RC", 100)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = ls[i%len(ls)].Update(ctx, "RC", func(r *ledger.Record, _ any) error {
				_, _, err := r.BeginRefund(ledger.RefundWant{ID: fmt.Sprint("q", i), Amount: 30, Lease: time.Minute})
				return err
			})
		})
	}
	wg.Wait()
	began := 0
	for _, err := range errs {
		switch {
		case err == nil:
			began++
		case !errors.Is(err, ledger.ErrRefundTooLarge):
			t.Errorf("BeginRefund: %v; want nil or ErrRefundTooLarge", err)
		}
	}
	r := read(t, ls[0], "RC")
	if left, err := r.Refundable("ch_RC"); began != 3 || len(r.RefundAttempts) != 3 || left != 10 || err != nil {
		t.Errorf("%d refunds began, %d recorded, %d fen left (%v); want 3, 3, 10", began, len(r.RefundAttempts), left, err)
	}
}
