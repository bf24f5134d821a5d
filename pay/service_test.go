package pay_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
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
	if second.ID != first.ID || string(second.Raw()) != string(first.Raw()) {
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
	for _, tt := range []struct {
		ch          channel.Channel
		sameOrderNo bool
	}{
		{channel.Alipay, true}, // Ping++ makes a new alipay charge for a repeated order_no
		{channel.Wx, false},    // WeChat refuses it: a derived order_no is sent
	} {
		t.Run(string(tt.ch), func(t *testing.T) {
			e := setup(t)
			first, err := e.svc.PayForOrder(t.Context(), seedOrderNo, tt.ch, pay.ForBuyer(seedBuyer))
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Duration(first.TimeExpire-first.Created)*time.Second + time.Second)
			second, err := e.svc.PayForOrder(t.Context(), seedOrderNo, tt.ch, pay.ForBuyer(seedBuyer))
			if err != nil {
				t.Fatal(err)
			}
			if second.ID == first.ID {
				t.Fatalf("expired charge %s handed out again", first.ID)
			}
			if (second.OrderNo == first.OrderNo) != tt.sameOrderNo {
				t.Errorf("order_no %s then %s; same wanted: %v", first.OrderNo, second.OrderNo, tt.sameOrderNo)
			}
			if second.Metadata["order_no"] != seedOrderNo {
				t.Errorf("metadata.order_no = %v, want the merchant's %s", second.Metadata["order_no"], seedOrderNo)
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

func TestUnknownOutcomeUnresolvedThenFound(t *testing.T) {
	e := setup(t)
	// The create is answered by nothing and the look-up fails too.
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultReset, After: true})
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteListCharges, Kind: pingpptest.FaultHTTP503JSON})
	_, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Wx, pay.ForBuyer(seedBuyer))
	if !errors.Is(err, payorder.ErrPaymentFailed) || !errors.Is(err, pingxx.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrPaymentFailed wrapping ErrOutcomeUnknown", err)
	}
	e.emu.ClearFaults()
	ch, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.emu.Stats().ChargesCreated; got != 1 {
		t.Errorf("Ping++ created %d charges, want 1 (the lost one, %s)", got, ch.ID)
	}
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

func TestConfigRejectsUnknownChannel(t *testing.T) {
	_, err := pay.New(pay.Config{Channels: []channel.Channel{"bitcoin"}}, &order.MemStore{}, stubGateway{})
	if err == nil {
		t.Fatal("New accepted an unknown channel")
	}
}

var (
	_ http.Handler         = (*pay.Handler)(nil)
	_ http.Handler         = (*pay.WebhookHandler)(nil)
	_ pay.PaymentStore     = (*order.MemStore)(nil)
	_ pay.OrderWithCharges = (*order.MemStore)(nil)
	_ pay.Gateway          = (*pingxx.Client)(nil)
	_ pay.TokenVerifier    = pay.StaticTokens(nil)
	_ pay.TokenVerifier    = pay.TokenVerifierFunc(nil)
	_ pay.Locker           = pay.LockerFunc(nil)
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

// lockedStore is a MemStore that takes its cross-process lock from a function.
type lockedStore struct {
	*order.MemStore
	pay.LockerFunc
}

func TestLockerIsHeldAroundTheCreate(t *testing.T) {
	e := setup(t)
	var keys []string
	var held atomic.Bool
	store := lockedStore{e.store, func(ctx context.Context, key string, ttl time.Duration) (func(), error) {
		keys = append(keys, key)
		held.Store(true)
		return func() { held.Store(false) }, nil
	}}
	svc, err := pay.New(pay.Config{Now: e.clock.Now}, store, lockCheckingGateway{e.client, &held, t})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer()); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"payorder:charge:" + seedOrderNo + "/alipay"}; !slices.Equal(keys, want) {
		t.Errorf("locked %v, want %v (the reuse takes no lock)", keys, want)
	}
	if held.Load() {
		t.Error("the lock was not released")
	}
}

// lockCheckingGateway fails the test when a charge is created without the lock.
type lockCheckingGateway struct {
	pay.Gateway
	held *atomic.Bool
	t    *testing.T
}

func (g lockCheckingGateway) CreateCharge(ctx context.Context, p *pingxx.ChargeParams) (*pingxx.Charge, error) {
	if !g.held.Load() {
		g.t.Error("CreateCharge called without the store's lock")
	}
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
			if c.TimeExpire != want {
				t.Errorf("time_expire = now%+ds, want now%+ds", c.TimeExpire-now.Unix(), want-now.Unix())
			}
		})
	}
}

// TestUnrecordedWeChatChargeIsAdopted: a process died after Ping++ made a wx
// charge and before recording it. Once WeChat's window has passed, Ping++
// refuses the order number; the service finds the unrecorded charge, records
// it, and charges with a derived number instead of failing for ever.
func TestUnrecordedWeChatChargeIsAdopted(t *testing.T) {
	e := setup(t)
	lost, err := e.client.CreateCharge(t.Context(), &pingxx.ChargeParams{
		Order_no: seedOrderNo, Channel: "wx", Amount: 9900, Currency: "cny", Client_ip: "127.0.0.1",
		Subject: "collection的使用", Body: seedOrderNo, Metadata: map[string]any{"order_no": seedOrderNo},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Hour)
	ch, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Wx, pay.ForBuyer(seedBuyer))
	if err != nil {
		t.Fatalf("PayForOrder = %v; want a charge under a derived order number", err)
	}
	if ch.OrderNo == seedOrderNo || ch.ID == lost.ID {
		t.Errorf("got charge %s with order_no %s; want a new charge past %s", ch.ID, ch.OrderNo, seedOrderNo)
	}
	recorded, err := e.store.Charges(t.Context(), seedOrderNo)
	if err != nil {
		t.Fatal(err)
	}
	if len(recorded) != 2 || recorded[0].ID != lost.ID {
		t.Errorf("recorded %d charges, want the adopted %s and the new one", len(recorded), lost.ID)
	}
}

// codeGateway returns charges built in code, with no JSON behind them, as a
// host's own Gateway might.
type codeGateway struct{}

func (codeGateway) CreateCharge(_ context.Context, p *pingxx.ChargeParams) (*pingxx.Charge, error) {
	return &pingxx.Charge{ID: "ch_code00000000000000000001", Object: "charge", Channel: channel.Channel(p.Channel),
		OrderNo: p.Order_no, Amount: int64(p.Amount), Currency: p.Currency, TimeExpire: time.Now().Add(time.Hour).Unix()}, nil
}

func (codeGateway) FindCharges(context.Context, string, time.Time) ([]*pingxx.Charge, error) {
	return nil, nil
}

func TestChargeBuiltInCodeIsAnsweredAndReused(t *testing.T) {
	store, err := order.NewMemStore(order.Order{No: seedOrderNo, Buyer: seedBuyer, Amount: 9900})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pay.New(pay.Config{}, store, codeGateway{})
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

// badStore answers an order Ping++ cannot be asked to charge.
type badStore struct{ *order.MemStore }

func (s badStore) OrderWithCharges(ctx context.Context, no string) (order.Order, []order.Charge, error) {
	return order.Order{No: no, Buyer: seedBuyer, Amount: -100}, nil, nil
}

func TestOrderFromStoreIsValidated(t *testing.T) {
	e := setup(t)
	svc, err := pay.New(pay.Config{}, badStore{e.store}, e.client)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer())
	if !errors.Is(err, payorder.ErrInternal) || e.emu.Stats().ChargeRequests != 0 {
		t.Errorf("negative amount: %v, %d create requests; want ErrInternal and none", err, e.emu.Stats().ChargeRequests)
	}
}

// signallingStore reports each OrderWithCharges call, numbered from 1.
type signallingStore struct {
	*order.MemStore
	calls atomic.Int64
	read  chan int64
}

func (s *signallingStore) OrderWithCharges(ctx context.Context, no string) (order.Order, []order.Charge, error) {
	o, charges, err := s.MemStore.OrderWithCharges(ctx, no)
	s.read <- s.calls.Add(1)
	return o, charges, err
}

// TestOrderPaidWhileWaitingIsNotCharged: a caller that waited for another's
// create reads the order again under the lock, and finds it paid.
func TestOrderPaidWhileWaitingIsNotCharged(t *testing.T) {
	e := setup(t)
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultLatency, Latency: 300 * time.Millisecond})
	store := &signallingStore{MemStore: e.store, read: make(chan int64, 10)}
	svc, err := pay.New(pay.Config{Now: e.clock.Now}, store, e.client)
	if err != nil {
		t.Fatal(err)
	}
	first, second := make(chan error, 1), make(chan error, 1)
	payOnce := func(done chan<- error) {
		_, err := svc.PayForOrder(context.Background(), seedOrderNo, channel.Alipay, pay.AsServer())
		done <- err
	}
	go payOnce(first)
	for <-store.read != 2 { // the first caller read the order under the lock
	}
	go payOnce(second)
	for <-store.read != 3 { // the second caller read it before waiting
	}
	if _, err := e.store.UpdateOrder(t.Context(), seedOrderNo, func(o *order.Order) error {
		o.ApplyPayment(order.Payment{ChargeID: "ch_other", Amount: 9900, Currency: "cny"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first caller: %v", err)
	}
	if err := <-second; !errors.Is(err, payorder.ErrOrderNotPayable) {
		t.Errorf("second caller, after the order was paid = %v, want ErrOrderNotPayable", err)
	}
}
