package pay_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingxx"
)

// pausingGateway parks one create, before or after Ping++ made the charge,
// until resume is closed: an instance paused (GC, SIGSTOP, a slow VM) while
// it holds the order's attempt.
type pausingGateway struct {
	pay.Gateway
	afterSend bool
	paused    chan struct{} // closed when the create is parked
	resume    chan struct{}
}

func (g *pausingGateway) CreateCharge(ctx context.Context, p *pingxx.ChargeParams) (c *pingxx.Charge, err error) {
	g.park(func() { c, err = g.Gateway.CreateCharge(ctx, p) })
	return c, err
}

// park runs send once, parked before or after it until resume is closed.
func (g *pausingGateway) park(send func()) {
	if g.afterSend {
		send()
	}
	close(g.paused)
	<-g.resume
	if !g.afterSend {
		send()
	}
}

// TestPausedHolderNeverHandsOutASecondCharge: an instance holding the
// order's attempt is paused past its lease and past Ping++'s one-minute
// idempotency window; a second instance takes the attempt over. Whether the
// paused one had sent its create or not, both buyers get the same charge,
// and a charge the paused one makes late is kept as the order's orphan.
func TestPausedHolderNeverHandsOutASecondCharge(t *testing.T) {
	for _, tt := range []struct {
		name        string
		afterSend   bool
		wantCreated int64
	}{
		{"PausedAfterSend", true, 1},
		{"PausedBeforeSend", false, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			gw := &pausingGateway{Gateway: e.client, afterSend: tt.afterSend, paused: make(chan struct{}), resume: make(chan struct{})}
			paused, err := pay.New(pay.Config{AppID: e.cfgAppID(), Now: e.clock.Now}, e.store, e.ledger, gw)
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				c   *pay.Charge
				err error
			}
			first := make(chan result, 1)
			go func() {
				c, err := paused.PayForOrder(context.Background(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
				first <- result{c, err}
			}()
			<-gw.paused
			e.clock.Advance(pay.DefaultLockTTL + 2*time.Minute)

			second, err := newInstance(t, e).PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
			if err != nil {
				t.Fatalf("second instance: %v", err)
			}
			close(gw.resume)
			r := <-first
			if r.err != nil {
				t.Fatalf("paused instance after it resumed: %v", r.err)
			}
			if r.c.ID != second.ID {
				t.Errorf("the buyers got two charges: %s (paused instance) and %s", r.c.ID, second.ID)
			}
			if got := e.emu.Stats().ChargesCreated; got != tt.wantCreated {
				t.Errorf("Ping++ created %d charges, want %d", got, tt.wantCreated)
			}
			rec, _ := e.ledger.Read(t.Context(), seedOrderNo)
			live, orphans := 0, 0
			for _, c := range rec.Charges {
				if c.Orphan {
					orphans++
				} else {
					live++
				}
			}
			if live != 1 || int64(orphans) != tt.wantCreated-1 {
				t.Errorf("ledger holds %d charges handed out and %d orphans, want 1 and %d", live, orphans, tt.wantCreated-1)
			}
		})
	}
}

func (e *env) cfgAppID() string { return e.client.AppID() }

// TestPingppNumberNeverAnotherOrders: the re-payment of order A1 does not
// take the number of an order A1R2, and an order whose own number an
// earlier re-payment took gets another; each buyer only ever gets their own
// order's charge.
func TestPingppNumberNeverAnotherOrders(t *testing.T) {
	e := setup(t)
	put := func(no, buyer string) {
		t.Helper()
		if err := e.store.Put(order.Order{No: no, Buyer: buyer, Amount: 100}); err != nil {
			t.Fatal(err)
		}
	}
	put("A1", seedBuyer)
	put("A1R2", otherBuyer)
	first, err := e.svc.PayForOrder(t.Context(), "A1", channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Hour)
	again, err := e.svc.PayForOrder(t.Context(), "A1", channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatal(err)
	}
	if first.OrderNo != "A1" || again.OrderNo != "A1R3" {
		t.Errorf("A1's numbers %s then %s, want A1 then A1R3 (A1R2 is another order)", first.OrderNo, again.OrderNo)
	}
	other, err := e.svc.PayForOrder(t.Context(), "A1R2", channel.Wx, pay.ForBuyer(otherBuyer))
	if err != nil || other.OrderNo != "A1R2" || whole(t, other).Metadata["order_no"] != "A1R2" {
		t.Fatalf("A1R2's own charge: %v, %v", other, err)
	}

	// A1R3 appears in the host's store after A1 used its number.
	put("A1R3", otherBuyer)
	late, err := e.svc.PayForOrder(t.Context(), "A1R3", channel.Wx, pay.ForBuyer(otherBuyer))
	if err != nil {
		t.Fatal(err)
	}
	if late.OrderNo == "A1R3" || late.ID == again.ID || whole(t, late).Metadata["order_no"] != "A1R3" {
		t.Errorf("A1R3 got charge %s numbered %s for order %v; A1's charge is %s", late.ID, late.OrderNo, whole(t, late).Metadata["order_no"], again.ID)
	}
	mine, err := e.svc.PayForOrder(t.Context(), "A1", channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil || mine.ID != again.ID {
		t.Errorf("A1 again: %v, %v; want its live charge %s", mine, err, again.ID)
	}
}

// TestLiveChargesPerOrderAreBounded: varying extra makes a new charge each
// time, but only up to MaxLiveCharges; past it nothing is asked of Ping++.
func TestLiveChargesPerOrderAreBounded(t *testing.T) {
	e := setup(t)
	for i, url := range []string{"https://a.example/1", "https://a.example/2", "https://a.example/3"} {
		c, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.AlipayWap, pay.AsServer(), pay.Extra(map[string]any{"success_url": url}))
		if err != nil {
			t.Fatalf("charge %d: %v", i+1, err)
		}
		if whole(t, c).Extra["success_url"] != url {
			t.Errorf("charge %d made with success_url %v, want %s", i+1, whole(t, c).Extra["success_url"], url)
		}
	}
	requests := e.emu.Stats().ChargeRequests
	_, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.AlipayWap, pay.AsServer(), pay.Extra(map[string]any{"success_url": "https://a.example/4"}))
	if !errors.Is(err, payorder.ErrTooManyCharges) || payorder.ErrorCode(err).Status() != -4 {
		t.Errorf("fourth live charge = %v, want ErrTooManyCharges (status -4)", err)
	}
	if got := e.emu.Stats().ChargeRequests; got != requests {
		t.Errorf("the refused call sent %d creates", got-requests)
	}
	// Once they expire, the order can be charged again.
	e.clock.Advance(25 * time.Hour)
	if _, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.AlipayWap, pay.AsServer(), pay.Extra(map[string]any{"success_url": "https://a.example/4"})); err != nil {
		t.Errorf("after the charges expired: %v", err)
	}
}

// TestMismatchedChargeIsNeverHandedOut: Ping++ answers a create with a
// charge made for another extra (its idempotency window ignores extra):
// it is kept as the order's orphan, not recorded as made for this extra, and
// the call fails.
func TestMismatchedChargeIsNeverHandedOut(t *testing.T) {
	e := setup(t)
	other := &pingxx.ChargeParams{
		OrderNo: seedOrderNo, Channel: channel.AlipayWap, Amount: 9900, Currency: "cny", ClientIP: "127.0.0.1",
		Subject: "collection的使用", Body: seedOrderNo, Extra: map[string]any{"success_url": "https://other.example/"},
		Metadata: map[string]any{"order_no": seedOrderNo},
	}
	first, err := e.client.CreateCharge(t.Context(), other)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.PayForOrder(t.Context(), seedOrderNo, channel.AlipayWap, pay.AsServer(), pay.Extra(map[string]any{"success_url": "https://mine.example/"}))
	if !errors.Is(err, payorder.ErrPaymentFailed) {
		t.Fatalf("PayForOrder = %v, want ErrPaymentFailed", err)
	}
	rec, _ := e.ledger.Read(t.Context(), seedOrderNo)
	if len(rec.Attempts) != 1 || rec.Attempts[0].State != ledger.AttemptMismatched {
		t.Errorf("attempts %+v, want one mismatched", rec.Attempts)
	}
	if c := rec.Charge(first.ID); c == nil || !c.Orphan {
		t.Errorf("charge %s for the other extra kept as %+v, want an orphan", first.ID, c)
	}
	// The next call uses a number of its own and gets its own charge.
	c, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.AlipayWap, pay.AsServer(), pay.Extra(map[string]any{"success_url": "https://mine.example/"}))
	if err != nil || c.ID == first.ID || whole(t, c).Extra["success_url"] != "https://mine.example/" {
		t.Errorf("next call: %v, %v", c, err)
	}
}
