package pay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

func TestPayForOrderNeedsBuyerOrServer(t *testing.T) {
	e := setup(t)
	_, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay)
	if !errors.Is(err, payorder.ErrInvalidRequest) {
		t.Fatalf("PayForOrder without ForBuyer or AsServer = %v, want ErrInvalidRequest", err)
	}
	ch, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer())
	if err != nil || ch.OrderNo != seedOrderNo {
		t.Fatalf("AsServer: %v, %v", ch, err)
	}
	if e.emu.Stats().ChargesCreated != 1 {
		t.Errorf("charges created = %d", e.emu.Stats().ChargesCreated)
	}
}

func TestPaymentFailedWrapsPingppError(t *testing.T) {
	e := setup(t)
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultCustom, Status: 402,
		Body: `{"error":{"type":"channel_error","code":"channel_request_error","message":"对支付渠道的请求未能成功。"}}`})
	_, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
	if !errors.Is(err, payorder.ErrPaymentFailed) {
		t.Fatalf("err = %v, want ErrPaymentFailed", err)
	}
	var pe *pingxx.Error
	if !errors.As(err, &pe) || pe.HTTPStatus != 402 || pe.Type != "channel_error" || pe.Code != "channel_request_error" {
		t.Fatalf("errors.As(*pingxx.Error) = %+v", pe)
	}
}

func TestLiveChargeIsReusedWithoutPingpp(t *testing.T) {
	e := setup(t)
	first, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatal(err)
	}
	requests := e.emu.Stats().Requests
	second, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || string(second.JSON()) != string(first.JSON()) {
		t.Errorf("second call got %s, want the live charge %s", second.ID, first.ID)
	}
	if got := e.emu.Stats().Requests; got != requests {
		t.Errorf("reuse sent %d requests to Ping++", got-requests)
	}
	// Another channel is another charge.
	wx, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil || wx.ID == first.ID {
		t.Fatalf("wx charge: %v, %v", wx, err)
	}
}

func TestDifferentExtraIsADifferentCharge(t *testing.T) {
	e := setup(t)
	pay1, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.WxPub, pay.ForBuyer(seedBuyer), pay.Extra(map[string]any{"open_id": "a"}))
	if err != nil {
		t.Fatal(err)
	}
	pay2, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.WxPub, pay.ForBuyer(seedBuyer), pay.Extra(map[string]any{"open_id": "a"}))
	if err != nil || pay2.ID != pay1.ID {
		t.Fatalf("same open_id: %v, %v", pay2, err)
	}
	pay3, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.WxPub, pay.ForBuyer(seedBuyer), pay.Extra(map[string]any{"open_id": "b"}))
	if err != nil || pay3.ID == pay1.ID {
		t.Fatalf("another open_id got the first buyer's charge: %v, %v", pay3, err)
	}
	if pay3.OrderNo == pay1.OrderNo {
		t.Errorf("second WeChat charge reused Ping++ order_no %s, which WeChat refuses", pay1.OrderNo)
	}
}

func TestExpiredChargeIsReplaced(t *testing.T) {
	for _, ch := range []channel.Channel{channel.Alipay, channel.Wx} {
		t.Run(string(ch), func(t *testing.T) {
			e := setup(t)
			first, err := e.svc.PayForOrder(t.Context(), seedOrderNo, ch, pay.ForBuyer(seedBuyer))
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(first.ExpiresAt.Sub(e.clock.Now()) + time.Second)
			second, err := e.svc.PayForOrder(t.Context(), seedOrderNo, ch, pay.ForBuyer(seedBuyer))
			if err != nil {
				t.Fatal(err)
			}
			if second.ID == first.ID {
				t.Fatalf("expired charge %s handed out again", first.ID)
			}
			// Every attempt has a Ping++ number of its own (WeChat refuses a
			// reused one; for the others it keeps Ping++'s idempotency from
			// answering one attempt with another's charge).
			if first.OrderNo != seedOrderNo || second.OrderNo != seedOrderNo+"R2" {
				t.Errorf("order_no %s then %s, want %s then %sR2", first.OrderNo, second.OrderNo, seedOrderNo, seedOrderNo)
			}
			if whole(t, second).Metadata["order_no"] != seedOrderNo {
				t.Errorf("metadata.order_no = %v, want the merchant's %s", whole(t, second).Metadata["order_no"], seedOrderNo)
			}
		})
	}
}

func TestConcurrentCallsCreateOneCharge(t *testing.T) {
	e := setup(t)
	// Slow Ping++ down so that the callers really overlap.
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultLatency, Latency: 50 * time.Millisecond})
	const callers = 100
	ids := make(chan string, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := e.payForm(t, seedToken, seedOrderNo, "alipay")
			if res.env.Status != 0 {
				t.Errorf("got %s", res.body)
				return
			}
			ids <- decodeCharge(t, res.env.Ch).ID
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]int{}
	for id := range ids {
		seen[id]++
	}
	if len(seen) != 1 {
		t.Errorf("callers got %d different charges: %v", len(seen), seen)
	}
	// Ping++'s own idempotency would merge identical creates into one
	// charge: the callers must not even have asked twice.
	if st := e.emu.Stats(); st.ChargesCreated != 1 || st.ChargeRequests != 1 {
		t.Errorf("Ping++ got %d create requests and created %d charges, want 1 and 1", st.ChargeRequests, st.ChargesCreated)
	}
}

func TestDifferentOrdersDoNotWaitOnEachOther(t *testing.T) {
	e := setup(t)
	const orders = 8
	for i := range orders {
		o := order.Order{No: fmt.Sprintf("30000000000000000%03d", i), Buyer: seedBuyer, Amount: 100}
		if err := e.store.Put(o); err != nil {
			t.Fatal(err)
		}
	}
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultLatency, Latency: 200 * time.Millisecond})
	var wg sync.WaitGroup
	for i := range orders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.PayForOrder(context.Background(), fmt.Sprintf("30000000000000000%03d", i), channel.Alipay, pay.AsServer()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := e.emu.Stats()
	if st.ChargesCreated != orders {
		t.Errorf("created %d charges, want %d", st.ChargesCreated, orders)
	}
	if st.MaxInFlight < 2 {
		t.Errorf("at most %d Ping++ request in flight: orders waited on each other", st.MaxInFlight)
	}
}

func TestUnknownOutcomeIsLookedUp(t *testing.T) {
	e := setup(t)
	// Ping++ creates the charge but every answer to the create is lost.
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultReset, After: true})
	ch, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatalf("PayForOrder = %v; the charge exists and should have been found", err)
	}
	if got := e.emu.Stats().ChargesCreated; got != 1 {
		t.Errorf("Ping++ created %d charges, want 1", got)
	}
	e.emu.ClearFaults()
	again, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
	if err != nil || again.ID != ch.ID {
		t.Fatalf("after recovery got %v, %v; want the found charge %s", again, err, ch.ID)
	}
}

// TestUnknownOutcomeSurvivesRestart: the create's answer is lost and the
// lookup fails; the attempt is in the ledger, so a new instance (a restart)
// finds the charge instead of making a second.
func TestUnknownOutcomeSurvivesRestart(t *testing.T) {
	e := setup(t)
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultReset, After: true})
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteListCharges, Kind: pingpptest.FaultHTTP503JSON})
	_, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Wx, pay.ForBuyer(seedBuyer))
	if !errors.Is(err, payorder.ErrPaymentFailed) || !errors.Is(err, pingxx.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrPaymentFailed wrapping ErrOutcomeUnknown", err)
	}
	e.emu.ClearFaults()
	restarted := newInstance(t, e)
	ch, err := restarted.PayForOrder(t.Context(), seedOrderNo, channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.emu.Stats().ChargesCreated; got != 1 {
		t.Errorf("Ping++ created %d charges, want 1 (the lost one, %s)", got, ch.ID)
	}
}

// TestLostAttemptIsClosedAfterTheWindow: a create that never reached
// Ping++, with the lookup failing too, leaves an open attempt; once Ping++'s
// idempotency window is over the next caller lists the charges made around
// the attempt, finds none, closes it as lost with that evidence, and
// charges: no order is stuck.
func TestLostAttemptIsClosedAfterTheWindow(t *testing.T) {
	e := setup(t)
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultReset})
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteListCharges, Kind: pingpptest.FaultHTTP503JSON})
	if _, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer()); !errors.Is(err, payorder.ErrPaymentFailed) {
		t.Fatalf("err = %v, want ErrPaymentFailed", err)
	}
	e.emu.ClearFaults()
	e.clock.Advance(2 * time.Minute)
	ch, err := newInstance(t, e).PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.ledger.Read(t.Context(), seedOrderNo)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Attempts) != 2 || rec.Attempts[0].State != ledger.AttemptLost || !strings.Contains(rec.Attempts[0].Evidence, "no charge") ||
		rec.Attempts[1].State != ledger.AttemptCharged || rec.Attempts[1].ChargeID != ch.ID {
		t.Errorf("attempts %+v; want the first lost with evidence, the second charged with %s", rec.Attempts, ch.ID)
	}
	if st := e.emu.Stats(); st.ChargesCreated != 1 {
		t.Errorf("Ping++ created %d charges, want 1", st.ChargesCreated)
	}
}

// newInstance is another Service on e's order store, ledger and Ping++, as
// a second process (or a restarted one) would be.
func newInstance(t testing.TB, e *env, configure ...func(*pay.Config)) *pay.Service {
	t.Helper()
	cfg := pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now,
		Channels: []channel.Channel{channel.Alipay, channel.Wx, channel.AlipayWap, channel.WxPub}}
	for _, f := range configure {
		f(&cfg)
	}
	svc, err := pay.New(cfg, e.store, e.ledger, e.client)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestCancelledContext(t *testing.T) {
	e := setup(t)
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultNoAnswer})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := e.svc.PayForOrder(ctx, seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
	if !errors.Is(err, payorder.ErrPaymentFailed) {
		t.Fatalf("err = %v, want ErrPaymentFailed", err)
	}
}

func TestNewChecksItsConfig(t *testing.T) {
	store, l := &order.MemStore{}, &ledger.Memory{}
	for name, cfg := range map[string]pay.Config{
		"UnknownChannel": {AppID: "app_1", Channels: []channel.Channel{"bitcoin"}},
		"NoAppID":        {},
		"TwoHooks":       {AppID: "app_1", OnPaid: func(context.Context, pay.Fulfilment) error { return nil }, OnPaidTx: func(context.Context, any, pay.Fulfilment) error { return nil }},
	} {
		if _, err := pay.New(cfg, store, l, stubGateway{}); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

var (
	_ http.Handler      = (*pay.Handler)(nil)
	_ http.Handler      = (*pay.WebhookHandler)(nil)
	_ pay.OrderStore    = (*order.MemStore)(nil)
	_ pay.OrderStore    = pay.OrderStoreFunc(nil)
	_ ledger.Ledger     = (*ledger.Memory)(nil)
	_ pay.Gateway       = (*pingxx.Client)(nil)
	_ pay.TokenVerifier = pay.StaticTokens(nil)
	_ pay.TokenVerifier = pay.TokenVerifierFunc(nil)
)

// TestConcurrentWeChatChannelsGetDistinctOrderNos: wx and wx_pub share one
// WeChat merchant number space, so concurrent charges on them must not send
// the same order_no.
func TestConcurrentWeChatChannelsGetDistinctOrderNos(t *testing.T) {
	e := setup(t)
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultLatency, Latency: 50 * time.Millisecond})
	var wg sync.WaitGroup
	orderNos := make(chan string, 2)
	for _, call := range []struct {
		ch   channel.Channel
		opts []pay.PayOption
	}{
		{channel.Wx, nil},
		{channel.WxPub, []pay.PayOption{pay.Extra(map[string]any{"open_id": "o7xEMsySBFG3MVHI"})}},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.svc.PayForOrder(context.Background(), seedOrderNo, call.ch, append(call.opts, pay.AsServer())...)
			if err != nil {
				t.Error(err)
				return
			}
			orderNos <- c.OrderNo
		}()
	}
	wg.Wait()
	close(orderNos)
	a, b := <-orderNos, <-orderNos
	if a == b {
		t.Errorf("wx and wx_pub both sent order_no %s", a)
	}
}

// TestAttemptIsWrittenBeforePingppIsAsked: when the create is sent, the
// ledger already holds its attempt, open, with the number sent.
func TestAttemptIsWrittenBeforePingppIsAsked(t *testing.T) {
	e := setup(t)
	var seen []ledger.Attempt
	gw := createHook{e.client, func(p *pingxx.ChargeParams) {
		rec, err := e.ledger.Read(context.Background(), seedOrderNo)
		if err != nil {
			t.Error(err)
			return
		}
		seen = append(seen, rec.Attempts...)
		if a := rec.OpenAttempt("alipay"); a == nil || a.PingppOrderNo != p.OrderNo {
			t.Errorf("create of %s sent without an open attempt for it: %+v", p.OrderNo, rec.Attempts)
		}
	}}
	svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now}, e.store, e.ledger, gw)
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer())
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := e.ledger.Read(t.Context(), seedOrderNo)
	if len(seen) != 1 || len(rec.Attempts) != 1 || rec.Attempts[0].State != ledger.AttemptCharged || rec.Attempts[0].ChargeID != c.ID {
		t.Errorf("attempts before the create %+v, after %+v", seen, rec.Attempts)
	}
}

// createHook calls before ahead of every create.
type createHook struct {
	pay.Gateway
	before func(p *pingxx.ChargeParams)
}

func (g createHook) CreateCharge(ctx context.Context, p *pingxx.ChargeParams) (*pingxx.Charge, error) {
	g.before(p)
	return g.Gateway.CreateCharge(ctx, p)
}

func TestChargeExpiry(t *testing.T) {
	tests := []struct {
		name     string
		lifetime time.Duration
		ch       channel.Channel
		orderTTL time.Duration // 0: the order never expires
		want     time.Duration // from now; 0: Ping++'s default
	}{
		{"PingppDefault", 0, channel.Alipay, 0, 0},
		{"Configured", 30 * time.Minute, channel.Alipay, 0, 30 * time.Minute},
		{"CappedByChannel", 24 * time.Hour, channel.Wx, 0, 2 * time.Hour},
		{"CappedByOrder", 24 * time.Hour, channel.Alipay, 45 * time.Minute, 45 * time.Minute},
		{"OrderExpiryWithChannelDefault", 0, channel.Wx, 5 * time.Hour, 2 * time.Hour},
		{"AtLeastPingppMinimum", time.Hour, channel.Alipay, 10 * time.Second, time.Minute + 5*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, func(c *pay.Config, _ *pingpptest.Config) { c.ChargeLifetime = tt.lifetime })
			now := e.clock.Now()
			o := order.Order{No: "70000000000000000001", Buyer: seedBuyer, Amount: 100}
			if tt.orderTTL > 0 {
				o.ExpiresAt = now.Add(tt.orderTTL)
			}
			if err := e.store.Put(o); err != nil {
				t.Fatal(err)
			}
			c, err := e.svc.PayForOrder(t.Context(), o.No, tt.ch, pay.AsServer())
			if err != nil {
				t.Fatal(err)
			}
			want := now.Add(tt.want).Unix()
			if tt.want == 0 {
				want = now.Add(tt.ch.DefaultExpiry()).Unix()
			}
			if whole(t, c).TimeExpire != want {
				t.Errorf("time_expire = now%+ds, want now%+ds", whole(t, c).TimeExpire-now.Unix(), want-now.Unix())
			}
		})
	}
}

// TestNumberUsedBeforeTheLedgerIsSkipped: the backend payorder replaced
// made a wx charge with the order's number. Once WeChat's window has passed
// Ping++ refuses that number; the service charges under the next one
// instead of failing for ever.
func TestNumberUsedBeforeTheLedgerIsSkipped(t *testing.T) {
	e := setup(t)
	old, err := e.client.CreateCharge(t.Context(), &pingxx.ChargeParams{
		OrderNo: seedOrderNo, Channel: channel.Wx, Amount: 9900, Currency: "cny", ClientIP: "127.0.0.1",
		Subject: "collection的使用", Body: seedOrderNo, Metadata: map[string]any{"order_no": seedOrderNo},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Hour)
	ch, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatalf("PayForOrder = %v; want a charge under the next order number", err)
	}
	if ch.OrderNo != seedOrderNo+"R2" || ch.ID == old.ID {
		t.Errorf("got charge %s with order_no %s; want a new charge numbered %sR2", ch.ID, ch.OrderNo, seedOrderNo)
	}
	rec, _ := e.ledger.Read(t.Context(), seedOrderNo)
	if len(rec.Attempts) != 2 || rec.Attempts[0].State != ledger.AttemptFailed {
		t.Errorf("attempts %+v; want the refused one failed, then the charged one", rec.Attempts)
	}
}

// codeGateway returns charges built in code, with no JSON behind them, as a
// host's own Gateway might.
type codeGateway struct{ stubGateway }

func (codeGateway) CreateCharge(_ context.Context, p *pingxx.ChargeParams) (*pingxx.Charge, error) {
	return &pingxx.Charge{ID: "ch_code00000000000000000001", Object: "charge", Channel: p.Channel, App: p.AppID,
		OrderNo: p.OrderNo, Amount: p.Amount, Currency: p.Currency, Metadata: p.Metadata,
		TimeExpire: time.Now().Add(time.Hour).Unix()}, nil
}

func TestChargeBuiltInCodeIsAnsweredAndReused(t *testing.T) {
	store, err := order.NewMemStore(order.Order{No: seedOrderNo, Buyer: seedBuyer, Amount: 9900})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pay.New(pay.Config{AppID: "app_code"}, store, &ledger.Memory{}, codeGateway{})
	if err != nil {
		t.Fatal(err)
	}
	h := pay.NewHandler(svc, tokens)
	for i := range 2 {
		res := put(t, h, http.MethodPut, "Token "+seedToken, "", "order_no="+seedOrderNo+"&channel=alipay")
		if res.env.Status != 0 || decodeCharge(t, res.env.Ch).ID != "ch_code00000000000000000001" {
			t.Fatalf("call %d: %d %s", i, res.code, res.body)
		}
	}
}

func TestOrderFromStoreIsValidated(t *testing.T) {
	e := setup(t)
	bad := pay.OrderStoreFunc(func(ctx context.Context, no string) (order.Order, error) {
		return order.Order{No: no, Buyer: seedBuyer, Amount: -100}, nil
	})
	svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, bad, e.ledger, e.client)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer())
	if !errors.Is(err, payorder.ErrInternal) || e.emu.Stats().ChargeRequests != 0 {
		t.Errorf("negative amount: %v, %d create requests; want ErrInternal and none", err, e.emu.Stats().ChargeRequests)
	}
}

// readSignal is a Memory ledger that reports each Read.
type readSignal struct {
	*ledger.Memory
	read chan struct{}
}

func (l readSignal) Read(ctx context.Context, no string) (*ledger.Record, error) {
	r, err := l.Memory.Read(ctx, no)
	select {
	case l.read <- struct{}{}:
	default:
	}
	return r, err
}

// TestOrderPaidWhileWaitingIsNotCharged: a caller that waits for another
// instance's attempt finds the order paid meanwhile, and charges nothing.
func TestOrderPaidWhileWaitingIsNotCharged(t *testing.T) {
	e := setup(t)
	started, release := make(chan struct{}), make(chan struct{})
	slow := createHook{e.client, func(*pingxx.ChargeParams) { close(started); <-release }}
	first, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now}, e.store, e.ledger, slow)
	if err != nil {
		t.Fatal(err)
	}
	watched := readSignal{e.ledger, make(chan struct{})}
	second, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now}, e.store, watched, e.client)
	if err != nil {
		t.Fatal(err)
	}
	firstDone, secondDone := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := first.PayForOrder(context.Background(), seedOrderNo, channel.Alipay, pay.AsServer())
		firstDone <- err
	}()
	<-started
	go func() {
		_, err := second.PayForOrder(context.Background(), seedOrderNo, channel.Alipay, pay.AsServer())
		secondDone <- err
	}()
	// The second has read the ledger three times: it is waiting for the first.
	for range 3 {
		<-watched.read
	}
	markPaid(t, e.ledger, seedOrderNo, 9900)
	if err := <-secondDone; !errors.Is(err, payorder.ErrOrderNotPayable) {
		t.Errorf("second caller, after the order was paid = %v, want ErrOrderNotPayable", err)
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatalf("first caller: %v", err)
	}
	if st := e.emu.Stats(); st.ChargeRequests != 1 {
		t.Errorf("Ping++ got %d create requests, want 1", st.ChargeRequests)
	}
}

// TestBalancePaysFromTheBuyersOwnBalance: balance's extra.user names whose
// Ping++ balance pays; acting for a buyer it is always that buyer.
func TestBalancePaysFromTheBuyersOwnBalance(t *testing.T) {
	e := setup(t, func(c *pay.Config, _ *pingpptest.Config) { c.Channels = []channel.Channel{channel.Balance} })
	_, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Balance, pay.ForBuyer(seedBuyer),
		pay.Extra(map[string]any{"user": otherBuyer}))
	if !errors.Is(err, payorder.ErrInvalidChannel) {
		t.Fatalf("a balance payment from another user's balance = %v, want ErrInvalidChannel", err)
	}
	if n := e.emu.Stats().ChargeRequests; n != 0 {
		t.Errorf("the refused call sent %d creates", n)
	}
	c, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Balance, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatal(err)
	}
	if user := whole(t, c).Extra["user"]; user != seedBuyer {
		t.Errorf("balance charge made for user %v, want the buyer %s", user, seedBuyer)
	}
}

// countingLedger counts the reads and updates of a Memory ledger.
type countingLedger struct {
	*ledger.Memory
	reads, updates *atomic.Int64
}

func (l countingLedger) Read(ctx context.Context, no string) (*ledger.Record, error) {
	l.reads.Add(1)
	return l.Memory.Read(ctx, no)
}

func (l countingLedger) Update(ctx context.Context, no string, fn func(*ledger.Record, any) error) (*ledger.Record, error) {
	l.updates.Add(1)
	return l.Memory.Update(ctx, no, fn)
}

// TestForeignOrderCostsWhatAMissingOneDoes: refusing another buyer's order
// does the same work as refusing a missing one (one read of the host's
// store, nothing of the ledger), so that timing does not tell which order
// numbers exist.
func TestForeignOrderCostsWhatAMissingOneDoes(t *testing.T) {
	e := setup(t)
	work := func(no string) (store, ledgerOps int64) {
		var reads, lreads, lupdates atomic.Int64
		svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, countingStore{e.store, &reads},
			countingLedger{e.ledger, &lreads, &lupdates}, e.client)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.PayForOrder(t.Context(), no, channel.Alipay, pay.ForBuyer(seedBuyer)); !errors.Is(err, payorder.ErrOrderNotFound) {
			t.Fatalf("PayForOrder(%s) = %v, want ErrOrderNotFound", no, err)
		}
		return reads.Load(), lreads.Load() + lupdates.Load()
	}
	foreignStore, foreignLedger := work(otherOrderNo)
	missingStore, missingLedger := work("99999999999999999999")
	if foreignStore != 1 || missingStore != 1 || foreignLedger != 0 || missingLedger != 0 {
		t.Errorf("foreign order: %d store reads, %d ledger operations; missing: %d and %d; want 1 and 0 for both",
			foreignStore, foreignLedger, missingStore, missingLedger)
	}
}
