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

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// hooks counts what the host hears.
type hooks struct {
	paid      atomic.Int64
	anomalies chan pay.Anomaly
	// onPaid, when set, runs inside OnPaid before it counts; its error is
	// OnPaid's.
	onPaid atomic.Pointer[func(f pay.Fulfilment) error]
}

// setOnPaid makes fn run inside OnPaid from now on.
func (h *hooks) setOnPaid(fn func(f pay.Fulfilment) error) { h.onPaid.Store(&fn) }

// nextAnomaly returns the next anomaly OnAnomaly was told about. Deliveries
// are synchronous, so it has been told by the time they return.
func (h *hooks) nextAnomaly(t testing.TB) pay.Anomaly {
	t.Helper()
	select {
	case a := <-h.anomalies:
		return a
	default:
		t.Fatal("OnAnomaly was not called")
		return pay.Anomaly{}
	}
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
	h := &hooks{anomalies: make(chan pay.Anomaly, 100)}
	var receiver atomic.Pointer[pay.WebhookHandler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		receiver.Load().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e := setup(t, append([]func(*pay.Config, *pingpptest.Config){func(c *pay.Config, ec *pingpptest.Config) {
		ec.WebhookURL = srv.URL + "/pay/webhook/"
		ec.ManualWebhooks = manual
		ec.RetryScale = 0.0001
		c.OnPaid = func(ctx context.Context, f pay.Fulfilment) error {
			if fn := h.onPaid.Load(); fn != nil {
				if err := (*fn)(f); err != nil {
					return err
				}
			}
			h.paid.Add(1)
			return nil
		}
		c.OnAnomaly = func(ctx context.Context, a pay.Anomaly) error {
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

// record returns the ledger's record of order no, as the service reads it.
func (e *webhookEnv) record(t testing.TB, no string) *ledger.Record {
	t.Helper()
	rec, err := e.svc.Record(t.Context(), no)
	if err != nil {
		t.Fatal(err)
	}
	return rec
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
	return serve(h, e.eventRequest(t, evtID, header))
}

// eventRequest is a webhook request carrying the emulator's event evtID,
// signed, with the signature under header.
func (e *webhookEnv) eventRequest(t testing.TB, evtID, header string) *http.Request {
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
	return r
}

// serve has h answer r and returns the status.
func serve(h http.Handler, r *http.Request) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// deliver has the emulator deliver eventID once. It must run on the test's
// goroutine; other goroutines call e.emu.Deliver and report with t.Error.
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
	body := `{"amount":` + jsonInt(amount) + `,"description":"test refund"}`
	req, err := http.NewRequest(http.MethodPost, e.emu.APIBase()+"/charges/"+url.PathEscape(chargeID)+"/refunds", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
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
	return whole(t, c)
}

// foreignCharge creates a charge directly at the emulator, not through the
// service, as another backend of the merchant would.
func (e *webhookEnv) foreignCharge(t testing.TB, p *pingxx.ChargeParams) *pingxx.Charge {
	t.Helper()
	c, err := e.client.CreateCharge(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ignoreNow compares records whatever the clock said when they were read.
var ignoreNow = cmpopts.IgnoreFields(ledger.Record{}, "Now")

// TestWebhookEndToEnd: PayForOrder → the emulator pays → signed webhook →
// ledger shows the payment → hook ran once → a new PayForOrder answers
// ErrOrderNotPayable.
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
	rec := e.record(t, seedOrderNo)
	if rec.Status() != ledger.StatusPaid || rec.Payment == nil {
		t.Fatalf("ledger after webhook: %s, payment %+v", rec.Status(), rec.Payment)
	}
	now := e.clock.Now().UTC()
	want := ledger.Payment{
		ChargeID: c.ID, Channel: channel.Alipay, Amount: 9900, Currency: "cny",
		PaidAt: now, EventID: deliveries[0].EventID, RecordedAt: now,
	}
	if diff := cmp.Diff(want, *rec.Payment, cmpopts.IgnoreFields(ledger.Payment{}, "TransactionNo")); diff != "" {
		t.Errorf("payment (-want +got):\n%s", diff)
	}
	if rec.Payment.TransactionNo == "" {
		t.Error("payment without the channel's transaction number")
	}
	if rec.Fulfilment.FulfilledAt.IsZero() {
		t.Errorf("paid order not recorded fulfilled: %+v", rec.Fulfilment)
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
	if rec := e.record(t, seedOrderNo); rec.Payment == nil || rec.Payment.EventID != evt {
		t.Errorf("payment = %+v, want one recorded from event %s", rec.Payment, evt)
	}
}

// TestWebhookConcurrentDelivery delivers one event many times while the
// first delivery is inside OnPaid: the hook runs once, and the deliveries
// that find it running are refused so that Ping++ tries them again.
func TestWebhookConcurrentDelivery(t *testing.T) {
	e := setupWebhooks(t, true)
	inHook, release := make(chan struct{}), make(chan struct{})
	var once, released sync.Once
	releaseHook := func() { released.Do(func() { close(release) }) }
	t.Cleanup(releaseHook) // a failing test must not leave the hook blocked
	e.hooks.setOnPaid(func(pay.Fulfilment) error {
		once.Do(func() { close(inHook) })
		<-release
		return nil
	})
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	first := make(chan pingpptest.Delivery, 1)
	go func() {
		d, err := e.emu.Deliver(t.Context(), evt)
		if err != nil {
			t.Errorf("first Deliver: %v", err)
		}
		first <- d
	}()
	select {
	case <-inHook:
	case d := <-first:
		t.Fatalf("first delivery answered %d without entering OnPaid", d.Status)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			d, err := e.emu.Deliver(t.Context(), evt)
			switch {
			case err != nil:
				t.Errorf("concurrent Deliver: %v", err)
			case d.OK():
				t.Errorf("a concurrent delivery was acknowledged while the hook was running")
			}
		})
	}
	wg.Wait()
	releaseHook()
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
	if rec := e.record(t, seedOrderNo); rec.Status() != ledger.StatusUnpaid || len(rec.Refunds) != 1 {
		t.Fatalf("after the refund alone: %s, %d refunds", rec.Status(), len(rec.Refunds))
	}
	if d := e.deliver(t, paidEvt); !d.OK() {
		t.Fatalf("charge delivery answered %d", d.Status)
	}
	rec := e.record(t, seedOrderNo)
	if rec.Status() != ledger.StatusPartiallyRefunded || rec.AmountRefunded() != 900 {
		t.Errorf("order %s refunded %d, want partially_refunded 900", rec.Status(), rec.AmountRefunded())
	}
	// The rest of the money: fully refunded; a duplicate changes nothing.
	rest := e.refund(t, c.ID, 9000)
	for range 2 {
		if d := e.deliver(t, rest); !d.OK() {
			t.Fatalf("refund delivery answered %d", d.Status)
		}
	}
	if rec := e.record(t, seedOrderNo); rec.Status() != ledger.StatusRefunded || rec.AmountRefunded() != 9900 {
		t.Errorf("order %s refunded %d, want refunded 9900", rec.Status(), rec.AmountRefunded())
	}
}

// TestFullyRefundedBeforePaymentIsNotFulfilled (issue 13): a refund of the
// whole amount delivered before the payment's own event leaves an order
// that is paid and refunded, never fulfilled.
func TestFullyRefundedBeforePaymentIsNotFulfilled(t *testing.T) {
	e := setupWebhooks(t, true)
	c := e.charge(t, seedOrderNo, channel.Alipay) // 9900 fen
	paidEvt := e.payCharge(t, c.ID)
	refundEvt := e.refund(t, c.ID, 9900)
	for _, evt := range []string{refundEvt, paidEvt, paidEvt} {
		if d := e.deliver(t, evt); !d.OK() {
			t.Fatalf("delivery of %s answered %d", evt, d.Status)
		}
	}
	if err := e.svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	rec := e.record(t, seedOrderNo)
	if rec.Status() != ledger.StatusRefunded || rec.Payment == nil || rec.Payment.ChargeID != c.ID {
		t.Errorf("order %s paid by %+v, want refunded after payment by %s", rec.Status(), rec.Payment, c.ID)
	}
	if n := e.hooks.paid.Load(); n != 0 {
		t.Errorf("OnPaid ran %d times for an order refunded in full before its payment was reported", n)
	}
	if !rec.Fulfilment.FulfilledAt.IsZero() || rec.NeedsFulfilment() {
		t.Errorf("fulfilment = %+v, needs fulfilment %v; want neither fulfilled nor due", rec.Fulfilment, rec.NeedsFulfilment())
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
	if rec := e.record(t, seedOrderNo); rec.Payment != nil || e.hooks.paid.Load() != 0 {
		t.Errorf("a forged webhook changed the ledger: payment %+v, hook ran %d", rec.Payment, e.hooks.paid.Load())
	}
	// The genuine one still works.
	if res, _ := e.emu.DeliverRaw(t.Context(), payload, good); !res.OK() {
		t.Errorf("genuine delivery answered %d", res.Status)
	}
}

// anomalyOpts compare anomalies by what they say, not by their wording or
// the report they carry.
var anomalyOpts = cmpopts.IgnoreFields(ledger.Anomaly{}, "Detail", "Event", "CreatedAt")

func TestWebhookAmountMismatch(t *testing.T) {
	e := setupWebhooks(t, true)
	c := e.charge(t, seedOrderNo, channel.Alipay) // 9900 fen
	o, err := e.store.Order(t.Context(), seedOrderNo)
	if err != nil {
		t.Fatal(err)
	}
	o.Amount = 19900 // the host changed the price after the charge was made
	if err := e.store.Put(o); err != nil {
		t.Fatal(err)
	}
	if d := e.deliver(t, e.payCharge(t, c.ID)); !d.OK() {
		t.Fatalf("answered %d: a recorded anomaly must be acknowledged", d.Status)
	}
	if rec := e.record(t, seedOrderNo); rec.Payment != nil {
		t.Errorf("a mismatched payment paid the order: %+v", rec.Payment)
	}
	want := ledger.Anomaly{
		ID: ledger.AnomalyID(ledger.AnomalyAmountMismatch, c.ID), Kind: ledger.AnomalyAmountMismatch,
		OrderNo: seedOrderNo, ChargeID: c.ID, Amount: 9900, Currency: "cny",
	}
	a := e.hooks.nextAnomaly(t)
	if diff := cmp.Diff(want, a, anomalyOpts); diff != "" || len(a.Event) == 0 {
		t.Errorf("anomaly (-want +got):\n%s\nevent %q", diff, a.Event)
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
	if rec := e.record(t, seedOrderNo); rec.Payment == nil || rec.Payment.ChargeID != alipay.ID {
		t.Fatalf("order paid by %+v, want the first charge %s", rec.Payment, alipay.ID)
	}
	want := ledger.Anomaly{
		ID: ledger.AnomalyID(ledger.AnomalyDoublePayment, wx.ID), Kind: ledger.AnomalyDoublePayment,
		OrderNo: seedOrderNo, ChargeID: wx.ID, Amount: 9900, Currency: "cny",
	}
	if diff := cmp.Diff(want, e.hooks.nextAnomaly(t), anomalyOpts); diff != "" {
		t.Errorf("anomaly (-want +got):\n%s", diff)
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid ran %d times, want 1", n)
	}
}

// TestPaymentAfterExpiryIsAnomaly (issue 13): a charge handed out while the
// order was open but paid after the order expired is money to give back,
// not an order to fulfil.
func TestPaymentAfterExpiryIsAnomaly(t *testing.T) {
	e := setupWebhooks(t, true)
	const no = "20261129000000000005"
	expires := e.clock.Now().Add(10 * time.Second)
	if err := e.store.Put(order.Order{No: no, Buyer: seedBuyer, Amount: 100, ExpiresAt: expires}); err != nil {
		t.Fatal(err)
	}
	c := e.charge(t, no, channel.Alipay)
	// Ping++ takes no charge shorter than channel.MinExpiry, so the charge
	// outlives the order.
	e.clock.Advance(11 * time.Second)
	if !e.clock.Now().Before(time.Unix(c.TimeExpire, 0)) {
		t.Fatalf("charge expires at %d, before the order can be paid late", c.TimeExpire)
	}
	if d := e.deliver(t, e.payCharge(t, c.ID)); !d.OK() {
		t.Fatalf("answered %d: a recorded anomaly must be acknowledged", d.Status)
	}
	// A reconciliation looks at the charge again and still does not fulfil.
	if err := e.svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if n := e.hooks.paid.Load(); n != 0 {
		t.Errorf("OnPaid ran %d times for a payment after the order expired", n)
	}
	rec := e.record(t, no)
	if rec.Payment != nil || !rec.Fulfilment.FulfilledAt.IsZero() {
		t.Errorf("ledger shows payment %+v, fulfilment %+v; want neither", rec.Payment, rec.Fulfilment)
	}
	want := ledger.Anomaly{
		ID: ledger.AnomalyID(ledger.AnomalyPaidAfterClose, c.ID), Kind: ledger.AnomalyPaidAfterClose,
		OrderNo: no, ChargeID: c.ID, Amount: 100, Currency: "cny",
	}
	got, err := e.svc.Anomalies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]ledger.Anomaly{want}, got, anomalyOpts); diff != "" {
		t.Errorf("anomalies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, e.hooks.nextAnomaly(t), anomalyOpts); diff != "" {
		t.Errorf("OnAnomaly (-want +got):\n%s", diff)
	}
	// The charge is known paid: reconciliation asks Ping++ about it no
	// more, and does not report the anomaly again.
	retrievals := e.emu.Stats().Requests
	if err := e.svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if n := e.emu.Stats().Requests - retrievals; n != 0 {
		t.Errorf("a reconciliation after the anomaly sent %d requests to Ping++", n)
	}
	select {
	case a := <-e.hooks.anomalies:
		t.Errorf("OnAnomaly told again: %+v", a)
	default:
	}
}

func TestWebhookUnknownOrderIsKept(t *testing.T) {
	e := setupWebhooks(t, true)
	// A charge made outside this service, for an order the store never had.
	c := e.foreignCharge(t, &pingxx.ChargeParams{OrderNo: "77777777777", Channel: channel.Alipay, Amount: 500, Currency: "cny", ClientIP: "127.0.0.1", Subject: "s", Body: "b"})
	if d := e.deliver(t, e.payCharge(t, c.ID)); !d.OK() {
		t.Fatalf("answered %d", d.Status)
	}
	a := e.hooks.nextAnomaly(t)
	if a.Kind != ledger.AnomalyUnknownOrder || a.ChargeID != c.ID || !bytes.Contains(a.Event, []byte(c.ID)) {
		t.Errorf("anomaly = %+v", a)
	}
}

// TestUnrecordedChargePaymentIsReconciled (issue 13): a charge the service
// never made (another backend of the merchant made it for the order) is
// paid while OnPaid fails; the ledger keeps the charge at first sight, so
// Reconcile finds the order and fulfils it.
func TestUnrecordedChargePaymentIsReconciled(t *testing.T) {
	e := setupWebhooks(t, true)
	var down atomic.Bool
	down.Store(true)
	e.hooks.setOnPaid(func(pay.Fulfilment) error {
		if down.Load() {
			return errors.New("course service down")
		}
		return nil
	})
	c := e.foreignCharge(t, &pingxx.ChargeParams{
		OrderNo: seedOrderNo, Channel: channel.Alipay, Amount: 9900, Currency: "cny", ClientIP: "127.0.0.1",
		Subject: "s", Body: "b", Metadata: map[string]any{"order_no": seedOrderNo},
	})
	if d := e.deliver(t, e.payCharge(t, c.ID)); d.Status != http.StatusInternalServerError {
		t.Fatalf("delivery with OnPaid failing answered %d, want 500", d.Status)
	}
	if rec := e.record(t, seedOrderNo); rec.Charge(c.ID) == nil || rec.Payment == nil || rec.Payment.ChargeID != c.ID {
		t.Fatalf("ledger after the first report: charges %+v, payment %+v; want charge %s recorded and paying", rec.Charges, rec.Payment, c.ID)
	}
	down.Store(false)
	if err := e.svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid succeeded %d times after Reconcile, want 1", n)
	}
	if rec := e.record(t, seedOrderNo); rec.Fulfilment.FulfilledAt.IsZero() {
		t.Errorf("order not recorded fulfilled after Reconcile: %+v", rec.Fulfilment)
	}
}

func TestWebhookForeignAppChangesNothing(t *testing.T) {
	const otherApp = "app_OtherApp0000000001"
	e := setupWebhooks(t, true, func(_ *pay.Config, ec *pingpptest.Config) {
		ec.AppIDs = []string{pingpptest.DefaultAppID, otherApp}
	})
	c := e.foreignCharge(t, &pingxx.ChargeParams{
		AppID: otherApp, OrderNo: seedOrderNo, Channel: channel.Alipay, Amount: 9900, Currency: "cny", ClientIP: "127.0.0.1",
		Subject: "s", Body: "b", Metadata: map[string]any{"order_no": seedOrderNo},
	})
	if d := e.deliver(t, e.payCharge(t, c.ID)); !d.OK() {
		t.Fatalf("answered %d", d.Status)
	}
	if rec := e.record(t, seedOrderNo); rec.Payment != nil || len(rec.Charges) != 0 {
		t.Errorf("another app's payment changed the ledger: payment %+v, charges %+v", rec.Payment, rec.Charges)
	}
	if got, _ := e.svc.Anomalies(t.Context()); len(got) != 0 {
		t.Errorf("another app's payment was recorded: %+v", got)
	}
}

// TestRefundOfForeignAppIgnored (issue 13): a refund of another app's
// charge, which the ledger does not know and Ping++ says is of another app,
// changes nothing.
func TestRefundOfForeignAppIgnored(t *testing.T) {
	const otherApp = "app_OtherApp0000000001"
	e := setupWebhooks(t, true, func(_ *pay.Config, ec *pingpptest.Config) {
		ec.AppIDs = []string{pingpptest.DefaultAppID, otherApp}
	})
	e.charge(t, seedOrderNo, channel.Alipay) // the ledger holds the order
	c := e.foreignCharge(t, &pingxx.ChargeParams{
		AppID: otherApp, OrderNo: seedOrderNo, Channel: channel.Alipay, Amount: 9900, Currency: "cny", ClientIP: "127.0.0.1",
		Subject: "s", Body: "b", Metadata: map[string]any{"order_no": seedOrderNo},
	})
	e.payCharge(t, c.ID) // never delivered: the ledger does not know c
	if got, err := e.client.RetrieveCharge(t.Context(), c.ID); err != nil || got.App != otherApp {
		t.Fatalf("RetrieveCharge(%s) = app %v, %v; want %s", c.ID, got, err, otherApp)
	}
	before := e.record(t, seedOrderNo)
	if d := e.deliver(t, e.refund(t, c.ID, 9900)); !d.OK() {
		t.Fatalf("refund delivery answered %d", d.Status)
	}
	if diff := cmp.Diff(before, e.record(t, seedOrderNo), ignoreNow); diff != "" {
		t.Errorf("a refund of another app's charge changed the ledger (-before +after):\n%s", diff)
	}
	if got, _ := e.svc.Anomalies(t.Context()); len(got) != 0 {
		t.Errorf("a refund of another app's charge was recorded: %+v", got)
	}
}

func TestLostWebhookRepairedBySyncOrder(t *testing.T) {
	e := setupWebhooks(t, true) // manual: the webhook is never delivered
	c := e.charge(t, seedOrderNo, channel.Wx)
	e.payCharge(t, c.ID)
	// The client retrieves recorded charges by id: the app's charge list,
	// which grows without bound, is not searched.
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteListCharges, Kind: pingpptest.FaultHTTP503JSON})
	rec, err := e.svc.SyncOrder(t.Context(), seedOrderNo)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status() != ledger.StatusPaid || rec.Payment == nil || rec.Payment.ChargeID != c.ID || e.hooks.paid.Load() != 1 {
		t.Fatalf("after SyncOrder: %s paid by %+v, hook %d", rec.Status(), rec.Payment, e.hooks.paid.Load())
	}
	if rec.Fulfilment.FulfilledAt.IsZero() {
		t.Errorf("SyncOrder's record is not fulfilled: %+v", rec.Fulfilment)
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
	if rec := e.record(t, seedOrderNo); rec.Status() != ledger.StatusPaid {
		t.Errorf("paid order is %s after Reconcile", rec.Status())
	}
	if rec := e.record(t, otherOrderNo); rec.Status() != ledger.StatusUnpaid {
		t.Errorf("order %s with unpaid charge %s is %s", otherOrderNo, unpaidCharge.ID, rec.Status())
	}
	if n := e.hooks.paid.Load(); n != 1 {
		t.Errorf("OnPaid ran %d times, want 1", n)
	}
}

// flakyLedger fails Update a set number of times.
type flakyLedger struct {
	*ledger.Memory
	failures atomic.Int64
}

func (l *flakyLedger) Update(ctx context.Context, no string, fn func(r *ledger.Record, db any) error) (*ledger.Record, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, errors.New("connection refused")
	}
	return l.Memory.Update(ctx, no, fn)
}

func TestWebhookLedgerFailureThenRedelivery(t *testing.T) {
	e := setupWebhooks(t, true)
	flaky := &flakyLedger{Memory: e.ledger}
	svc := mustService(t, pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now, OnPaid: func(context.Context, pay.Fulfilment) error {
		e.hooks.paid.Add(1)
		return nil
	}}, e.store, flaky, e.client)
	wh, err := pay.NewWebhookHandler(svc, e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	post := func() int { return e.postEvent(t, wh, evt, "x-pingplusplus-signature") } // any case
	flaky.failures.Store(1)
	if code := post(); code != http.StatusInternalServerError {
		t.Fatalf("with the ledger down: %d, want 500", code)
	}
	if rec := e.record(t, seedOrderNo); rec.Payment != nil {
		t.Fatalf("payment %+v recorded by a failed delivery", rec.Payment)
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("redelivery: %d, want 200", code)
	}
	if rec := e.record(t, seedOrderNo); rec.Status() != ledger.StatusPaid || rec.Fulfilment.FulfilledAt.IsZero() || e.hooks.paid.Load() != 1 {
		t.Errorf("after redelivery: %s, fulfilment %+v, hook %d", rec.Status(), rec.Fulfilment, e.hooks.paid.Load())
	}
}

func TestWebhookHookFailureIsRetried(t *testing.T) {
	e := setupWebhooks(t, true)
	var calls atomic.Int64
	e.hooks.setOnPaid(func(pay.Fulfilment) error {
		if calls.Add(1) == 1 {
			return errors.New("course service down")
		}
		return nil
	})
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

// TestOnPaidGetsStableFulfilmentID (issue 13): every run of OnPaid for one
// payment is told the same Fulfilment.ID, so that the host can deduplicate.
func TestOnPaidGetsStableFulfilmentID(t *testing.T) {
	e := setupWebhooks(t, true)
	var (
		mu   sync.Mutex
		seen []pay.Fulfilment
	)
	e.hooks.setOnPaid(func(f pay.Fulfilment) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, f)
		if len(seen) <= 2 {
			return errors.New("course service down")
		}
		return nil
	})
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	for i, want := range []int{http.StatusInternalServerError, http.StatusInternalServerError, http.StatusOK} {
		if d := e.deliver(t, evt); d.Status != want {
			t.Fatalf("delivery %d answered %d, want %d", i+1, d.Status, want)
		}
	}
	rec := e.record(t, seedOrderNo)
	id := rec.Fulfilment.ID
	if id == "" || rec.Fulfilment.FulfilledAt.IsZero() {
		t.Fatalf("fulfilment = %+v, want an id and fulfilled", rec.Fulfilment)
	}
	mu.Lock()
	defer mu.Unlock()
	var ids []string
	for _, f := range seen {
		ids = append(ids, f.ID)
		if f.Order.No != seedOrderNo || f.Payment.ChargeID != c.ID || f.Charge == nil || f.Charge.ID != c.ID {
			t.Errorf("OnPaid told order %s, payment by %s, charge %v; want %s paid by %s", f.Order.No, f.Payment.ChargeID, f.Charge, seedOrderNo, c.ID)
		}
	}
	if diff := cmp.Diff([]string{id, id, id}, ids); diff != "" {
		t.Errorf("fulfilment ids of the three runs (-want +got):\n%s", diff)
	}
}

// barrierLedger makes the callers of a barrier round (runBarrierRound)
// interleave as widely as a ledger lets them: a caller's Updates after its
// first wait until every caller of the round has made its first Update or
// finished, so that all of them act on what they read before any of them
// acts on what it read. Other callers go straight through.
type barrierLedger struct{ *ledger.Memory }

type barrierKey struct{}

// barrierCaller is one caller of a round, carried in its context.
type barrierCaller struct {
	round   *barrierRound
	updates atomic.Int64
	once    sync.Once
}

type barrierRound struct {
	pending sync.WaitGroup // callers yet to make their first Update or finish
	all     chan struct{}  // closed when none is pending
}

func (c *barrierCaller) passed() { c.once.Do(c.round.pending.Done) }

func (l barrierLedger) Update(ctx context.Context, no string, fn func(r *ledger.Record, db any) error) (*ledger.Record, error) {
	c, _ := ctx.Value(barrierKey{}).(*barrierCaller)
	if c == nil {
		return l.Memory.Update(ctx, no, fn)
	}
	if c.updates.Add(1) > 1 {
		<-c.round.all
	}
	defer c.passed()
	return l.Memory.Update(ctx, no, fn)
}

// runBarrierRound runs call n times concurrently, each with a context that
// makes it a caller of one round of a barrierLedger, and waits for them.
func runBarrierRound(ctx context.Context, n int, call func(ctx context.Context, i int)) {
	round := &barrierRound{all: make(chan struct{})}
	round.pending.Add(n)
	go func() { round.pending.Wait(); close(round.all) }()
	var wg sync.WaitGroup
	for i := range n {
		c := &barrierCaller{round: round}
		wg.Go(func() {
			defer c.passed()
			call(context.WithValue(ctx, barrierKey{}, c), i)
		})
	}
	wg.Wait()
}

// TestOnPaidTxRunsOnceInTheLedgerTransaction (issue 13): OnPaidTx runs
// inside the ledger's update that records the order fulfilled: a failure
// records nothing and the next delivery runs it again; once it succeeded,
// duplicate deliveries and concurrent ones (all of which read the order
// as not yet fulfilled) never run it again.
func TestOnPaidTxRunsOnceInTheLedgerTransaction(t *testing.T) {
	e := setupWebhooks(t, true)
	var (
		calls, runs atomic.Int64
		failing     atomic.Bool
	)
	failing.Store(true)
	svc := mustService(t, pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now,
		OnPaidTx: func(_ context.Context, db any, f pay.Fulfilment) error {
			calls.Add(1)
			if db != nil {
				t.Errorf("OnPaidTx over ledger.Memory got db %T, want nil", db)
			}
			if failing.Load() {
				return errors.New("inserting the enrolment failed")
			}
			runs.Add(1)
			return nil
		},
	}, e.store, barrierLedger{e.ledger}, e.client)
	wh, err := pay.NewWebhookHandler(svc, e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	c := e.charge(t, seedOrderNo, channel.Alipay)
	evt := e.payCharge(t, c.ID)
	if code := e.postEvent(t, wh, evt, pingxx.HeaderWebhookSignature); code != http.StatusInternalServerError {
		t.Fatalf("delivery with OnPaidTx failing answered %d, want 500", code)
	}
	if rec := e.record(t, seedOrderNo); rec.Payment == nil || !rec.Fulfilment.FulfilledAt.IsZero() || !rec.NeedsFulfilment() {
		t.Fatalf("after OnPaidTx failed: payment %+v, fulfilment %+v; want paid and not fulfilled", rec.Payment, rec.Fulfilment)
	}

	failing.Store(false)
	const concurrent = 8
	reqs := make([]*http.Request, concurrent)
	for i := range reqs {
		reqs[i] = e.eventRequest(t, evt, pingxx.HeaderWebhookSignature)
	}
	codes := make([]int, concurrent)
	runBarrierRound(t.Context(), concurrent, func(ctx context.Context, i int) {
		codes[i] = serve(wh, reqs[i].WithContext(ctx))
	})
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("concurrent delivery %d answered %d, want 200", i, code)
		}
	}
	for i := range 2 {
		if code := e.postEvent(t, wh, evt, pingxx.HeaderWebhookSignature); code != http.StatusOK {
			t.Errorf("duplicate delivery %d answered %d, want 200", i, code)
		}
	}
	if err := svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Errorf("Reconcile: %v", err)
	}
	if calls.Load() != 2 || runs.Load() != 1 {
		t.Errorf("OnPaidTx called %d times, succeeded %d; want 2 and 1", calls.Load(), runs.Load())
	}
	if rec := e.record(t, seedOrderNo); rec.Fulfilment.FulfilledAt.IsZero() {
		t.Errorf("not recorded fulfilled after OnPaidTx succeeded: %+v", rec.Fulfilment)
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
	// Events are checked against the service's app: there is no service
	// without one.
	if svc, err := pay.New(pay.Config{}, e.store, e.ledger, e.client); err == nil {
		t.Errorf("pay.New without an AppID = %v, want an error", svc)
	}
}

// TestWebhookUnreadableSignedEventIsKept: a payload Ping++ signed but that
// payorder cannot read is kept whole, once, and acknowledged.
func TestWebhookUnreadableSignedEventIsKept(t *testing.T) {
	e := setupWebhooks(t, true)
	payloads := []string{
		`not an event at all`,
		`{"id":"evt_odd","object":"event","type":"charge.succeeded","data":{"object":{"id":"re_1","object":"refund"}}}`,
	}
	for _, payload := range payloads {
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
	type kept struct {
		Kind  ledger.AnomalyKind
		Event string
	}
	var gotKept []kept
	for _, a := range got {
		gotKept = append(gotKept, kept{a.Kind, string(a.Event)})
	}
	want := []kept{{ledger.AnomalyUnreadableEvent, payloads[0]}, {ledger.AnomalyUnreadableEvent, payloads[1]}}
	if diff := cmp.Diff(want, gotKept); diff != "" {
		t.Errorf("anomalies (-want +got), want the two payloads kept once each:\n%s", diff)
	}
}

// TestWebhookOfOtherModeIsIgnored: Ping++ uses one app id in both modes; a
// free test-mode payment must never pay an order of a live service.
func TestWebhookOfOtherModeIsIgnored(t *testing.T) {
	e := setupWebhooks(t, true)
	live := mustService(t, pay.Config{AppID: pingpptest.DefaultAppID, Livemode: true, Now: e.clock.Now}, e.store, e.ledger, e.client)
	wh, err := pay.NewWebhookHandler(live, e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	c := e.charge(t, seedOrderNo, channel.Alipay) // a test-mode charge
	if code := e.postEvent(t, wh, e.payCharge(t, c.ID), pingxx.HeaderWebhookSignature); code != http.StatusOK {
		t.Fatalf("answered %d", code)
	}
	if rec := e.record(t, seedOrderNo); rec.Payment != nil {
		t.Errorf("a test-mode payment paid a live service's order: %+v", rec.Payment)
	}
}

func mustService(t *testing.T, cfg pay.Config, store pay.OrderStore, l ledger.Ledger, gw pay.Gateway) *pay.Service {
	t.Helper()
	svc, err := pay.New(cfg, store, l, gw)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
