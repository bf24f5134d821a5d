package ledgertest

import (
	"encoding/json"
	"errors"
	"fmt"
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
