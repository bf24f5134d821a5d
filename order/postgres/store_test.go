package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"

	"github.com/yianpay/payorder/order/ordertest"
	"github.com/yianpay/payorder/order/postgres"
	"github.com/yianpay/payorder/pay"
)

var (
	_ pay.PaymentStore     = (*postgres.Store)(nil)
	_ pay.Locker           = (*postgres.Store)(nil)
	_ pay.OrderLocker      = (*postgres.Store)(nil)
	_ pay.OrderWithCharges = (*postgres.Store)(nil)
	_ ordertest.Store      = (*postgres.Store)(nil)
)

func TestConformance(t *testing.T) {
	ordertest.Run(t, func(t testing.TB) ordertest.Store { return newStore(t) })
}

func TestStoreKeepsValuesExactly(t *testing.T) {
	s := newStore(t)
	o := ordertest.SampleOrder("20261129000000000200")
	o.Metadata = map[string]any{
		"order_id": json.Number("12134676899915430002"), // beyond float64
		"ratio":    json.Number("1.5"),
		"name":     "二",
		"none":     nil,
		"flag":     true,
	}
	o.ExpiresAt = time.Time{} // never
	if err := s.PutContext(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	ns := time.Date(2026, 11, 29, 8, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
	updated, err := s.UpdateOrder(t.Context(), o.No, func(o *order.Order) error {
		o.ApplyPayment(order.Payment{ChargeID: "ch_exact", Channel: channel.Wx, Amount: 9900, Currency: "cny", TransactionNo: "4200", PaidAt: ns, EventID: "evt_exact"})
		o.ApplyRefund(order.Refund{ID: "re_exact", ChargeID: "ch_exact", Amount: 9900, SucceededAt: ns, EventID: "evt_re"})
		o.FulfilmentLeaseUntil = ns
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	exactTimes := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
	if diff := cmp.Diff(updated, got, exactTimes); diff != "" {
		t.Errorf("UpdateOrder returned what was not stored (-returned +stored):\n%s", diff)
	}
	want := o
	want.Status = order.StatusRefunded
	want.Paid = &order.Payment{ChargeID: "ch_exact", Channel: channel.Wx, Amount: 9900, Currency: "cny", TransactionNo: "4200", PaidAt: ns, EventID: "evt_exact"}
	want.Refunds = []order.Refund{{ID: "re_exact", ChargeID: "ch_exact", Amount: 9900, SucceededAt: ns, EventID: "evt_re"}}
	want.FulfilmentLeaseUntil = ns.Truncate(time.Microsecond) // PostgreSQL keeps microseconds
	if diff := cmp.Diff(want, got, exactTimes); diff != "" {
		t.Errorf("stored order (-want +got):\n%s", diff)
	}

	raw := json.RawMessage("{ \"object\": \"charge\",\n  \"id\":\"ch_exact\", \"amount\" : 9900, \"body\":\"\\u0000\" }")
	c := ordertest.SampleCharge(o.No, "ch_exact", channel.Wx)
	c.JSON = raw
	if err := s.AddCharge(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	charges, err := s.Charges(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if len(charges) != 1 {
		t.Fatalf("%d charges recorded, want 1", len(charges))
	}
	if string(charges[0].JSON) != string(raw) {
		t.Errorf("charge JSON changed by the store: %q, want %q", charges[0].JSON, raw)
	}
}

func TestPutRejectsMetadataThatIsNotJSON(t *testing.T) {
	s := newStore(t)
	o := ordertest.SampleOrder("20261129000000000201")
	o.Metadata = map[string]any{"ratio": math.Inf(1)}
	if err := s.PutContext(t.Context(), o); !errors.Is(err, payorder.ErrInvalidRequest) {
		t.Errorf("PutContext(metadata +Inf) = %v, want ErrInvalidRequest", err)
	}
	if _, err := s.Order(t.Context(), o.No); !errors.Is(err, payorder.ErrOrderNotFound) {
		t.Errorf("Order after a rejected Put = %v, want ErrOrderNotFound", err)
	}
}

func TestUpdateOrderReturnsFnErrorAsIs(t *testing.T) {
	s := newStore(t)
	o := ordertest.SampleOrder("20261129000000000202")
	if err := s.PutContext(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	busy := order.ErrFulfilmentBusy
	if _, err := s.UpdateOrder(t.Context(), o.No, func(*order.Order) error { return busy }); err != busy {
		t.Errorf("UpdateOrder = %v, want fn's error itself", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.UpdateOrder(ctx, o.No, func(*order.Order) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateOrder(cancelled ctx) = %v, want context.Canceled", err)
	}
}
