package pay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// stubGateway answers every create with a well-formed charge made for the
// request, without I/O, so the fuzzer spends its time on request parsing.
// Every charge it is asked about is an unpaid charge of the default app.
type stubGateway struct{}

// stubCharges numbers the stub's charges: charge ids are unique in a ledger.
var stubCharges atomic.Int64

func (stubGateway) CreateCharge(_ context.Context, p *pingxx.ChargeParams) (*pingxx.Charge, error) {
	now := time.Now()
	expire := p.TimeExpire
	if expire.IsZero() {
		expire = now.Add(time.Hour)
	}
	raw, err := json.Marshal(map[string]any{
		"id": fmt.Sprintf("ch_fuzz%017d", stubCharges.Add(1)), "object": "charge", "created": now.Unix(),
		"livemode": false, "paid": false, "app": p.AppID, "channel": p.Channel, "order_no": p.OrderNo,
		"amount": p.Amount, "currency": p.Currency, "extra": p.Extra, "metadata": p.Metadata,
		"time_expire": expire.Unix(), "credential": map[string]any{},
	})
	if err != nil {
		return nil, err
	}
	var c pingxx.Charge
	return &c, json.Unmarshal(raw, &c)
}

func (stubGateway) RetrieveCharge(_ context.Context, id string) (*pingxx.Charge, error) {
	raw, err := json.Marshal(map[string]any{"id": id, "object": "charge", "livemode": false, "paid": false, "app": pingpptest.DefaultAppID})
	if err != nil {
		return nil, err
	}
	var c pingxx.Charge
	return &c, json.Unmarshal(raw, &c)
}

func (stubGateway) FindCharges(context.Context, string, time.Time, time.Time) ([]*pingxx.Charge, error) {
	return nil, nil
}

func (stubGateway) CreateRefund(context.Context, string, *pingxx.RefundParams) (*pingxx.Refund, error) {
	return nil, errors.New("stub gateway: no refunds")
}

func (stubGateway) ListRefunds(context.Context, string) ([]*pingxx.Refund, error) { return nil, nil }

// fuzzHandler is the endpoint over the seed order and a gateway without I/O.
func fuzzHandler(f *testing.F) *pay.Handler {
	f.Helper()
	store, err := order.NewMemStore(order.Order{No: seedOrderNo, Buyer: seedBuyer, Amount: 9900})
	if err != nil {
		f.Fatal(err)
	}
	svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, store, &ledger.Memory{}, stubGateway{})
	if err != nil {
		f.Fatal(err)
	}
	return pay.NewHandler(svc, pay.StaticTokens{seedToken: seedBuyer})
}

// FuzzHandler feeds arbitrary bodies and content types to the endpoint: no
// input may panic, and every answer is DRF's JSON (never a 500) or one of
// Django's own pages.
func FuzzHandler(f *testing.F) {
	seeds := []struct{ contentType, body string }{
		{"application/x-www-form-urlencoded", "order_no=" + seedOrderNo + "&channel=alipay"},
		{"application/x-www-form-urlencoded", "order_no=%zz&channel=alipay"},
		{"application/x-www-form-urlencoded", "order_no=" + seedOrderNo + "&channel=alipay_wap&extra[success_url]=https://a.example/"},
		{"application/json", `{"order_no":12134676899915430002,"channel":"alipay"}`},
		{"application/json", `{"order_no":"` + seedOrderNo + `","channel":"wx_pub","extra":{"open_id":1}}`},
		{"application/json", `{"order_no":1e5,"channel":null,"extra":[]}`},
		{"application/json", `[`},
		{"application/json; charset=utf-8", `{"order_no":"\u0000","channel":"\ud800"}`},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"order_no\"\r\n\r\n1\r\n--x--\r\n"},
		{"multipart/form-data", "--x\r\n"},
		{"text/plain", "hello"},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name*=a'b\r\n\r\n1\r\n--x--\r\n"},
		{"application/json", `{"a":[[[[{"b":"\u00e9\ud83d\ude00"}]]]],"order_no":-0}`},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\nContent-Transfer-Encoding: base64\r\n\r\nYQ=\r\n--x--"},
		{"", ""},
	}
	for _, s := range seeds {
		f.Add(s.contentType, s.body)
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, contentType, body string) {
		r := httptest.NewRequest(http.MethodPut, "/pay/pay_for_order/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Authorization", "Token "+seedToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Header().Get("Content-Type") == "text/html" {
			// One of Django's own pages: 400 for its limits, 500 where
			// Django itself fails (a non-ASCII Content-Type, JSON nested
			// past CPython's recursion limit).
			page := w.Body.String()
			if !strings.Contains(page, "<title>Bad Request (400)</title>") && !strings.Contains(page, "<title>Server Error (500)</title>") {
				t.Fatalf("%q %q answered the page %d %q", contentType, body, w.Code, page)
			}
			return
		}
		if w.Code >= 500 {
			t.Fatalf("%q %q answered %d %s", contentType, body, w.Code, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%q %q answered non-JSON %q", contentType, body, w.Body)
		}
	})
}

// FuzzHandlerHeaders feeds arbitrary Authorization, Accept and query strings:
// no input may panic, and every answer is DRF's JSON or one of Django's pages.
func FuzzHandlerHeaders(f *testing.F) {
	for _, s := range [][3]string{
		{"Token " + seedToken, "*/*", "format=json"},
		{"token\xa0" + seedToken, "application/json; indent=4", ""},
		{"Token a b", "application/xml,*/*;q=0.1", "format=xml&format="},
		{"Basic eDp5", "text/*;indent=x", "%zz=%"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, auth, accept, query string) {
		r := httptest.NewRequest(http.MethodPut, "/pay/pay_for_order/", strings.NewReader("order_no="+seedOrderNo+"&channel=alipay"))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header["Authorization"] = []string{auth}
		r.Header["Accept"] = []string{accept}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Header().Get("Content-Type") == "text/html" {
			if w.Code != 400 && w.Code != 500 {
				t.Fatalf("%q %q %q answered the page %d", auth, accept, query, w.Code)
			}
			return
		}
		if w.Code >= 500 || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%q %q %q answered %d %q", auth, accept, query, w.Code, w.Body)
		}
	})
}

// FuzzWebhookHandler signs arbitrary payloads with the emulator's webhook key
// and posts them: whatever a genuinely signed event holds, the receiver
// must not panic, and answers only 200 (handled or ignored) or 400.
func FuzzWebhookHandler(f *testing.F) {
	for _, seed := range []string{
		`{"id":"evt_1","object":"event","type":"charge.succeeded","livemode":false,"data":{"object":{"id":"ch_1","object":"charge","paid":true,"app":"app_1Gqj58ynP0mHeX1q","amount":9900,"currency":"cny","metadata":{"order_no":"` + seedOrderNo + `"}}}}`,
		`{"id":"evt_2","type":"refund.succeeded","data":{"object":{"id":"re_1","object":"refund","status":"succeeded","succeed":true,"charge":"ch_1","amount":1}}}`,
		`{"id":"evt_3","type":"charge.succeeded","data":{"object":[]}}`,
		`{"id":"evt_4","type":"summary.daily.available","data":{"object":{}}}`,
		`{"type":"charge.succeeded","data":null}`,
		`[]`, `null`, `{`,
	} {
		f.Add([]byte(seed))
	}
	key, err := pingxx.ParsePrivateKey([]byte(pingpptest.WebhookPrivateKeyPEM))
	if err != nil {
		f.Fatal(err)
	}
	pub, err := pingxx.ParsePublicKey([]byte(pingpptest.WebhookPublicKeyPEM))
	if err != nil {
		f.Fatal(err)
	}
	store, err := order.NewMemStore(order.Order{No: seedOrderNo, Buyer: seedBuyer, Amount: 9900})
	if err != nil {
		f.Fatal(err)
	}
	svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, store, &ledger.Memory{}, stubGateway{}) // test mode
	if err != nil {
		f.Fatal(err)
	}
	h, err := pay.NewWebhookHandler(svc, pub)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		sig, err := pingxx.SignWebhook(key, payload)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, "/pay/webhook/", bytes.NewReader(payload))
		r.Header.Set(pingxx.HeaderWebhookSignature, sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK && w.Code != http.StatusBadRequest {
			t.Fatalf("%q answered %d %s", payload, w.Code, w.Body)
		}
	})
}
