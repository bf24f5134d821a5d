package pay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
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

// hooks counts what the host hears.
type hooks struct {
	paid      atomic.Int64
	anomalies chan order.Anomaly
	// onPaid, when set, runs inside OnPaid before it counts.
	onPaid func(o order.Order) error
}

// webhookEnv is an env whose emulator delivers its webhooks to a
// WebhookHandler of the service.
type webhookEnv struct {
	*env
	hooks *hooks
}

// setupWebhooks wires emulator → webhook handler → service. manual keeps
// events until the test delivers them.
func setupWebhooks(t testing.TB, manual bool, configure ...func(*pay.Config, *pingpptest.Config)) *webhookEnv {
	t.Helper()
	h := &hooks{anomalies: make(chan order.Anomaly, 100)}
	var receiver atomic.Pointer[pay.WebhookHandler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		receiver.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e := setup(t, append([]func(*pay.Config, *pingpptest.Config){func(c *pay.Config, ec *pingpptest.Config) {
		ec.WebhookURL = srv.URL + "/pay/webhook/"
		ec.ManualWebhooks = manual
		ec.RetryScale = 0.0001
		c.OnPaid = func(ctx context.Context, o order.Order, ch *pingxx.Charge) error {
			if h.onPaid != nil {
				if err := h.onPaid(o); err != nil {
					return err
				}
			}
			h.paid.Add(1)
			return nil
		}
		c.OnAnomaly = func(ctx context.Context, a order.Anomaly) error {
			h.anomalies <- a
			return nil
		}
	}}, configure...)...)
	wh, err := pay.NewWebhookHandler(e.svc, e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	receiver.Store(wh)
	return &webhookEnv{env: e, hooks: h}
}

func (e *webhookEnv) order(t testing.TB, no string) order.Order {
	t.Helper()
	o, err := e.store.Order(t.Context(), no)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// payCharge pays a charge at the emulator and returns the charge.succeeded event id.
func (e *webhookEnv) payCharge(t testing.TB, chargeID string) string {
	t.Helper()
	if err := e.emu.Pay(chargeID); err != nil {
		t.Fatalf("Pay(%s): %v", chargeID, err)
	}
	return e.lastEvent(t, pay.EventChargeSucceeded)
}

func (e *webhookEnv) lastEvent(t testing.TB, typ string) string {
	t.Helper()
	events := e.emu.Events()
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Type == typ {
			return events[i].ID
		}
	}
	t.Fatalf("no %s event", typ)
	return ""
}

// postEvent posts the emulator's event evtID, signed, to h with the
// signature under header, and returns the answer's status.
func (e *webhookEnv) postEvent(t testing.TB, h http.Handler, evtID, header string) int {
	t.Helper()
	payload, ok := e.emu.EventJSON(evtID)
	if !ok {
		t.Fatalf("no event %s", evtID)
	}
	sig, err := e.emu.SignWebhook(payload)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/pay/webhook/", bytes.NewReader(payload))
	r.Header.Set(header, sig)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func (e *webhookEnv) deliver(t testing.TB, eventID string) pingpptest.Delivery {
	t.Helper()
	d, err := e.emu.Deliver(t.Context(), eventID)
	if err != nil {
		t.Fatalf("Deliver(%s): %v", eventID, err)
	}
	return d
}

// refund asks the emulator for a refund of amount fen and makes it succeed.
func (e *webhookEnv) refund(t testing.TB, chargeID string, amount int64) string {
	t.Helper()
	body := `{"amount":` + json.Number(strings.TrimSpace(jsonInt(amount))).String() + `,"description":"test refund"}`
	req, _ := http.NewRequest(http.MethodPost, e.emu.APIBase()+"/charges/"+url.PathEscape(chargeID)+"/refunds", strings.NewReader(body))
	req.SetBasicAuth(pingpptest.DefaultSecretKey, "")
	req.Header.Set("Content-Type", "application/json")
	res, err := e.emu.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var rf struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&rf); err != nil || res.StatusCode != 200 {
		t.Fatalf("refund: %d %v", res.StatusCode, err)
	}
	if err := e.emu.SucceedRefund(rf.ID); err != nil {
		t.Fatal(err)
	}
	return e.lastEvent(t, pay.EventRefundSucceeded)
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func (e *webhookEnv) charge(t testing.TB, no string, ch channel.Channel) *pingxx.Charge {
	t.Helper()
	c, err := e.svc.PayForOrder(t.Context(), no, ch, pay.AsServer())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWebhookEndToEnd: PayForOrder → the emulator pays → signed webhook →
// order paid → hook ran once → a new PayForOrder answers ErrOrderNotPayable.
func TestWebhookEndToEnd(t *testing.T) {
	e := setupWebhooks(t, false)
	c := e.charge(t, seedOrderNo, channel.Alipay)
	if err := e.emu.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	deliveries, err := e.emu.WaitDeliveries(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !deliveries[0].OK() {
		t.Fatalf("delivery answered %d %v", deliveries[0].Status, deliveries[0].Err)
	}
	o := e.order(t, seedOrderNo)
	if o.Status != order.StatusPaid || o.Paid == nil || o.Paid.ChargeID != c.ID || o.Paid.TransactionNo == "" || o.FulfilledAt.IsZero() {
		t.Fatalf("order after webhook: %+v", o)
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid ran %d times, want 1", n)
	}
	_, err = e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
	if !errors.Is(err, payorder.ErrOrderNotPayable) || payorder.ClientMessage(err) != "订单已支付" {
		t.Errorf("PayForOrder after payment = %v", err)
	}
	if ev, _ := e.emu.Event(deliveries[0].EventID); ev.PendingWebhooks != 0 {
		t.Errorf("pending_webhooks = %d after an acknowledged delivery", ev.PendingWebhooks)
	}
}

func TestWebhookDuplicateDelivery(t *testing.T) {
	e := setupWebhooks(t, true)
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	for i := range 3 {
		if d := e.deliver(t, evt); !d.OK() {
			t.Fatalf("delivery %d answered %d", i, d.Status)
		}
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid ran %d times for 3 deliveries, want 1", n)
	}
	if o := e.order(t, seedOrderNo); o.Paid == nil || o.Paid.EventID != evt {
		t.Errorf("order = %+v", o)
	}
}

// TestWebhookConcurrentDelivery delivers one event many times while the
// first delivery is inside OnPaid: the hook runs once, and the deliveries
// that find it running are refused so that Ping++ tries them again.
func TestWebhookConcurrentDelivery(t *testing.T) {
	e := setupWebhooks(t, true)
	inHook, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.hooks.onPaid = func(order.Order) error {
		once.Do(func() { close(inHook) })
		<-release
		return nil
	}
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	first := make(chan pingpptest.Delivery)
	go func() { first <- e.deliver(t, evt) }()
	<-inHook
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := e.deliver(t, evt); d.OK() {
				t.Errorf("a concurrent delivery was acknowledged while the hook was running")
			}
		}()
	}
	wg.Wait()
	close(release)
	if d := <-first; !d.OK() {
		t.Fatalf("first delivery answered %d", d.Status)
	}
	if d := e.deliver(t, evt); !d.OK() {
		t.Fatalf("redelivery answered %d", d.Status)
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid ran %d times, want 1", n)
	}
}

func TestWebhookRefundBeforeChargeSucceeded(t *testing.T) {
	e := setupWebhooks(t, true)
	c := e.charge(t, seedOrderNo, channel.Alipay)
	paidEvt := e.payCharge(t, c.ID)
	refundEvt := e.refund(t, c.ID, 900)

	if d := e.deliver(t, refundEvt); !d.OK() {
		t.Fatalf("refund delivery answered %d", d.Status)
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusUnpaid || len(o.Refunds) != 1 {
		t.Fatalf("after the refund alone: %s, %d refunds", o.Status, len(o.Refunds))
	}
	if d := e.deliver(t, paidEvt); !d.OK() {
		t.Fatalf("charge delivery answered %d", d.Status)
	}
	o := e.order(t, seedOrderNo)
	if o.Status != order.StatusPartiallyRefunded || o.AmountRefunded() != 900 {
		t.Errorf("order %s refunded %d, want partially_refunded 900", o.Status, o.AmountRefunded())
	}
	// The rest of the money: fully refunded; a duplicate changes nothing.
	rest := e.refund(t, c.ID, 9000)
	for range 2 {
		if d := e.deliver(t, rest); !d.OK() {
			t.Fatalf("refund delivery answered %d", d.Status)
		}
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusRefunded || o.AmountRefunded() != 9900 {
		t.Errorf("order %s refunded %d, want refunded 9900", o.Status, o.AmountRefunded())
	}
}

func TestWebhookForgedSignature(t *testing.T) {
	e := setupWebhooks(t, true)
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	ev, _ := e.emu.Event(evt)
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	good, err := e.emu.SignWebhook(payload)
	if err != nil {
		t.Fatal(err)
	}
	altered := bytes.Replace(payload, []byte(`"amount":9900`), []byte(`"amount":9901`), 1)
	otherKey, err := pingxx.ParsePrivateKey([]byte(pingpptest.MerchantPrivateKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	signedByOther, _ := pingxx.SignWebhook(otherKey, payload)
	for name, d := range map[string]struct {
		payload   []byte
		signature string
	}{
		"NoSignature":    {payload, ""},
		"AlteredBody":    {altered, good},
		"OtherKey":       {payload, signedByOther},
		"GarbageBase64":  {payload, "not base64!"},
		"AlteredOneByte": {append(bytes.Clone(payload[:len(payload)-1]), ' '), good},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := e.emu.DeliverRaw(t.Context(), d.payload, d.signature)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusBadRequest {
				t.Errorf("answered %d, want 400", res.Status)
			}
		})
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusUnpaid || e.hooks.paid.Load() != 0 {
		t.Errorf("a forged webhook changed the order: %s, hook ran %d", o.Status, e.hooks.paid.Load())
	}
	// The genuine one still works.
	if res, _ := e.emu.DeliverRaw(t.Context(), payload, good); !res.OK() {
		t.Errorf("genuine delivery answered %d", res.Status)
	}
}

func TestWebhookAmountMismatch(t *testing.T) {
	e := setupWebhooks(t, true)
	c := e.charge(t, seedOrderNo, channel.Alipay) // 9900 fen
	o := e.order(t, seedOrderNo)
	o.Amount = 19900 // the host changed the price after the charge was made
	if err := e.store.Put(o); err != nil {
		t.Fatal(err)
	}
	if d := e.deliver(t, e.payCharge(t, c.ID)); !d.OK() {
		t.Fatalf("answered %d: a recorded anomaly must be acknowledged", d.Status)
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusUnpaid {
		t.Errorf("order with a mismatched payment became %s", o.Status)
	}
	a := <-e.hooks.anomalies
	if a.Kind != order.AnomalyAmountMismatch || a.OrderNo != seedOrderNo || a.ChargeID != c.ID || len(a.Event) == 0 {
		t.Errorf("anomaly = %+v", a)
	}
	if got, _ := e.svc.Anomalies(t.Context()); len(got) != 1 {
		t.Errorf("Anomalies() = %d records, want 1", len(got))
	}
}

func TestWebhookDoublePayment(t *testing.T) {
	e := setupWebhooks(t, true)
	alipay := e.charge(t, seedOrderNo, channel.Alipay)
	wx := e.charge(t, seedOrderNo, channel.Wx)
	for _, evt := range []string{e.payCharge(t, alipay.ID), e.payCharge(t, wx.ID)} {
		if d := e.deliver(t, evt); !d.OK() {
			t.Fatalf("answered %d", d.Status)
		}
	}
	o := e.order(t, seedOrderNo)
	if o.Paid == nil || o.Paid.ChargeID != alipay.ID {
		t.Fatalf("order paid by %+v, want the first charge %s", o.Paid, alipay.ID)
	}
	a := <-e.hooks.anomalies
	if a.Kind != order.AnomalyDoublePayment || a.ChargeID != wx.ID || a.Amount != 9900 {
		t.Errorf("anomaly = %+v", a)
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid ran %d times, want 1", n)
	}
}

func TestWebhookUnknownOrderIsKept(t *testing.T) {
	e := setupWebhooks(t, true)
	// A charge made outside this service, for an order the store never had.
	p := &pingxx.ChargeParams{Order_no: "77777777777", Channel: "alipay", Amount: 500, Currency: "cny", Client_ip: "127.0.0.1", Subject: "s", Body: "b"}
	c, err := e.client.CreateCharge(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.deliver(t, e.payCharge(t, c.ID)); !d.OK() {
		t.Fatalf("answered %d", d.Status)
	}
	a := <-e.hooks.anomalies
	if a.Kind != order.AnomalyUnknownOrder || a.ChargeID != c.ID || !bytes.Contains(a.Event, []byte(c.ID)) {
		t.Errorf("anomaly = %+v", a)
	}
}

func TestWebhookForeignAppChangesNothing(t *testing.T) {
	const otherApp = "app_OtherApp0000000001"
	e := setupWebhooks(t, true, func(_ *pay.Config, ec *pingpptest.Config) {
		ec.AppIDs = []string{pingpptest.DefaultAppID, otherApp}
	})
	p := &pingxx.ChargeParams{Order_no: seedOrderNo, Channel: "alipay", Amount: 9900, Currency: "cny", Client_ip: "127.0.0.1", Subject: "s", Body: "b",
		Metadata: map[string]any{"order_no": seedOrderNo}}
	p.App.Id = otherApp
	c, err := e.client.CreateCharge(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if d := e.deliver(t, e.payCharge(t, c.ID)); !d.OK() {
		t.Fatalf("answered %d", d.Status)
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusUnpaid {
		t.Errorf("another app's payment changed the order: %s", o.Status)
	}
	if got, _ := e.svc.Anomalies(t.Context()); len(got) != 0 {
		t.Errorf("another app's payment was recorded: %+v", got)
	}
}

func TestLostWebhookRepairedBySyncOrder(t *testing.T) {
	e := setupWebhooks(t, true) // manual: the webhook is never delivered
	c := e.charge(t, seedOrderNo, channel.Wx)
	e.payCharge(t, c.ID)
	// The client retrieves recorded charges by id: the app's charge list,
	// which grows without bound, is not searched.
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteListCharges, Kind: pingpptest.FaultHTTP503JSON})
	o, err := e.svc.SyncOrder(t.Context(), seedOrderNo)
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != order.StatusPaid || o.Paid.ChargeID != c.ID || e.hooks.paid.Load() != 1 {
		t.Fatalf("after SyncOrder: %s paid by %+v, hook %d", o.Status, o.Paid, e.hooks.paid.Load())
	}
	if _, err := e.svc.SyncOrder(t.Context(), seedOrderNo); err != nil || e.hooks.paid.Load() != 1 {
		t.Errorf("second SyncOrder: %v, hook ran %d times", err, e.hooks.paid.Load())
	}
}

func TestLostWebhookRepairedByReconcile(t *testing.T) {
	e := setupWebhooks(t, true)
	paidCharge := e.charge(t, seedOrderNo, channel.Alipay)
	unpaidCharge := e.charge(t, otherOrderNo, channel.Alipay)
	e.payCharge(t, paidCharge.ID)
	if err := e.svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusPaid {
		t.Errorf("paid order is %s after Reconcile", o.Status)
	}
	if o := e.order(t, otherOrderNo); o.Status != order.StatusUnpaid {
		t.Errorf("order %s with unpaid charge %s is %s", otherOrderNo, unpaidCharge.ID, o.Status)
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid ran %d times, want 1", n)
	}
}

// flakyStore fails UpdateOrder a set number of times.
type flakyStore struct {
	*order.MemStore
	failures atomic.Int64
}

func (s *flakyStore) UpdateOrder(ctx context.Context, no string, fn func(*order.Order) error) (order.Order, error) {
	if s.failures.Add(-1) >= 0 {
		return order.Order{}, errors.New("connection refused")
	}
	return s.MemStore.UpdateOrder(ctx, no, fn)
}

func TestWebhookStoreFailureThenRedelivery(t *testing.T) {
	e := setupWebhooks(t, true)
	flaky := &flakyStore{MemStore: e.store}
	svc, err := pay.New(pay.Config{Now: e.clock.Now, OnPaid: func(context.Context, order.Order, *pingxx.Charge) error {
		e.hooks.paid.Add(1)
		return nil
	}}, flaky, e.client)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := pay.NewWebhookHandler(svc, e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	post := func() int { return e.postEvent(t, wh, evt, "x-pingplusplus-signature") } // any case
	flaky.failures.Store(1)
	if code := post(); code != http.StatusInternalServerError {
		t.Fatalf("with the store down: %d, want 500", code)
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusUnpaid {
		t.Fatalf("order is %s after a failed delivery", o.Status)
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("redelivery: %d, want 200", code)
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusPaid || e.hooks.paid.Load() != 1 {
		t.Errorf("after redelivery: %s, hook %d", o.Status, e.hooks.paid.Load())
	}
}

func TestWebhookHookFailureIsRetried(t *testing.T) {
	e := setupWebhooks(t, true)
	var calls atomic.Int64
	e.hooks.onPaid = func(order.Order) error {
		if calls.Add(1) == 1 {
			return errors.New("course service down")
		}
		return nil
	}
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	if d := e.deliver(t, evt); d.Status != http.StatusInternalServerError {
		t.Fatalf("failed hook answered %d, want 500", d.Status)
	}
	if d := e.deliver(t, evt); !d.OK() {
		t.Fatalf("redelivery answered %d", d.Status)
	}
	if d := e.deliver(t, evt); !d.OK() || calls.Load() != 2 || e.hooks.paid.Load() != 1 {
		t.Errorf("hook called %d times, succeeded %d, want 2 and 1", calls.Load(), e.hooks.paid.Load())
	}
}

func TestWebhookHandlerHTTP(t *testing.T) {
	e := setupWebhooks(t, true)
	wh, err := pay.NewWebhookHandler(e.svc, e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		method string
		body   string
		code   int
	}{
		"MethodNotAllowed": {http.MethodGet, "", 405},
		"TooLarge":         {http.MethodPost, strings.Repeat("x", pingxx.MaxEventBytes+1), 413},
		"Unsigned":         {http.MethodPost, `{"id":"evt_1"}`, 400},
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			wh.ServeHTTP(w, httptest.NewRequest(tt.method, "/pay/webhook/", strings.NewReader(tt.body)))
			if w.Code != tt.code {
				t.Errorf("answered %d, want %d", w.Code, tt.code)
			}
		})
	}
	if _, err := pay.NewWebhookHandler(e.svc, nil); err == nil {
		t.Error("NewWebhookHandler accepted no key")
	}
	svc, _ := pay.New(pay.Config{}, failingStore{}, e.client)
	if _, err := pay.NewWebhookHandler(svc, e.emu.WebhookPublicKey()); !errors.Is(err, pay.ErrNoPaymentStore) {
		t.Errorf("NewWebhookHandler over a store without payments = %v", err)
	}
}

// TestWebhookUnreadableSignedEventIsKept: a payload Ping++ signed but that
// payorder cannot read is kept whole, once, and acknowledged.
func TestWebhookUnreadableSignedEventIsKept(t *testing.T) {
	e := setupWebhooks(t, true)
	for _, payload := range []string{
		`not an event at all`,
		`{"id":"evt_odd","object":"event","type":"charge.succeeded","data":{"object":{"id":"re_1","object":"refund"}}}`,
	} {
		sig, err := e.emu.SignWebhook([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			d, err := e.emu.DeliverRaw(t.Context(), []byte(payload), sig)
			if err != nil || !d.OK() {
				t.Fatalf("delivering %q: %d %v", payload, d.Status, err)
			}
		}
	}
	got, err := e.svc.Anomalies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != order.AnomalyUnreadableEvent || string(got[0].Event) != "not an event at all" || got[1].Kind != order.AnomalyUnreadableEvent {
		t.Errorf("anomalies = %+v, want the two payloads kept once each", got)
	}
}

// TestWebhookOfOtherModeIsIgnored: Ping++ uses one app id in both modes; a
// free test-mode payment must never pay an order of a live service, even when
// its Gateway (here a decorator) does not tell its mode.
func TestWebhookOfOtherModeIsIgnored(t *testing.T) {
	e := setupWebhooks(t, true)
	decorated := struct{ pay.Gateway }{e.client}
	if _, err := pay.NewWebhookHandler(mustService(t, pay.Config{}, e.store, decorated), e.emu.WebhookPublicKey()); !errors.Is(err, pay.ErrModeUnknown) {
		t.Fatalf("NewWebhookHandler with the mode unknown = %v, want ErrModeUnknown", err)
	}
	live := true
	wh, err := pay.NewWebhookHandler(mustService(t, pay.Config{Livemode: &live}, e.store, decorated), e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	c := e.charge(t, seedOrderNo, channel.Alipay) // a test-mode charge
	if code := e.postEvent(t, wh, e.payCharge(t, c.ID), pingxx.HeaderWebhookSignature); code != http.StatusOK {
		t.Fatalf("answered %d", code)
	}
	if o := e.order(t, seedOrderNo); o.Status != order.StatusUnpaid {
		t.Errorf("a test-mode payment made a live service's order %s", o.Status)
	}
}

func mustService(t *testing.T, cfg pay.Config, store pay.OrderStore, gw pay.Gateway) *pay.Service {
	t.Helper()
	svc, err := pay.New(cfg, store, gw)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestSyncOrderWithoutRetrieval: a gateway that cannot fetch a charge by id
// is asked for the order's charges by order number instead.
func TestSyncOrderWithoutRetrieval(t *testing.T) {
	e := setupWebhooks(t, true)
	c := e.charge(t, seedOrderNo, channel.Alipay)
	e.payCharge(t, c.ID)
	testMode := false
	svc := mustService(t, pay.Config{Livemode: &testMode}, e.store, struct{ pay.Gateway }{e.client})
	o, err := svc.SyncOrder(t.Context(), seedOrderNo)
	if err != nil || o.Status != order.StatusPaid || o.Paid.ChargeID != c.ID {
		t.Fatalf("SyncOrder = %s paid by %+v, %v", o.Status, o.Paid, err)
	}
}
