package pingpptest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/yianpay/payorder/pay/pingxx"
)

// receiver is a webhook endpoint that verifies signatures with the
// emulator's default webhook key and answers with scripted statuses.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int // answered in turn; 200 once used up
	got      []received
}

type received struct {
	body     []byte
	verified error
}

func newReceiver(t testing.TB, statuses ...int) *receiver {
	t.Helper()
	pub, err := pingxx.ParsePublicKey([]byte(WebhookPublicKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{statuses: statuses}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		verr := pingxx.Verify(pub, body, r.Header.Get(pingxx.HeaderWebhookSignature))
		rc.mu.Lock()
		rc.got = append(rc.got, received{body: body, verified: verr})
		status := http.StatusOK
		if len(rc.statuses) > 0 {
			status, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		if verr != nil {
			status = http.StatusBadRequest
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) received() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func TestPaySendsSignedChargeSucceeded(t *testing.T) {
	rc := newReceiver(t)
	clock := newClock()
	srv := newServer(t, Config{WebhookURL: rc.URL, Now: clock.Now})
	c := create(t, srv, params("alipay", nil))
	clock.Add(time.Minute)
	if err := srv.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	ds, err := srv.WaitDeliveries(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	d := ds[0]
	if !d.OK() || d.Attempt != 1 || d.Type != EventChargeSucceeded {
		t.Fatalf("delivery %+v", d)
	}
	if err := pingxx.Verify(srv.WebhookPublicKey(), d.Payload, d.Signature); err != nil {
		t.Errorf("payload does not verify with WebhookPublicKey: %v", err)
	}
	if r := rc.received(); len(r) != 1 || r[0].verified != nil || string(r[0].body) != string(d.Payload) {
		t.Errorf("receiver got %+v", r)
	}
	if diff := cmp.Diff(keyOrder(t, readTestdata(t, "W4.json")), keyOrder(t, d.Payload)); diff != "" {
		t.Errorf("event key order differs from samples/webhooks/W4.json (-sample +emulator):\n%s", diff)
	}
	var ev Event
	if err := json.Unmarshal(d.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^evt_[0-9A-Za-z]{24}$`).MatchString(ev.ID) ||
		!regexp.MustCompile(`^iar_[0-9A-Za-z]{24}$`).MatchString(ev.Request) ||
		ev.Object != "event" || ev.Livemode || ev.Created != clock.Now().Unix() || ev.PendingWebhooks != 0 {
		t.Errorf("event %+v", ev)
	}
	var paid Charge
	if err := json.Unmarshal(ev.Data.Object, &paid); err != nil {
		t.Fatal(err)
	}
	if !paid.Paid || paid.TimePaid == nil || *paid.TimePaid != clock.Now().Unix() || paid.TransactionNo == nil ||
		string(paid.Credential) != "{}" || paid.ID != c.ID {
		t.Errorf("charge in event: paid %v time_paid %v transaction_no %v credential %s",
			paid.Paid, paid.TimePaid, paid.TransactionNo, paid.Credential)
	}
	now, _ := srv.ChargeJSON(c.ID)
	if string(now) != string(ev.Data.Object) {
		t.Errorf("GET charge after pay differs from the event's charge:\n%s\n%s", now, ev.Data.Object)
	}
	// Retrieved after acknowledgement, the event has no pending webhooks.
	status, body := call(t, srv, "GET", "/v1/events/"+ev.ID, nil)
	var got Event
	json.Unmarshal(body, &got)
	if status != 200 || got.ID != ev.ID || got.PendingWebhooks != 0 {
		t.Errorf("GET event: %d %s", status, body)
	}
	if err := srv.Pay(c.ID); !errors.Is(err, ErrAlreadyPaid) {
		t.Errorf("second Pay: %v, want ErrAlreadyPaid", err)
	}
	if n := len(srv.Events()); n != 1 {
		t.Errorf("%d events after paying twice, want 1", n)
	}
}

func TestPayErrors(t *testing.T) {
	clock := newClock()
	srv := newServer(t, Config{Now: clock.Now})
	c := create(t, srv, params("wx", nil))
	if err := srv.Pay("ch_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Pay unknown: %v, want ErrNotFound", err)
	}
	clock.Add(2*time.Hour + time.Second)
	if err := srv.Pay(c.ID); !errors.Is(err, ErrExpired) {
		t.Errorf("Pay after time_expire: %v, want ErrExpired", err)
	}
	if got, _ := srv.Charge(c.ID); got.Paid || len(srv.Events()) != 0 {
		t.Errorf("expired charge paid=%v events %d", got.Paid, len(srv.Events()))
	}
}

func TestNotifyRoute(t *testing.T) {
	rc := newReceiver(t)
	srv := newServer(t, Config{WebhookURL: rc.URL, SecretKeys: []string{DefaultSecretKey, "sk_live_key"}})
	c := create(t, srv, params("wx_pub", nil))
	liveCharge := func() Charge {
		status, body := call(t, srv, "POST", "/v1/charges", params("wx", map[string]any{"order_no": "LIVE0002"}),
			"Authorization", "Bearer sk_live_key")
		if status != 200 {
			t.Fatalf("live charge: %d %s", status, body)
		}
		return decodeCharge(t, body)
	}()
	get := func(path string) (int, string) {
		resp, err := srv.Client().Get(srv.URL + path) // no Authorization: the route is open
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, path string
		status     int
		body       string
	}{
		{"PaysTestCharge", "/notify/charges/" + c.ID + "?livemode=false", 200, "success"},
		{"AlreadyPaidAnswersSuccessAgain", "/notify/charges/" + c.ID + "?livemode=false", 200, "success"},
		{"UnknownCharge", "/notify/charges/ch_nope?livemode=false", 404, "fail"},
		{"LiveCharge", "/notify/charges/" + liveCharge.ID + "?livemode=false", 400, "fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, body := get(tt.path); status != tt.status || body != tt.body {
				t.Errorf("got %d %q, want %d %q", status, body, tt.status, tt.body)
			}
		})
	}
	if got, _ := srv.Charge(c.ID); !got.Paid {
		t.Error("charge not paid by the notify route")
	}
	if ds, err := srv.WaitDeliveries(testCtx(t), 1); err != nil || len(srv.Events()) != 1 || ds[0].Type != EventChargeSucceeded {
		t.Errorf("deliveries %v %v, events %d; want one charge.succeeded", ds, err, len(srv.Events()))
	}
}

func TestRedeliveryUntilAcknowledged(t *testing.T) {
	rc := newReceiver(t, 500, 502, 200)
	srv := newServer(t, Config{WebhookURL: rc.URL, RetryScale: 1e-5})
	c := create(t, srv, params("alipay", nil))
	if err := srv.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	ds, err := srv.WaitDeliveries(testCtx(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	var got [][2]int
	for _, d := range ds {
		got = append(got, [2]int{d.Attempt, d.Status})
	}
	if diff := cmp.Diff([][2]int{{1, 500}, {2, 502}, {3, 200}}, got); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	for i, d := range ds {
		var ev Event
		json.Unmarshal(d.Payload, &ev)
		if ev.PendingWebhooks != 0 || ev.ID != ds[0].EventID {
			t.Errorf("attempt %d: event %s pending_webhooks %d, want %s and 0 as in Ping++'s deliveries", i+1, ev.ID, ev.PendingWebhooks, ds[0].EventID)
		}
	}
	srv.Close() // waits for the delivery goroutine
	if ev, _ := srv.Event(ds[0].EventID); ev.PendingWebhooks != 0 || len(srv.Deliveries()) != 3 {
		t.Errorf("after acknowledgement: pending_webhooks %d, deliveries %d; want 0 and 3", ev.PendingWebhooks, len(srv.Deliveries()))
	}
}

func TestRedeliveryGivesUpAfterEightDeliveries(t *testing.T) {
	rc := newReceiver(t, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
	// The whole schedule (about 24.4 hours) takes about 90 ms at this scale.
	srv := newServer(t, Config{WebhookURL: rc.URL, RetryScale: 1e-6})
	c := create(t, srv, params("alipay", nil))
	start := time.Now()
	if err := srv.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	ds, err := srv.WaitDeliveries(testCtx(t), MaxDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	srv.Close()
	if n := len(srv.Deliveries()); n != MaxDeliveries {
		t.Errorf("%d deliveries, want %d", n, MaxDeliveries)
	}
	if min := time.Duration(float64(1462*time.Minute) * 1e-6); elapsed < min { // 2+10+10+60+120+360+900 minutes
		t.Errorf("8 deliveries took %v, want at least the scaled schedule %v", elapsed, min)
	}
	if ev, _ := srv.Event(ds[0].EventID); ev.PendingWebhooks != 1 {
		t.Errorf("pending_webhooks %d after giving up, want 1", ev.PendingWebhooks)
	}
}

func TestTransportErrorIsRetried(t *testing.T) {
	rc := newReceiver(t)
	url := rc.URL
	rc.Close() // nothing listens there any more
	srv := newServer(t, Config{WebhookURL: url, RetryScale: 1e-6})
	c := create(t, srv, params("alipay", nil))
	srv.Pay(c.ID)
	ds, err := srv.WaitDeliveries(testCtx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].Err == nil || ds[0].Status != 0 || ds[0].OK() || ds[1].Attempt != 2 {
		t.Errorf("deliveries %+v, want a transport error then a retry", ds[:2])
	}
}

func TestManualDeliveries(t *testing.T) {
	rc := newReceiver(t)
	srv := newServer(t, Config{WebhookURL: rc.URL, ManualWebhooks: true})
	ctx := testCtx(t)
	a := create(t, srv, params("alipay", map[string]any{"order_no": "MANUAL01"}))
	b := create(t, srv, params("alipay", map[string]any{"order_no": "MANUAL02"}))
	srv.Pay(a.ID)
	srv.Pay(b.ID)
	if n := len(srv.Deliveries()); n != 0 {
		t.Fatalf("%d deliveries with ManualWebhooks, want 0", n)
	}
	evs := srv.Events()
	// Out of order and twice: b, a, b.
	for _, id := range []string{evs[1].ID, evs[0].ID, evs[1].ID} {
		if d, err := srv.Deliver(ctx, id); err != nil || !d.OK() || d.Attempt != 0 {
			t.Fatalf("Deliver %s: %+v %v", id, d, err)
		}
	}
	var order []string
	for _, r := range rc.received() {
		var ev Event
		json.Unmarshal(r.body, &ev)
		order = append(order, ev.ID)
		if r.verified != nil {
			t.Errorf("delivery of %s does not verify: %v", ev.ID, r.verified)
		}
	}
	if diff := cmp.Diff([]string{evs[1].ID, evs[0].ID, evs[1].ID}, order); diff != "" {
		t.Errorf("receiver order (-want +got):\n%s", diff)
	}
	raw, _ := srv.EventJSON(evs[0].ID)
	if d, err := srv.DeliverRaw(ctx, raw, "bm90IGEgc2lnbmF0dXJl"); err != nil || d.Status != http.StatusBadRequest {
		t.Errorf("event with a bad signature: %+v %v, want the receiver's 400", d, err)
	}
	if _, err := srv.Deliver(ctx, "evt_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Deliver unknown: %v, want ErrNotFound", err)
	}
}

func TestDeliverRaw(t *testing.T) {
	rc := newReceiver(t)
	srv := newServer(t, Config{WebhookURL: rc.URL})
	ctx := testCtx(t)
	payload := readTestdata(t, "W4.json")
	good, err := srv.SignWebhook(payload)
	if err != nil {
		t.Fatal(err)
	}
	tampered := []byte(strings.Replace(string(payload), `"amount":100`, `"amount":900`, 1))
	tests := []struct {
		name      string
		payload   []byte
		signature string
		status    int
	}{
		{"Signed", payload, good, 200},
		{"TamperedBody", tampered, good, 400},
		{"Unsigned", payload, "", 400},
		{"GarbageSignature", payload, "AAAA", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := srv.DeliverRaw(ctx, tt.payload, tt.signature)
			if err != nil || d.Status != tt.status || string(d.Payload) != string(tt.payload) {
				t.Errorf("DeliverRaw: %+v %v, want status %d", d, err, tt.status)
			}
		})
	}
}

func TestWebhookPublicKeyPEM(t *testing.T) {
	srv := newServer(t, Config{})
	if got := strings.TrimSpace(string(srv.WebhookPublicKeyPEM())); got != strings.TrimSpace(WebhookPublicKeyPEM) {
		t.Errorf("WebhookPublicKeyPEM differs from the default key's public half:\n%s", got)
	}
	custom := newServer(t, Config{WebhookPrivateKeyPEM: []byte(MerchantPrivateKeyPEM)})
	if got := strings.TrimSpace(string(custom.WebhookPublicKeyPEM())); got != strings.TrimSpace(MerchantPublicKeyPEM) {
		t.Errorf("configured webhook key: public half %s", got)
	}
}

func TestRetrieveEventErrors(t *testing.T) {
	srv := newServer(t, Config{})
	tests := []struct {
		name, lang string
		want       apiErr
	}{
		{"Chinese", "zh-CN", apiErr{Type: "invalid_request_error", Message: "未找到 event : evt_17X23UCryC4r2g4vdolh6muI。", Param: "id"}},
		{"EnglishAsSampleE3", "en-US", apiErr{Type: "invalid_request_error", Message: "No such event: evt_17X23UCryC4r2g4vdolh6muI", Param: "id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, "GET", "/v1/events/evt_17X23UCryC4r2g4vdolh6muI", nil, "Accept-Language", tt.lang)
			if status != 404 {
				t.Errorf("status %d, want 404", status)
			}
			if diff := cmp.Diff(tt.want, decodeErr(t, body)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
