package ordertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
)

// Store is what the suite exercises: the methods of pay.OrderStore and
// pay.PaymentStore, plus Put to seed orders.
type Store interface {
	Put(o order.Order) error
	Order(ctx context.Context, no string) (order.Order, error)
	Charges(ctx context.Context, no string) ([]order.Charge, error)
	AddCharge(ctx context.Context, c order.Charge) error
	UpdateOrder(ctx context.Context, no string, fn func(*order.Order) error) (order.Order, error)
	OrderByCharge(ctx context.Context, chargeID string) (order.Order, error)
	RecordAnomaly(ctx context.Context, a order.Anomaly) (bool, error)
	Anomalies(ctx context.Context) ([]order.Anomaly, error)
	PendingCharges(ctx context.Context, since time.Time) ([]order.Charge, error)
}

// Run runs the suite. newStore returns a new, empty store for each subtest.
func Run(t *testing.T, newStore func(t testing.TB) Store) {
	t.Run("OrderRoundTrip", func(t *testing.T) { testOrderRoundTrip(t, newStore(t)) })
	t.Run("ErrOrderNotFound", func(t *testing.T) { testNotFound(t, newStore(t)) })
	t.Run("PutReplacesKeepingCharges", func(t *testing.T) { testPutReplaces(t, newStore(t)) })
	t.Run("ChargesInOrderAndOnce", func(t *testing.T) { testCharges(t, newStore(t)) })
	t.Run("ConcurrentAddCharge", func(t *testing.T) { testConcurrentAdd(t, newStore(t)) })
	t.Run("CopiesAreIndependent", func(t *testing.T) { testCopies(t, newStore(t)) })
	t.Run("PaymentStateRoundTrip", func(t *testing.T) { testPaymentRoundTrip(t, newStore(t)) })
	t.Run("PutKeepsPaymentState", func(t *testing.T) { testPutKeepsPayment(t, newStore(t)) })
	t.Run("UpdateOrderErrorChangesNothing", func(t *testing.T) { testUpdateError(t, newStore(t)) })
	t.Run("UpdateOrderIsAtomic", func(t *testing.T) { testUpdateAtomic(t, newStore(t)) })
	t.Run("ConcurrentPaymentsApplyOnce", func(t *testing.T) { testConcurrentPayments(t, newStore(t)) })
	t.Run("OrderByCharge", func(t *testing.T) { testOrderByCharge(t, newStore(t)) })
	t.Run("AnomaliesKeptOnce", func(t *testing.T) { testAnomalies(t, newStore(t)) })
	t.Run("PendingCharges", func(t *testing.T) { testPendingCharges(t, newStore(t)) })
	t.Run("OrderWithCharges", func(t *testing.T) { testOrderWithCharges(t, newStore(t)) })
}

// SampleOrder returns a valid unpaid order numbered no.
func SampleOrder(no string) order.Order {
	return order.Order{
		No:        no,
		Buyer:     "15201052252",
		Amount:    9900,
		Currency:  "cny",
		Subject:   "collection的使用",
		Body:      no,
		Metadata:  map[string]any{"order_id": json.Number("1"), "buyer": "15201052252", "names": "collection的使用", "courses": "1"},
		Status:    order.StatusUnpaid,
		CreatedAt: time.Date(2016, 6, 17, 7, 56, 15, 0, time.UTC),
		ExpiresAt: time.Date(2036, 6, 17, 7, 56, 15, 0, time.UTC),
	}
}

// SampleCharge returns a charge record for order no.
func SampleCharge(no, id string, ch channel.Channel) order.Charge {
	created := time.Date(2016, 6, 17, 7, 50, 51, 0, time.UTC)
	return order.Charge{
		ID: id, OrderNo: no, PingppOrderNo: no, Channel: ch, Amount: 9900, Currency: "cny",
		ExtraKey: "{}", AppID: "app_GuHu9Of9KaTG5GiT", Livemode: false,
		CreatedAt: created, ExpiresAt: created.Add(24 * time.Hour),
		JSON: json.RawMessage(fmt.Sprintf(`{"id":%q,"object":"charge","order_no":%q,"amount":9900}`, id, no)),
	}
}

var cmpOpts = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmp.Transformer("json", func(r json.RawMessage) string { return string(r) }),
	// Stores may decode metadata numbers as json.Number or float64.
	cmp.Transformer("metadata", normalizeMetadata),
}

func normalizeMetadata(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func mustPut(t testing.TB, s Store, o order.Order) {
	t.Helper()
	if err := s.Put(o); err != nil {
		t.Fatalf("Put(%s): %v", o.No, err)
	}
}

func testOrderRoundTrip(t *testing.T, s Store) {
	want := SampleOrder("12134676899915430002")
	mustPut(t, s, want)
	got, err := s.Order(t.Context(), want.No)
	if err != nil {
		t.Fatalf("Order: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Order mismatch (-want +got):\n%s", diff)
	}
}

func testNotFound(t *testing.T, s Store) {
	if _, err := s.Order(t.Context(), "nosuchorder1"); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("Order(missing) = %v, want ErrOrderNotFound", err)
	}
	if _, err := s.Charges(t.Context(), "nosuchorder1"); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("Charges(missing) = %v, want ErrOrderNotFound", err)
	}
	if err := s.AddCharge(t.Context(), SampleCharge("nosuchorder1", "ch_x", channel.Alipay)); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("AddCharge(missing order) = %v, want ErrOrderNotFound", err)
	}
	if err := s.Put(order.Order{No: "bad no!", Amount: 1}); !errors.Is(err, payorder.ErrInvalidRequest) {
		t.Errorf("Put(invalid) = %v, want ErrInvalidRequest", err)
	}
}

func testPutReplaces(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000001")
	mustPut(t, s, o)
	c := SampleCharge(o.No, "ch_replace000000000000000001", channel.Alipay)
	if err := s.AddCharge(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	o.Amount = 100
	o.Subject = "changed"
	mustPut(t, s, o)
	got, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if got.Amount != 100 || got.Subject != "changed" {
		t.Errorf("after Put: amount %d subject %q, want 100 changed", got.Amount, got.Subject)
	}
	charges, err := s.Charges(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]order.Charge{c}, charges, cmpOpts); diff != "" {
		t.Errorf("charges lost by Put (-want +got):\n%s", diff)
	}
}

func testCharges(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000002")
	mustPut(t, s, o)
	a := SampleCharge(o.No, "ch_a00000000000000000000001", channel.Alipay)
	b := SampleCharge(o.No, "ch_b00000000000000000000002", channel.Wx)
	b.CreatedAt = a.CreatedAt.Add(time.Minute)
	for _, c := range []order.Charge{a, b, a} {
		if err := s.AddCharge(t.Context(), c); err != nil {
			t.Fatalf("AddCharge(%s): %v", c.ID, err)
		}
	}
	got, err := s.Charges(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]order.Charge{a, b}, got, cmpOpts); diff != "" {
		t.Errorf("Charges (-want +got):\n%s", diff)
	}
}

func testConcurrentAdd(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000003")
	mustPut(t, s, o)
	const writers = 16
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half the writers record the same charge; the rest distinct ones.
			id := "ch_same0000000000000000000"
			if i%2 == 1 {
				id = fmt.Sprintf("ch_diff%020d", i)
			}
			errs <- s.AddCharge(context.Background(), SampleCharge(o.No, id, channel.Alipay))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("AddCharge: %v", err)
		}
	}
	got, err := s.Charges(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + writers/2; len(got) != want {
		t.Errorf("got %d charges, want %d (one per distinct id)", len(got), want)
	}
}

func testCopies(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000004")
	mustPut(t, s, o)
	o.Metadata["buyer"] = "someone else"
	got, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata["buyer"] != "15201052252" {
		t.Errorf("store shares metadata with the caller of Put: %v", got.Metadata["buyer"])
	}
	got.Metadata["buyer"] = "mutated"
	again, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if again.Metadata["buyer"] != "15201052252" {
		t.Errorf("store shares metadata with the caller of Order: %v", again.Metadata["buyer"])
	}
}

func samplePayment(chargeID string) order.Payment {
	return order.Payment{
		ChargeID: chargeID, Channel: channel.Alipay, Amount: 9900, Currency: "cny",
		TransactionNo: "2016122028818332", PaidAt: time.Date(2016, 6, 17, 8, 0, 0, 0, time.UTC), EventID: "evt_1",
	}
}

func mustUpdate(t testing.TB, s Store, no string, fn func(*order.Order) error) order.Order {
	t.Helper()
	o, err := s.UpdateOrder(t.Context(), no, fn)
	if err != nil {
		t.Fatalf("UpdateOrder(%s): %v", no, err)
	}
	return o
}

func testPaymentRoundTrip(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000010")
	mustPut(t, s, o)
	lease := time.Date(2016, 6, 17, 8, 1, 0, 0, time.UTC)
	updated := mustUpdate(t, s, o.No, func(o *order.Order) error {
		o.ApplyPayment(samplePayment("ch_paid000000000000000000001"))
		o.ApplyRefund(order.Refund{ID: "re_1", ChargeID: "ch_paid000000000000000000001", Amount: 100, SucceededAt: lease, EventID: "evt_2"})
		o.FulfilmentLeaseUntil, o.FulfilmentClaim = lease, "claim-1"
		return nil
	})
	got, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(updated, got, cmpOpts); diff != "" {
		t.Errorf("payment state lost (-updated +stored):\n%s", diff)
	}
	if got.Status != order.StatusPartiallyRefunded || got.Paid == nil || got.AmountRefunded() != 100 {
		t.Errorf("stored status %s, paid %v, refunded %d", got.Status, got.Paid, got.AmountRefunded())
	}
	if _, err := s.UpdateOrder(t.Context(), "nosuchorder1", func(*order.Order) error { return nil }); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("UpdateOrder(missing) = %v, want ErrOrderNotFound", err)
	}
}

func testPutKeepsPayment(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000011")
	mustPut(t, s, o)
	mustUpdate(t, s, o.No, func(o *order.Order) error { o.ApplyPayment(samplePayment("ch_keep")); return nil })
	o.Subject = "renamed"
	mustPut(t, s, o)
	got, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "renamed" || got.Status != order.StatusPaid || got.Paid == nil || got.Paid.ChargeID != "ch_keep" {
		t.Errorf("after Put: subject %q status %s paid %+v", got.Subject, got.Status, got.Paid)
	}
}

func testUpdateError(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000012")
	mustPut(t, s, o)
	boom := errors.New("boom")
	_, err := s.UpdateOrder(t.Context(), o.No, func(o *order.Order) error {
		o.ApplyPayment(samplePayment("ch_x"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateOrder = %v, want fn's error", err)
	}
	got, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != order.StatusUnpaid || got.Paid != nil {
		t.Errorf("a failed update changed the order: %s %+v", got.Status, got.Paid)
	}
}

// testUpdateAtomic records refunds from many goroutines at once: every one
// must survive, which fails when updates read, then write, without exclusion.
func testUpdateAtomic(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000013")
	mustPut(t, s, o)
	const writers = 20
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateOrder(context.Background(), o.No, func(o *order.Order) error {
				o.ApplyRefund(order.Refund{ID: fmt.Sprintf("re_%d", i), Amount: 1})
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Refunds) != writers {
		t.Errorf("%d refunds survived concurrent updates, want %d", len(got.Refunds), writers)
	}
}

func testConcurrentPayments(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000014")
	mustPut(t, s, o)
	const deliveries = 10
	outcomes := make(chan order.PaymentOutcome, deliveries)
	var wg sync.WaitGroup
	for range deliveries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var outcome order.PaymentOutcome
			_, err := s.UpdateOrder(context.Background(), o.No, func(o *order.Order) error {
				outcome = o.ApplyPayment(samplePayment("ch_once"))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			outcomes <- outcome
		}()
	}
	wg.Wait()
	close(outcomes)
	count := map[order.PaymentOutcome]int{}
	for oc := range outcomes {
		count[oc]++
	}
	if count[order.PaymentApplied] != 1 || count[order.PaymentDuplicate] != deliveries-1 {
		t.Errorf("outcomes %v, want one applied and the rest duplicates", count)
	}
}

func testOrderByCharge(t *testing.T, s Store) {
	o := SampleOrder("20261129000000000015")
	mustPut(t, s, o)
	c := SampleCharge(o.No, "ch_bycharge0000000000000001", channel.Wx)
	if err := s.AddCharge(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.OrderByCharge(t.Context(), c.ID)
	if err != nil || got.No != o.No {
		t.Fatalf("OrderByCharge = %v, %v", got.No, err)
	}
	if _, err := s.OrderByCharge(t.Context(), "ch_unknown"); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("OrderByCharge(unknown) = %v, want ErrOrderNotFound", err)
	}
}

func testAnomalies(t *testing.T, s Store) {
	a := order.Anomaly{
		ID: order.AnomalyID(order.AnomalyDoublePayment, "ch_2"), Kind: order.AnomalyDoublePayment,
		OrderNo: "20261129000000000016", ChargeID: "ch_2", Amount: 9900, Currency: "cny",
		Detail: "paid twice", Event: []byte(`{"id":"evt_1"}`), CreatedAt: time.Date(2016, 6, 17, 8, 0, 0, 0, time.UTC),
	}
	b := a
	b.ID, b.Kind, b.OrderNo = order.AnomalyID(order.AnomalyUnknownOrder, "ch_3"), order.AnomalyUnknownOrder, ""
	for i, x := range []order.Anomaly{a, a, b} {
		created, err := s.RecordAnomaly(t.Context(), x)
		if err != nil {
			t.Fatal(err)
		}
		if want := i != 1; created != want {
			t.Errorf("RecordAnomaly #%d created = %v, want %v", i, created, want)
		}
	}
	got, err := s.Anomalies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]order.Anomaly{a, b}, got, cmpOpts); diff != "" {
		t.Errorf("Anomalies (-want +got):\n%s", diff)
	}
}

func testPendingCharges(t *testing.T, s Store) {
	unpaid, paid, fulfilled := SampleOrder("20261129000000000017"), SampleOrder("20261129000000000018"), SampleOrder("20261129000000000019")
	for _, o := range []order.Order{unpaid, paid, fulfilled} {
		mustPut(t, s, o)
	}
	live := SampleCharge(unpaid.No, "ch_live", channel.Alipay)
	old := SampleCharge(unpaid.No, "ch_old", channel.Wx)
	old.ExpiresAt = live.CreatedAt.Add(-time.Hour)
	ofPaid := SampleCharge(paid.No, "ch_ofpaid", channel.Alipay)
	ofPaid.ExpiresAt = old.ExpiresAt // paid, hook not run: pending however old
	ofFulfilled := SampleCharge(fulfilled.No, "ch_offulfilled", channel.Alipay)
	for _, c := range []order.Charge{live, old, ofPaid, ofFulfilled} {
		if err := s.AddCharge(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	mustUpdate(t, s, paid.No, func(o *order.Order) error { o.ApplyPayment(samplePayment("ch_ofpaid")); return nil })
	mustUpdate(t, s, fulfilled.No, func(o *order.Order) error {
		o.ApplyPayment(samplePayment("ch_offulfilled"))
		o.FinishFulfilment(live.CreatedAt, "", true)
		return nil
	})
	got, err := s.PendingCharges(t.Context(), live.CreatedAt)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	if diff := cmp.Diff([]string{"ch_live", "ch_ofpaid"}, ids, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("PendingCharges (-want +got):\n%s", diff)
	}
}

// testOrderWithCharges checks the optional OrderWithCharges against Order
// and Charges, when the store has it.
func testOrderWithCharges(t *testing.T, s Store) {
	both, ok := s.(interface {
		OrderWithCharges(ctx context.Context, no string) (order.Order, []order.Charge, error)
	})
	if !ok {
		t.Skip("the store does not implement OrderWithCharges")
	}
	o := SampleOrder("20261129000000000020")
	mustPut(t, s, o)
	if _, charges, err := both.OrderWithCharges(t.Context(), o.No); err != nil || len(charges) != 0 {
		t.Fatalf("OrderWithCharges(no charges) = %v, %v", charges, err)
	}
	for _, id := range []string{"ch_first", "ch_second"} {
		if err := s.AddCharge(t.Context(), SampleCharge(o.No, id, channel.Alipay)); err != nil {
			t.Fatal(err)
		}
	}
	gotOrder, gotCharges, err := both.OrderWithCharges(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	wantOrder, _ := s.Order(t.Context(), o.No)
	wantCharges, _ := s.Charges(t.Context(), o.No)
	if diff := cmp.Diff(wantOrder, gotOrder, cmpOpts); diff != "" {
		t.Errorf("order (-Order +OrderWithCharges):\n%s", diff)
	}
	if diff := cmp.Diff(wantCharges, gotCharges, cmpOpts); diff != "" {
		t.Errorf("charges (-Charges +OrderWithCharges):\n%s", diff)
	}
	if _, _, err := both.OrderWithCharges(t.Context(), "nosuchorder1"); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("OrderWithCharges(missing) = %v, want ErrOrderNotFound", err)
	}
}
