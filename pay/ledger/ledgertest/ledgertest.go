package ledgertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
)

// Run checks the ledgers newLedger returns against the contract of
// ledger.Ledger. Each call of newLedger must return an empty ledger of its own.
func Run(t *testing.T, newLedger func(t testing.TB) ledger.Ledger) {
	runParallel(t, newLedger, []test[ledger.Ledger]{
		{"ReadUnknownIsEmpty", testReadUnknown},
		{"RoundTrip", testRoundTrip},
		{"FailedUpdateSavesNothing", testFailedUpdate},
		{"ConcurrentUpdatesAreAtomic", one(testConcurrentUpdates)},
		{"UpdateReturnsWhatItSaved", testUpdateReturnsSaved},
		{"NumbersUniqueAcrossOrders", testNumbersUnique},
		{"NumbersUniqueWithinOrder", testNumbersUniqueWithinOrder},
		{"ConcurrentNumberClaims", one(testConcurrentNumbers)},
		{"OrderOfCharge", testOrderOfCharge},
		{"ChargeOfAnotherOrder", testChargeOfAnotherOrder},
		{"Anomalies", testAnomalies},
		{"Due", testDue},
		{"Clock", testClock},
		{"ResolveAnomaly", testResolveAnomaly},
		{"DueRefunds", testDueRefunds},
		{"UnconfirmedRefund", testUnconfirmedRefund},
		{"ConcurrentRefundsNeverExceedPaid", one(testConcurrentRefunds)},
	})
}

// RunInstances checks that Update is atomic across several ledgers over one
// store, as the processes of a service share one database: concurrent
// read-modify-writes of an order, and a race for one Ping++ number, spread
// over the ledgers newInstances returns. Each call of newInstances must
// return ledgers over an empty store of their own; Memory, which cannot
// share its store, passes the same *Memory more than once.
func RunInstances(t *testing.T, newInstances func(t testing.TB) []ledger.Ledger) {
	runParallel(t, newInstances, []test[[]ledger.Ledger]{
		{"ConcurrentUpdatesAreAtomic", testConcurrentUpdates},
		{"ConcurrentNumberClaims", testConcurrentNumbers},
		{"ConcurrentRefundsNeverExceedPaid", testConcurrentRefunds},
	})
}

// test is a named check of what newL returns: a ledger, or ledgers over one store.
type test[L any] struct {
	name string
	run  func(t *testing.T, l L)
}

// runParallel runs each test in parallel on what newL returns for it.
func runParallel[L any](t *testing.T, newL func(t testing.TB) L, tests []test[L]) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newL(t))
		})
	}
}

// one runs a test of instances on a single ledger.
func one(test func(t *testing.T, ls []ledger.Ledger)) func(t *testing.T, l ledger.Ledger) {
	return func(t *testing.T, l ledger.Ledger) { test(t, []ledger.Ledger{l}) }
}

var ctx = context.Background()

// at is a time as every implementation keeps it: UTC, microseconds.
func at(s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm.UTC().Truncate(time.Microsecond)
}

// chargeJSON is a charge as Ping++ sends it: key order, spacing and escapes
// that a JSON column would not keep.
const chargeJSON = `{"id":"ch_1","object":"charge", "amount":9900,"subject":"\u8bfe\u7a0b","metadata":{"z":1,"a":"collection的使用"},"extra":{}}`

func sampleRecord(no string) *ledger.Record {
	return &ledger.Record{
		OrderNo: no,
		Attempts: []ledger.Attempt{{
			ID: "att_" + no, Group: "alipay", Channel: channel.Alipay, ExtraKey: `{"a":1}`,
			PingppOrderNo: no, Params: json.RawMessage(`{"order_no":"` + no + `", "amount":9900}`),
			StartedAt: at("2026-11-29T10:00:00.123456Z"), Fence: 3, HeldUntil: at("2026-11-29T10:00:20.5Z"),
			State: ledger.AttemptCharged, ChargeID: "ch_" + no, ClosedAt: at("2026-11-29T10:00:01Z"),
		}, {
			ID: "att2_" + no, Group: "wechat", Channel: channel.Wx, ExtraKey: "{}",
			PingppOrderNo: no + "R2", Params: json.RawMessage(`{}`),
			StartedAt: at("2026-11-29T11:00:00Z"), Fence: 1, HeldUntil: at("2026-11-29T11:00:20Z"),
			State: ledger.AttemptLost, Evidence: "not among 3 charges created 10:55–11:05",
			ClosedAt: at("2026-11-29T11:10:00Z"),
		}},
		Charges: []ledger.Charge{{
			ID: "ch_" + no, AttemptID: "att_" + no, PingppOrderNo: no, Channel: channel.Alipay,
			Amount: 9900, Currency: "cny", ExtraKey: `{"a":1}`, AppID: "app_1", Livemode: false,
			CreatedAt: at("2026-11-29T10:00:01Z"), ExpiresAt: at("2026-11-30T10:00:01Z"),
			PaidAt: at("2026-11-29T10:05:00Z"), JSON: json.RawMessage(chargeJSON),
		}, {
			ID: "ch_orphan_" + no, PingppOrderNo: no, Channel: channel.Alipay, Amount: 9900, Currency: "cny",
			CreatedAt: at("2026-11-29T10:00:02Z"), ExpiresAt: at("2026-11-30T10:00:02Z"), Orphan: true,
			JSON: json.RawMessage(`{"id":"ch_orphan"}`),
		}},
		Payment: &ledger.Payment{
			ChargeID: "ch_" + no, Channel: channel.Alipay, Amount: 9900, Currency: "cny",
			TransactionNo: "2026112900001", PaidAt: at("2026-11-29T10:05:00Z"), EventID: "evt_1",
			RecordedAt: at("2026-11-29T10:05:01.000001Z"),
		},
		Refunds: []ledger.Refund{{ID: "re_1", ChargeID: "ch_" + no, Amount: 100, SucceededAt: at("2026-11-29T12:00:00Z"), EventID: "evt_2",
			RequestID: "req_1", Notice: ledger.Fulfilment{ID: "rfn_re_1", Claim: 1, Runs: 1, FulfilledAt: at("2026-11-29T12:00:01Z")}}},
		RefundAttempts: []ledger.RefundAttempt{{
			ID: "req_1", ChargeID: "ch_" + no, Amount: 100, Params: json.RawMessage(`{"description":"退款", "metadata":{"z":1}}`),
			StartedAt: at("2026-11-29T11:59:00.5Z"), Fence: 2, HeldUntil: at("2026-11-29T11:59:20Z"),
			State: ledger.RefundSucceeded, RefundID: "re_1", Evidence: "succeeded", ClosedAt: at("2026-11-29T12:00:00Z"),
		}, {
			ID: "req_2", ChargeID: "ch_orphan_" + no, Amount: 9900, AnomalyID: "double_payment:ch_orphan_" + no,
			StartedAt: at("2026-11-29T12:01:00Z"), Fence: 1, HeldUntil: at("2026-11-29T12:01:20Z"), State: ledger.RefundFailed,
			Evidence: "refused: 400", ClosedAt: at("2026-11-29T12:01:01Z"),
		}},
		Fulfilment: ledger.Fulfilment{
			ID: "ful_ch_" + no, Claim: 2, LeaseUntil: at("2026-11-29T10:10:00Z"), Runs: 2,
			FulfilledAt: at("2026-11-29T10:06:00Z"),
		},
	}
}

// copyInto makes r hold what src holds, keeping r.Now.
func copyInto(r, src *ledger.Record) {
	now := r.Now
	*r = *src.Clone()
	r.Now = now
}

var timeEqual = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

// diff compares records but for Now.
func diff(want, got *ledger.Record) string {
	w, g := want.Clone(), got.Clone()
	w.Now, g.Now = time.Time{}, time.Time{}
	return cmp.Diff(w, g, timeEqual)
}

func update(t testing.TB, l ledger.Ledger, no string, fn func(r *ledger.Record) error) *ledger.Record {
	t.Helper()
	r, err := l.Update(ctx, no, func(r *ledger.Record, _ any) error { return fn(r) })
	if err != nil {
		t.Fatalf("Update(%s): %v", no, err)
	}
	return r
}

func read(t testing.TB, l ledger.Ledger, no string) *ledger.Record {
	t.Helper()
	r, err := l.Read(ctx, no)
	if err != nil {
		t.Fatalf("Read(%s): %v", no, err)
	}
	return r
}

func testReadUnknown(t *testing.T, l ledger.Ledger) {
	r := read(t, l, "nosuchorder")
	if diff := diff(&ledger.Record{OrderNo: "nosuchorder"}, r); diff != "" {
		t.Errorf("Read of an unknown order (-want +got):\n%s", diff)
	}
	if r.Now.IsZero() {
		t.Error("Read left Now zero")
	}
}

func testRoundTrip(t *testing.T, l ledger.Ledger) {
	want := sampleRecord("A1")
	saved := update(t, l, "A1", func(r *ledger.Record) error { copyInto(r, want); return nil })
	if d := diff(want, saved); d != "" {
		t.Errorf("Update returned (-want +got):\n%s", d)
	}
	got := read(t, l, "A1")
	if d := diff(want, got); d != "" {
		t.Errorf("Read after Update (-want +got):\n%s", d)
	}
	if string(got.Charges[0].JSON) != chargeJSON {
		t.Errorf("charge JSON = %s, want byte for byte %s", got.Charges[0].JSON, chargeJSON)
	}

	// A second update sees the first and changes elements in place.
	update(t, l, "A1", func(r *ledger.Record) error {
		if d := diff(want, r); d != "" {
			return fmt.Errorf("fn got (-want +got):\n%s", d)
		}
		r.Charges[1].Orphan = false
		r.Charges[1].AttemptID = "att2_A1"
		r.Attempts[1].Fence = 7
		r.Payment = nil
		r.Fulfilment = ledger.Fulfilment{}
		return nil
	})
	want.Charges[1].Orphan, want.Charges[1].AttemptID = false, "att2_A1"
	want.Attempts[1].Fence = 7
	want.Payment, want.Fulfilment = nil, ledger.Fulfilment{}
	if d := diff(want, read(t, l, "A1")); d != "" {
		t.Errorf("Read after a second Update (-want +got):\n%s", d)
	}
}

func testFailedUpdate(t *testing.T, l ledger.Ledger) {
	errNo := errors.New("no")
	_, err := l.Update(ctx, "B1", func(r *ledger.Record, _ any) error {
		copyInto(r, sampleRecord("B1"))
		r.Anomalies = []ledger.Anomaly{{ID: "x:1", Kind: ledger.AnomalyDoublePayment}}
		return errNo
	})
	if !errors.Is(err, errNo) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	if d := diff(&ledger.Record{OrderNo: "B1"}, read(t, l, "B1")); d != "" {
		t.Errorf("a failed Update saved (-want +got):\n%s", d)
	}
	assertNoTrace(t, l, "a failed Update", "ch_B1")
	// The number of the failed update is free.
	update(t, l, "B2", func(r *ledger.Record) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: "B1", State: ledger.AttemptOpen})
		return nil
	})
}

// assertNoTrace checks that refused updates (what) recorded neither charge
// chargeID nor any anomaly.
func assertNoTrace(t testing.TB, l ledger.Ledger, what, chargeID string) {
	t.Helper()
	if _, err := l.OrderOfCharge(ctx, chargeID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("OrderOfCharge(%s) after %s = %v, want ErrNotFound", chargeID, what, err)
	}
	if as, _ := l.Anomalies(ctx); len(as) != 0 {
		t.Errorf("%s recorded anomalies %v", what, as)
	}
}

func testConcurrentUpdates(t *testing.T, ls []ledger.Ledger) {
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		l := ls[i%len(ls)]
		wg.Go(func() {
			_, err := l.Update(ctx, "C1", func(r *ledger.Record, _ any) error {
				// A read-modify-write: lost if another update runs in between.
				r.Refunds = append(r.Refunds, ledger.Refund{ID: fmt.Sprintf("re_%d", i), Amount: int64(len(r.Refunds))})
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r := read(t, ls[len(ls)-1], "C1")
	if len(r.Refunds) != n {
		t.Fatalf("%d concurrent appends left %d refunds", n, len(r.Refunds))
	}
	for i, rf := range r.Refunds {
		if rf.Amount != int64(i) {
			t.Fatalf("refund %d saw %d before it: an update ran in between", i, rf.Amount)
		}
	}
}

func testNumbersUnique(t *testing.T, l ledger.Ledger) {
	update(t, l, "D1", func(r *ledger.Record) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a1", PingppOrderNo: "D1R2", State: ledger.AttemptOpen})
		return nil
	})
	// Another order's attempt may not take the number, nor may the order
	// whose own number it is.
	for _, no := range []string{"D2", "D1R2"} {
		_, err := l.Update(ctx, no, func(r *ledger.Record, _ any) error {
			r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a2", PingppOrderNo: "D1R2", State: ledger.AttemptOpen})
			r.Refunds = append(r.Refunds, ledger.Refund{ID: "re_x"})
			return nil
		})
		if !errors.Is(err, ledger.ErrNumberTaken) {
			t.Errorf("Update(%s) taking D1R2 = %v, want ErrNumberTaken", no, err)
		}
		if r := read(t, l, no); len(r.Refunds) != 0 || len(r.Attempts) != 0 {
			t.Errorf("Update(%s) refused with ErrNumberTaken saved %+v", no, r)
		}
	}
	// A charge's number is Ping++'s fact: kept even when another order's
	// attempt holds it, and it takes a free number.
	update(t, l, "D3", func(r *ledger.Record) error {
		r.Charges = append(r.Charges, ledger.Charge{ID: "ch_d3", PingppOrderNo: "D1R2", JSON: json.RawMessage(`{}`)},
			ledger.Charge{ID: "ch_d3b", PingppOrderNo: "D3X", JSON: json.RawMessage(`{}`)})
		return nil
	})
	_, err := l.Update(ctx, "D4", func(r *ledger.Record, _ any) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a4", PingppOrderNo: "D3X", State: ledger.AttemptOpen})
		return nil
	})
	if !errors.Is(err, ledger.ErrNumberTaken) {
		t.Errorf("an attempt taking another order's charge's number = %v, want ErrNumberTaken", err)
	}
	// Numbers already the order's own stay usable by its later updates.
	update(t, l, "D1", func(r *ledger.Record) error {
		r.Attempts[0].State = ledger.AttemptLost
		return nil
	})
}

func testUpdateReturnsSaved(t *testing.T, l ledger.Ledger) {
	want := sampleRecord("J1")
	saved := update(t, l, "J1", func(r *ledger.Record) error {
		if r.OrderNo != "J1" {
			return fmt.Errorf("fn got OrderNo %q for a new order, want J1", r.OrderNo)
		}
		copyInto(r, want)
		r.Anomalies = []ledger.Anomaly{{ID: "x:j1", Kind: ledger.AnomalyDoublePayment, OrderNo: "J1"}}
		return nil
	})
	if len(saved.Anomalies) != 0 {
		t.Errorf("Update returned anomalies %v", saved.Anomalies)
	}
	got := read(t, l, "J1")
	if d := diff(got, saved); d != "" {
		t.Errorf("Update returned what Read does not (-read +update):\n%s", d)
	}
	if saved.Now.IsZero() {
		t.Error("Update returned Now zero")
	}
	// The records returned are the caller's: changing them changes nothing
	// in the ledger.
	for _, r := range []*ledger.Record{saved, got} {
		r.Attempts[0].State = ledger.AttemptOpen
		r.Charges[0].Orphan = true
		r.Payment.Amount = 1
		r.Refunds[0].Amount = 1
		r.Fulfilment.Runs = 9
	}
	if d := diff(sampleRecord("J1"), read(t, l, "J1")); d != "" {
		t.Errorf("changing returned records changed the ledger (-want +got):\n%s", d)
	}
}

func testNumbersUniqueWithinOrder(t *testing.T, l ledger.Ledger) {
	update(t, l, "L1", func(r *ledger.Record) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a1", PingppOrderNo: "L1", State: ledger.AttemptLost})
		return nil
	})
	for name, numbers := range map[string][]string{
		"an older attempt's number":   {"L1"},
		"one number for two attempts": {"L1R2", "L1R2"},
	} {
		_, err := l.Update(ctx, "L1", func(r *ledger.Record, _ any) error {
			for i, no := range numbers {
				r.Attempts = append(r.Attempts, ledger.Attempt{ID: fmt.Sprintf("new%d", i), PingppOrderNo: no, State: ledger.AttemptOpen})
			}
			r.Charges = append(r.Charges, ledger.Charge{ID: "ch_l1", PingppOrderNo: "L1C", JSON: json.RawMessage(`{}`)})
			r.Anomalies = append(r.Anomalies, ledger.Anomaly{ID: "x:l1", Kind: ledger.AnomalyDoublePayment})
			return nil
		})
		if !errors.Is(err, ledger.ErrNumberTaken) {
			t.Errorf("Update with %s = %v, want ErrNumberTaken", name, err)
		}
	}
	if r := read(t, l, "L1"); len(r.Attempts) != 1 || len(r.Charges) != 0 {
		t.Errorf("updates refused with ErrNumberTaken saved %+v", r)
	}
	assertNoTrace(t, l, "updates refused with ErrNumberTaken", "ch_l1")
	// The numbers of the refused updates are free.
	update(t, l, "L2", func(r *ledger.Record) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: "L1R2", State: ledger.AttemptOpen},
			ledger.Attempt{ID: "b", PingppOrderNo: "L1C", State: ledger.AttemptOpen})
		return nil
	})
}

func testConcurrentNumbers(t *testing.T, ls []ledger.Ledger) {
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, taken := 0, 0
	var other []error
	for i := range n {
		l := ls[i%len(ls)]
		wg.Go(func() {
			_, err := l.Update(ctx, fmt.Sprintf("E%d", i), func(r *ledger.Record, _ any) error {
				r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: "ESHARED", State: ledger.AttemptOpen})
				return nil
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, ledger.ErrNumberTaken):
				taken++
			default:
				other = append(other, err)
			}
		})
	}
	wg.Wait()
	if won != 1 || taken != n-1 || other != nil {
		t.Errorf("%d orders racing for one number: %d won, %d refused, errors %v; want 1 and %d", n, won, taken, other, n-1)
	}
}

func testOrderOfCharge(t *testing.T, l ledger.Ledger) {
	update(t, l, "F1", func(r *ledger.Record) error { copyInto(r, sampleRecord("F1")); return nil })
	for _, id := range []string{"ch_F1", "ch_orphan_F1"} {
		no, err := l.OrderOfCharge(ctx, id)
		if err != nil || no != "F1" {
			t.Errorf("OrderOfCharge(%s) = %q, %v; want F1", id, no, err)
		}
	}
	if _, err := l.OrderOfCharge(ctx, "ch_unknown"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("OrderOfCharge(unknown) = %v, want ErrNotFound", err)
	}
}

func testChargeOfAnotherOrder(t *testing.T, l ledger.Ledger) {
	update(t, l, "G1", func(r *ledger.Record) error {
		r.Charges = append(r.Charges, ledger.Charge{ID: "ch_g", PingppOrderNo: "G1", JSON: json.RawMessage(`{}`)})
		return nil
	})
	_, err := l.Update(ctx, "G2", func(r *ledger.Record, _ any) error {
		r.Charges = append(r.Charges, ledger.Charge{ID: "ch_g", PingppOrderNo: "G2", JSON: json.RawMessage(`{}`)})
		return nil
	})
	if err == nil {
		t.Error("recording order G1's charge for G2 succeeded")
	}
	if no, _ := l.OrderOfCharge(ctx, "ch_g"); no != "G1" {
		t.Errorf("OrderOfCharge(ch_g) = %q after the refused update, want G1", no)
	}
}

func testAnomalies(t *testing.T, l ledger.Ledger) {
	countAnomalies(t, l)
	a1 := ledger.Anomaly{
		ID: "unknown_order:ch_1", Kind: ledger.AnomalyUnknownOrder, ChargeID: "ch_1", Amount: 9900, Currency: "cny",
		Detail: "paid, no order", Event: []byte(`{"id":"evt_1", "x":"中"}`), CreatedAt: at("2026-11-29T10:00:00Z"),
	}
	for i, wantNew := range []bool{true, false} {
		created, err := l.RecordAnomaly(ctx, a1)
		if err != nil || created != wantNew {
			t.Fatalf("RecordAnomaly #%d = %v, %v; want %v", i+1, created, err, wantNew)
		}
	}
	a2 := ledger.Anomaly{ID: "double_payment:ch_2", Kind: ledger.AnomalyDoublePayment, OrderNo: "H1", ChargeID: "ch_2",
		Event: []byte(`{}`), CreatedAt: at("2026-11-29T10:01:00Z")}
	// Recorded with an update, twice: kept once.
	for range 2 {
		update(t, l, "H1", func(r *ledger.Record) error { r.Anomalies = append(r.Anomalies, a2); return nil })
	}
	if r := read(t, l, "H1"); len(r.Anomalies) != 0 {
		t.Errorf("Read returned anomalies %v", r.Anomalies)
	}
	if created, err := l.RecordAnomaly(ctx, a2); err != nil || created {
		t.Errorf("RecordAnomaly of one recorded by Update = %v, %v; want false", created, err)
	}
	got, err := l.Anomalies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]ledger.Anomaly{a1, a2}, got, timeEqual); d != "" {
		t.Errorf("Anomalies (-want +got):\n%s", d)
	}
	countAnomalies(t, l)
}

func testDue(t *testing.T, l ledger.Ledger) {
	base := at("2026-11-29T10:00:00Z")
	charge := func(id string, expires time.Time) ledger.Charge {
		return ledger.Charge{ID: id, PingppOrderNo: id, ExpiresAt: expires, JSON: json.RawMessage(`{}`)}
	}
	update(t, l, "open", func(r *ledger.Record) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: "open", State: ledger.AttemptOpen})
		return nil
	})
	update(t, l, "unpaid", func(r *ledger.Record) error {
		r.Charges = append(r.Charges, charge("ch_u", base.Add(2*time.Hour)))
		return nil
	})
	update(t, l, "unfulfilled", func(r *ledger.Record) error {
		r.Charges = append(r.Charges, charge("ch_p", base))
		r.Payment = &ledger.Payment{ChargeID: "ch_p", Amount: 1}
		return nil
	})
	update(t, l, "settled", func(r *ledger.Record) error {
		r.Charges = append(r.Charges, charge("ch_s", base.Add(3*time.Hour)))
		r.Payment = &ledger.Payment{ChargeID: "ch_s", Amount: 1}
		r.Fulfilment.FulfilledAt = base
		return nil
	})
	update(t, l, "empty", func(r *ledger.Record) error { return nil })
	for _, tt := range []struct {
		since time.Time
		want  []string
	}{
		{base, []string{"open", "unfulfilled", "unpaid"}},
		{base.Add(2 * time.Hour), []string{"open", "unfulfilled"}},
	} {
		got, err := l.Due(ctx, tt.since)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Due(%s) (-want +got):\n%s", tt.since.Format(time.TimeOnly), d)
		}
	}
	// Fulfilling the order and closing the attempt take them off the list.
	update(t, l, "open", func(r *ledger.Record) error { r.Attempts[0].State = ledger.AttemptLost; return nil })
	update(t, l, "unfulfilled", func(r *ledger.Record) error { r.Fulfilment.FulfilledAt = base; return nil })
	got, err := l.Due(ctx, base.Add(3*time.Hour))
	if err != nil || len(got) != 0 {
		t.Errorf("Due after the work was done = %v, %v; want none", got, err)
	}
}

func testClock(t *testing.T, l ledger.Ledger) {
	before := time.Now()
	var inFn time.Time
	update(t, l, "I1", func(r *ledger.Record) error { inFn = r.Now; return nil })
	r := read(t, l, "I1")
	for name, tm := range map[string]time.Time{"Update": inFn, "Read": r.Now} {
		if d := tm.Sub(before); d < -time.Minute || d > time.Minute {
			t.Errorf("%s's Now = %s, more than a minute from this machine's %s", name, tm, before)
		}
	}
	if r.Now.Before(inFn) {
		t.Errorf("Read's Now %s is before the earlier Update's %s", r.Now, inFn)
	}
}
