package pay_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// Fixtures: the seed's order and buyer, and a second buyer.
const (
	seedOrderNo  = "12134676899915430002"
	seedBuyer    = "15201052252"
	seedToken    = "706a87288233ea2427cddb8a1bbce29369ac5073"
	otherOrderNo = "20261129000000000001"
	otherBuyer   = "13800138000"
	otherToken   = "0123456789abcdef0123456789abcdef01234567"
	paidOrderNo  = "20261129000000000002"
	closedNo     = "20261129000000000003"
	expiredNo    = "20261129000000000004"

	inactiveToken = "1111111111111111111111111111111111111111"
	brokenToken   = "2222222222222222222222222222222222222222"
)

type env struct {
	emu     *pingpptest.Server
	client  *pingxx.Client
	store   *order.MemStore
	ledger  *ledger.Memory
	svc     *pay.Service
	handler http.Handler
	clock   *clock
}

// clock is a settable clock shared by the service and the emulator.
type clock struct{ now chan time.Time }

func newClock(t time.Time) *clock {
	c := &clock{now: make(chan time.Time, 1)}
	c.now <- t
	return c
}

func (c *clock) Now() time.Time {
	t := <-c.now
	c.now <- t
	return t
}

func (c *clock) Advance(d time.Duration) { c.now <- (<-c.now).Add(d) }

// tokens knows the seed tokens, an inactive user and a verifier failure.
var tokens = pay.TokenVerifierFunc(func(ctx context.Context, token string) (string, error) {
	switch token {
	case inactiveToken:
		return "", payorder.ErrUserInactive
	case brokenToken:
		return "", errors.New("token table unreachable")
	}
	return pay.StaticTokens{seedToken: seedBuyer, otherToken: otherBuyer}.VerifyToken(ctx, token)
})

// setup starts an emulator and a service over a store holding the fixtures
// and an in-memory ledger.
func setup(t testing.TB, configure ...func(*pay.Config, *pingpptest.Config)) *env {
	t.Helper()
	clk := newClock(time.Now().Truncate(time.Second))
	cfg := pay.Config{
		AppID: pingpptest.DefaultAppID, Now: clk.Now,
		Channels: []channel.Channel{channel.Alipay, channel.Wx, channel.AlipayWap, channel.WxPub},
	}
	emuCfg := pingpptest.Config{Now: clk.Now}
	for _, f := range configure {
		f(&cfg, &emuCfg)
	}
	emu := pingpptest.NewServer(emuCfg)
	t.Cleanup(emu.Close)
	client, err := pingxx.NewClient(pingxx.Config{
		SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: emu.APIBase(), HTTPClient: emu.Client(), Now: clk.Now, RetryBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	store := fixtureStore(t, clk.Now())
	l := &ledger.Memory{Now: clk.Now}
	markPaid(t, l, paidOrderNo, 100)
	svc, err := pay.New(cfg, store, l, client)
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, client: client, store: store, ledger: l, svc: svc, handler: pay.NewHandler(svc, tokens), clock: clk}
}

// markPaid records in l that order no was paid by a charge made elsewhere.
func markPaid(t testing.TB, l ledger.Ledger, no string, amount int64) {
	t.Helper()
	_, err := l.Update(context.Background(), no, func(r *ledger.Record, _ any) error {
		c := ledger.Charge{ID: "ch_paid_" + no, PingppOrderNo: no, Channel: channel.Alipay, Amount: amount, Currency: "cny", JSON: json.RawMessage(`{"id":"ch_paid_` + no + `"}`)}
		r.ApplyPayment(ledger.Payment{ChargeID: c.ID, Channel: c.Channel, Amount: amount, Currency: "cny"}, c, false)
		r.FinishFulfilment(0, true)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fixtureStore(t testing.TB, now time.Time) *order.MemStore {
	t.Helper()
	o := func(no, buyer string, amount int64, closed bool, expires time.Time) order.Order {
		return order.Order{
			No: no, Buyer: buyer, Amount: amount, Currency: "cny", Subject: "collection的使用", Body: no,
			Metadata:  map[string]any{"order_id": json.Number("1"), "buyer": buyer, "names": "collection的使用", "courses": "1"},
			Closed:    closed,
			CreatedAt: now, ExpiresAt: expires,
		}
	}
	s, err := order.NewMemStore(
		o(seedOrderNo, seedBuyer, 9900, false, time.Time{}),
		o(otherOrderNo, otherBuyer, 100, false, time.Time{}),
		o(paidOrderNo, seedBuyer, 100, false, time.Time{}),
		o(closedNo, seedBuyer, 100, true, time.Time{}),
		o(expiredNo, seedBuyer, 100, false, now.Add(-time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// response is a decoded answer of the endpoint.
type response struct {
	code   int
	header http.Header
	body   string
	env    struct {
		Status  int             `json:"status"`
		Message string          `json:"message"`
		Ch      json.RawMessage `json:"ch"`
		Detail  string          `json:"detail"`
	}
}

// put sends a request to the endpoint. contentType "" sends a form body.
func put(t testing.TB, h http.Handler, method, auth, contentType, body string) response {
	t.Helper()
	r := httptest.NewRequest(method, "/pay/pay_for_order/", strings.NewReader(body))
	r.RemoteAddr = "203.0.113.7:50000"
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded"
	}
	r.Header.Set("Content-Type", contentType)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := response{code: w.Code, header: w.Header(), body: w.Body.String()}
	if err := json.Unmarshal(w.Body.Bytes(), &res.env); err != nil {
		t.Fatalf("answer is not JSON: %v: %q", err, res.body)
	}
	return res
}

func (e *env) payForm(t testing.TB, token, orderNo, ch string) response {
	t.Helper()
	return put(t, e.handler, http.MethodPut, "Token "+token, "", "order_no="+orderNo+"&channel="+ch)
}

// decodeCharge decodes a charge answered by the endpoint.
func decodeCharge(t testing.TB, raw json.RawMessage) *pingxx.Charge {
	t.Helper()
	var c pingxx.Charge
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("decoding charge: %v", err)
	}
	return &c
}

// failingStore fails every call, for the internal-error row.
type failingStore struct{}

func (failingStore) Order(context.Context, string) (order.Order, error) {
	return order.Order{}, io.ErrUnexpectedEOF
}

// whole decodes a charge PayForOrder handed out.
func whole(t testing.TB, c *pay.Charge) *pingxx.Charge {
	t.Helper()
	d, err := c.Decode()
	if err != nil {
		t.Fatalf("decoding charge %s: %v", c.ID, err)
	}
	return d
}
