package pingxx_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingplusplus/pingpp-go/pingpp"
	pcharge "github.com/pingplusplus/pingpp-go/pingpp/charge"
	prefund "github.com/pingplusplus/pingpp-go/pingpp/refund"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// emulator starts a Ping++ emulator that checks request signatures and a
// client for it with fast retries.
func emulator(tb testing.TB, opts ...func(*pingxx.Config)) (*pingxx.Client, *pingpptest.Server) {
	tb.Helper()
	srv := pingpptest.NewServer(pingpptest.Config{MerchantPublicKeyPEM: []byte(pingpptest.MerchantPublicKeyPEM)})
	tb.Cleanup(srv.Close)
	cfg := pingxx.Config{
		SecretKey:     pingpptest.DefaultSecretKey,
		AppID:         pingpptest.DefaultAppID,
		PrivateKeyPEM: []byte(pingpptest.MerchantPrivateKeyPEM),
		BaseURL:       srv.APIBase(),
		HTTPClient:    srv.Client(),
		RetryBackoff:  time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := pingxx.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c, srv
}

var orderSeq atomic.Int64

// params returns charge parameters with a fresh order number.
func params(ch channel.Channel) *pingxx.ChargeParams {
	p := &pingxx.ChargeParams{
		OrderNo: "PO" + strconv.FormatInt(time.Now().UnixNano()%1e9, 10) + strconv.FormatInt(orderSeq.Add(1), 10),
		Channel: ch, Amount: 990, Currency: "cny", ClientIP: "127.0.0.1",
		Subject: "课程", Body: "Go 进阶", Metadata: map[string]any{"order_no": "A-1"},
	}
	if ch == channel.WxPub {
		p.Extra = map[string]any{"open_id": "o7xEMsySBFG3MVHI-9VsAJX-j50W"}
	}
	return p
}

func TestEmulatorEveryRoute(t *testing.T) {
	c, srv := emulator(t)
	ctx := context.Background()
	since := time.Now().Add(-time.Minute)

	p := params(channel.Wx)
	created, err := c.CreateCharge(ctx, p)
	if err != nil {
		t.Fatalf("CreateCharge: %v", err)
	}
	if created.OrderNo != p.OrderNo || created.Amount != 990 || created.App != pingpptest.DefaultAppID || created.Livemode || created.Paid {
		t.Errorf("created %+v", created)
	}
	if cred, err := created.TypedCredential(); err != nil || cred == nil || cred.Channel() != channel.Wx {
		t.Errorf("credential %#v, %v", cred, err)
	}
	stored, _ := srv.ChargeJSON(created.ID)
	if string(created.Raw()) != string(stored) {
		t.Errorf("charge bytes differ from the emulator's:\n got %s\nwant %s", created.Raw(), stored)
	}

	got, err := c.RetrieveCharge(ctx, created.ID)
	if err != nil || got.ID != created.ID {
		t.Fatalf("RetrieveCharge = %v, %v", got, err)
	}

	other, err := c.CreateCharge(ctx, params(channel.WxPub))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Pay(created.ID); err != nil {
		t.Fatal(err)
	}
	yes := true
	list, err := c.ListCharges(ctx, pingxx.ListFilter{Paid: &yes, CreatedGTE: since, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != created.ID || !list.Data[0].Paid {
		t.Errorf("paid list: %d charges %v", len(list.Data), ids(list.Data))
	}
	list, err = c.ListCharges(ctx, pingxx.ListFilter{Channel: channel.WxPub})
	if err != nil || len(list.Data) != 1 || list.Data[0].ID != other.ID {
		t.Errorf("wx_pub list = %v, %v", list, err)
	}
	page1, err := c.ListCharges(ctx, pingxx.ListFilter{Limit: 1})
	if err != nil || len(page1.Data) != 1 || !page1.HasMore {
		t.Fatalf("page 1 = %+v, %v", page1, err)
	}
	page2, err := c.ListCharges(ctx, pingxx.ListFilter{Limit: 1, StartingAfter: page1.Data[0].ID})
	if err != nil || len(page2.Data) != 1 || page2.Data[0].ID == page1.Data[0].ID {
		t.Errorf("page 2 = %+v, %v", page2, err)
	}

	found, err := c.FindCharges(ctx, p.OrderNo, since, time.Time{})
	if err != nil || len(found) != 1 || found[0].ID != created.ID {
		t.Errorf("FindCharges = %v, %v", ids(found), err)
	}

	events := srv.Events()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	ev, err := c.RetrieveEvent(ctx, events[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	paid, err := ev.Charge()
	if err != nil || ev.Type != "charge.succeeded" || paid.ID != created.ID || !paid.Paid || paid.TransactionNo == "" {
		t.Errorf("event %s %s: charge %+v, %v", ev.ID, ev.Type, paid, err)
	}

	// Refund routes through pingpp-go's refund client on our transport.
	rf, err := prefund.Client{B: c.Backend(ctx)}.New(created.ID, &pingpp.RefundParams{Amount: 100, Description: "退课"})
	if err != nil || rf.ID == "" || rf.Amount != 100 {
		t.Fatalf("refund = %+v, %v", rf, err)
	}
	sdk, err := pcharge.Client{B: c.Backend(ctx)}.Get(created.ID)
	if err != nil || !sdk.Refunded || sdk.Refunds == nil || len(sdk.Refunds.Values) != 1 {
		t.Errorf("charge after refund = %+v, %v", sdk, err)
	}
}

func TestEmulatorErrors(t *testing.T) {
	c, _ := emulator(t)
	ctx := context.Background()
	_, err := c.RetrieveCharge(ctx, "ch_doesnotexist000000000000")
	var e *pingxx.Error
	if !errors.As(err, &e) || e.HTTPStatus != 404 || e.Param != "id" {
		t.Errorf("unknown charge: %v", err)
	}
	p := params(channel.Wx)
	p.Amount = 0
	if _, err := c.CreateCharge(ctx, p); !errors.As(err, &e) || e.HTTPStatus != 400 || errors.Is(err, pingxx.ErrOutcomeUnknown) {
		t.Errorf("amount 0: %v", err)
	}
	bad, _ := emulator(t, func(cfg *pingxx.Config) { cfg.SecretKey = "sk_test_wrongwrongwrongwrongwron1" })
	if _, err := bad.CreateCharge(ctx, params(channel.Wx)); !errors.As(err, &e) || e.HTTPStatus != 401 {
		t.Errorf("wrong key: %v", err)
	}
	unsigned, _ := emulator(t, func(cfg *pingxx.Config) { cfg.PrivateKeyPEM = nil })
	if _, err := unsigned.CreateCharge(ctx, params(channel.Wx)); !errors.As(err, &e) || e.HTTPStatus/100 != 4 {
		t.Errorf("unsigned create against a signing emulator: %v", err)
	}
	wrongKey, _ := emulator(t, func(cfg *pingxx.Config) { cfg.PrivateKeyPEM = []byte(pingpptest.WebhookPrivateKeyPEM) })
	if _, err := wrongKey.CreateCharge(ctx, params(channel.Wx)); !errors.As(err, &e) || e.HTTPStatus/100 != 4 {
		t.Errorf("create signed with the wrong key: %v", err)
	}
}

// Every fault mode on create: the right error, no panic, and never a
// second (phantom) charge.
func TestEmulatorCreateFaults(t *testing.T) {
	type want struct {
		ok      bool // a charge comes back
		unknown bool // ErrOutcomeUnknown
		status  int  // *Error's HTTPStatus, 0 for none
		created int64
		tries   int64
	}
	tests := []struct {
		name  string
		fault pingpptest.Fault
		want  want
	}{
		{"Latency", pingpptest.Fault{Kind: pingpptest.FaultLatency, Latency: 10 * time.Millisecond}, want{ok: true, created: 1, tries: 1}},
		{"500JSONOnceThenOK", pingpptest.Fault{Kind: pingpptest.FaultHTTP500JSON, Times: 1}, want{ok: true, created: 1, tries: 2}},
		{"502HTMLTwiceThenOK", pingpptest.Fault{Kind: pingpptest.FaultHTTP502HTML, Times: 2}, want{ok: true, created: 1, tries: 3}},
		{"502HTMLAlways", pingpptest.Fault{Kind: pingpptest.FaultHTTP502HTML}, want{unknown: true, status: 502, tries: 3}},
		{"503JSONAlways", pingpptest.Fault{Kind: pingpptest.FaultHTTP503JSON}, want{unknown: true, status: 503, tries: 3}},
		{"500HTMLAlways", pingpptest.Fault{Kind: pingpptest.FaultHTTP500HTML}, want{unknown: true, status: 500, tries: 3}},
		{"MalformedJSON", pingpptest.Fault{Kind: pingpptest.FaultMalformedJSON}, want{unknown: true, tries: 3}},
		{"EmptyBody", pingpptest.Fault{Kind: pingpptest.FaultEmptyBody}, want{unknown: true, tries: 3}},
		{"NullBody", pingpptest.Fault{Kind: pingpptest.FaultNullBody}, want{unknown: true, tries: 3}},
		{"ErrorMissingFields", pingpptest.Fault{Kind: pingpptest.FaultErrorMissingFields}, want{status: 400, tries: 1}},
		{"ErrorNullFields", pingpptest.Fault{Kind: pingpptest.FaultErrorNullFields}, want{status: 400, tries: 1}},
		{"ErrorNotObject", pingpptest.Fault{Kind: pingpptest.FaultErrorNotObject}, want{status: 400, tries: 1}},
		{"ChannelError", pingpptest.Fault{Kind: pingpptest.FaultCustom, Status: 402, Body: `{"error":{"type":"channel_error","code":"channel_request_error","message":"来自 wx 渠道的错误信息：签名错误"}}`}, want{status: 402, tries: 1}},
		{"ResetOnceThenOK", pingpptest.Fault{Kind: pingpptest.FaultReset, Times: 1}, want{ok: true, created: 1, tries: 2}},
		{"ResetAlways", pingpptest.Fault{Kind: pingpptest.FaultReset}, want{unknown: true, tries: 3}},
		// The charge is created and the answer lost: the identical resend
		// inside the idempotency window returns that same charge.
		{"AnswerLostOnce", pingpptest.Fault{Kind: pingpptest.FaultHTTP502HTML, Times: 1, After: true}, want{ok: true, created: 1, tries: 2}},
		{"ResetAfterCreateOnce", pingpptest.Fault{Kind: pingpptest.FaultReset, Times: 1, After: true}, want{ok: true, created: 1, tries: 2}},
		{"AnswerAlwaysLost", pingpptest.Fault{Kind: pingpptest.FaultHTTP503JSON, After: true}, want{unknown: true, status: 503, created: 1, tries: 3}},
		{"MalformedAfterCreate", pingpptest.Fault{Kind: pingpptest.FaultMalformedJSON, After: true}, want{unknown: true, created: 1, tries: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv := emulator(t)
			tt.fault.Route = pingpptest.RouteCreateCharge
			srv.Fail(tt.fault)
			p := params(channel.Wx)
			since := time.Now().Add(-time.Minute)
			ch, err := c.CreateCharge(context.Background(), p)
			w := tt.want
			if (ch != nil) != w.ok || (err == nil) != w.ok {
				t.Fatalf("CreateCharge = %v, %v; want ok=%v", ch, err, w.ok)
			}
			if got := errors.Is(err, pingxx.ErrOutcomeUnknown); got != w.unknown {
				t.Errorf("ErrOutcomeUnknown = %v, want %v (err %v)", got, w.unknown, err)
			}
			if status := statusOf(err); status != w.status {
				t.Errorf("*Error status %d, want %d (err %v)", status, w.status, err)
			}
			st := srv.Stats()
			if st.ChargesCreated != w.created || st.Requests != w.tries {
				t.Errorf("emulator: %d charges from %d requests, want %d from %d", st.ChargesCreated, st.Requests, w.created, w.tries)
			}
			srv.ClearFaults()
			found, err := c.FindCharges(context.Background(), p.OrderNo, since, time.Time{})
			if err != nil || int64(len(found)) != w.created {
				t.Errorf("FindCharges = %v, %v; want %d", ids(found), err, w.created)
			}
			if ch != nil && (len(found) != 1 || found[0].ID != ch.ID) {
				t.Errorf("returned %s but Ping++ holds %v", ch.ID, ids(found))
			}
		})
	}
}

// Reads recover from one fault and report persistent ones as *Error; they
// are never ErrOutcomeUnknown.
func TestEmulatorReadFaults(t *testing.T) {
	c, srv := emulator(t)
	ctx := context.Background()
	ch, err := c.CreateCharge(ctx, params(channel.Wx))
	if err != nil {
		t.Fatal(err)
	}
	reads := map[pingpptest.Route]func() error{
		pingpptest.RouteRetrieveCharge: func() error { _, err := c.RetrieveCharge(ctx, ch.ID); return err },
		pingpptest.RouteListCharges:    func() error { _, err := c.ListCharges(ctx, pingxx.ListFilter{}); return err },
	}
	for route, read := range reads {
		srv.Fail(pingpptest.Fault{Route: route, Kind: pingpptest.FaultHTTP502HTML, Times: 2})
		if err := read(); err != nil {
			t.Errorf("%s after two 502s: %v", route, err)
		}
		srv.Fail(pingpptest.Fault{Route: route, Kind: pingpptest.FaultReset, Times: 1})
		if err := read(); err != nil {
			t.Errorf("%s after a reset: %v", route, err)
		}
		srv.Fail(pingpptest.Fault{Route: route, Kind: pingpptest.FaultHTTP503JSON})
		err := read()
		var e *pingxx.Error
		if !errors.As(err, &e) || e.HTTPStatus != 503 || errors.Is(err, pingxx.ErrOutcomeUnknown) {
			t.Errorf("%s under persistent 503: %v", route, err)
		}
		srv.ClearFaults()
		srv.Fail(pingpptest.Fault{Route: route, Kind: pingpptest.FaultNullBody})
		if err := read(); !errors.Is(err, pingxx.ErrMalformedResponse) {
			t.Errorf("%s answering null: %v", route, err)
		}
		srv.ClearFaults()
	}
}

func TestEmulatorCancellation(t *testing.T) {
	t.Run("NoAnswerUntilDeadline", func(t *testing.T) {
		c, srv := emulator(t)
		srv.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultNoAnswer, After: true})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.CreateCharge(ctx, params(channel.Wx))
		if !errors.Is(err, pingxx.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown and DeadlineExceeded", err)
		}
		if st := srv.Stats(); st.ChargesCreated != 1 || st.Requests != 1 {
			t.Errorf("stats %+v: want the one charge the caller must look up", st)
		}
	})
	t.Run("CancelWhileHeld", func(t *testing.T) {
		c, srv := emulator(t)
		srv.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultNoAnswer})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := c.CreateCharge(ctx, params(channel.Wx)); done <- err }()
		waitFor(t, func() bool { return srv.Stats().InFlight == 1 })
		cancel()
		err := <-done
		if !errors.Is(err, pingxx.ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown and context.Canceled", err)
		}
		if st := srv.Stats(); st.Requests != 1 || st.ChargesCreated != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("CancelledBeforeSending", func(t *testing.T) {
		c, srv := emulator(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.CreateCharge(ctx, params(channel.Wx))
		if !errors.Is(err, context.Canceled) || errors.Is(err, pingxx.ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want context.Canceled only", err)
		}
		if st := srv.Stats(); st.Requests != 0 {
			t.Errorf("%d requests", st.Requests)
		}
	})
}

// Concurrent creates on one client make one charge each.
func TestEmulatorConcurrentCreates(t *testing.T) {
	c, srv := emulator(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.CreateCharge(context.Background(), params(channel.Alipay))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := srv.Stats(); st.ChargesCreated != n {
		t.Errorf("%d charges, want %d", st.ChargesCreated, n)
	}
}

// waitFor polls a condition of the emulator's state, failing after 10 s.
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not reached in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func ids(chs []*pingxx.Charge) []string {
	out := []string{}
	for _, ch := range chs {
		out = append(out, ch.ID)
	}
	return out
}

// BenchmarkCreateCharge creates charges against one in-process emulator with
// the same key and request signing, through our client (payorder) and
// through pingpp-go's charge.New (pingpp-go), and reports our time per charge
// over theirs as payorder/pingpp-go. The alternating sub-benchmark makes one
// charge each way per iteration, so that load from other processes hits
// both sides alike; its ratio is the steadier one.
//
// The alternating sub-benchmark also makes one charge the cheapest way a Go
// client can (floorCreate: one signature, one round trip through the same
// http.Client, the answer read and not decoded) and reports it as
// floor/pingpp-go: the lowest payorder/pingpp-go any client could reach on
// this machine with Go's constant-time RSA.
func BenchmarkCreateCharge(b *testing.B) {
	srv := pingpptest.NewServer(pingpptest.Config{MerchantPublicKeyPEM: []byte(pingpptest.MerchantPublicKeyPEM)})
	defer srv.Close()
	ours := oursCreate(b, srv)
	theirs, restore := pingppGoCreate(srv)
	defer restore()
	floor := floorCreate(b, srv)

	var oursNs float64 // ns per charge of the last payorder run
	b.Run("payorder", func(b *testing.B) {
		for b.Loop() {
			ours(b)
		}
		oursNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("pingpp-go", func(b *testing.B) {
		for b.Loop() {
			theirs(b)
		}
		if oursNs > 0 {
			b.ReportMetric(oursNs/(float64(b.Elapsed().Nanoseconds())/float64(b.N)), "payorder/pingpp-go")
		}
	})
	b.Run("alternating", func(b *testing.B) {
		var o, t, f time.Duration
		for b.Loop() {
			start := time.Now()
			ours(b)
			mid := time.Now()
			theirs(b)
			end := time.Now()
			floor(b)
			o, t, f = o+mid.Sub(start), t+end.Sub(mid), f+time.Since(end)
		}
		b.ReportMetric(float64(o)/float64(t), "payorder/pingpp-go")
		b.ReportMetric(float64(f)/float64(t), "floor/pingpp-go")
	})
}

// floorCreate returns a function that creates one charge with only what no
// client can leave out: a body with a new order number, its signature, one
// round trip through the emulator's http.Client, and the status checked. It
// reads the answer without decoding it.
func floorCreate(b *testing.B, srv *pingpptest.Server) func(testing.TB) {
	key, err := pingxx.ParsePrivateKey([]byte(pingpptest.MerchantPrivateKeyPEM))
	if err != nil {
		b.Fatal(err)
	}
	hc, url := srv.Client(), srv.APIBase()+"/charges"
	uri := "/v1/charges"
	return func(tb testing.TB) {
		body := []byte(`{"order_no":"` + params(channel.Wx).OrderNo +
			`","app":{"id":"` + pingpptest.DefaultAppID +
			`"},"channel":"wx","amount":990,"currency":"cny","client_ip":"127.0.0.1","subject":"课程","body":"Go 进阶"}`)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		sig, err := pingxx.SignRequest(key, body, uri, ts)
		if err != nil {
			tb.Fatal(err)
		}
		req, err := http.NewRequest("POST", url, bytes.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		req.SetBasicAuth(pingpptest.DefaultSecretKey, "")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(pingxx.HeaderTimestamp, ts)
		req.Header.Set(pingxx.HeaderSignature, sig)
		resp, err := hc.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n == 0 {
			tb.Fatalf("floor create: status %d, %d bytes, %v", resp.StatusCode, n, err)
		}
	}
}

// oursCreate returns a function that creates one charge with our client.
func oursCreate(b *testing.B, srv *pingpptest.Server) func(testing.TB) {
	c, err := pingxx.NewClient(pingxx.Config{
		SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		PrivateKeyPEM: []byte(pingpptest.MerchantPrivateKeyPEM),
		BaseURL:       srv.APIBase(), HTTPClient: srv.Client(),
	})
	if err != nil {
		b.Fatal(err)
	}
	return func(tb testing.TB) {
		if ch, err := c.CreateCharge(context.Background(), params(channel.Wx)); err != nil || ch.ID == "" {
			tb.Fatal(ch, err)
		}
	}
}

// pingppGoCreate returns a function that creates one charge with
// pingpp-go's charge.New, configured through the SDK's globals (the only
// way it works), and a function that restores them.
func pingppGoCreate(srv *pingpptest.Server) (create func(testing.TB), restore func()) {
	oldKey, oldPriv, oldLevel := pingpp.Key, pingpp.AccountPrivateKey, pingpp.LogLevel
	oldBackend := pingpp.GetBackend(pingpp.APIBackend)
	pingpp.Key = pingpptest.DefaultSecretKey
	pingpp.AccountPrivateKey = pingpptest.MerchantPrivateKeyPEM
	pingpp.LogLevel = 0
	pingpp.SetBackend(pingpp.APIBackend, &pingpp.ApiBackend{Type: pingpp.APIBackend, URL: srv.APIBase(), HTTPClient: srv.Client()})
	create = func(tb testing.TB) {
		p := params(channel.Wx)
		sdk := &pingpp.ChargeParams{
			Order_no: p.OrderNo, App: pingpp.App{Id: pingpptest.DefaultAppID}, Channel: string(p.Channel),
			Amount: uint64(p.Amount), Currency: p.Currency, Client_ip: p.ClientIP, Subject: p.Subject, Body: p.Body,
		}
		if ch, err := pcharge.New(sdk); err != nil || ch.ID == "" {
			tb.Fatal(ch, err)
		}
	}
	restore = func() {
		pingpp.Key, pingpp.AccountPrivateKey, pingpp.LogLevel = oldKey, oldPriv, oldLevel
		pingpp.SetBackend(pingpp.APIBackend, oldBackend)
	}
	return create, restore
}

// statusOf returns the HTTP status of the *Error in err, or 0.
func statusOf(err error) int {
	var e *pingxx.Error
	if errors.As(err, &e) {
		return e.HTTPStatus
	}
	return 0
}

// The client neither reads nor needs pingpp-go's globals: with every one of
// them set to something broken, it still creates, signs and retrieves.
func TestClientIgnoresPingppGoGlobals(t *testing.T) {
	c, srv := emulator(t)
	oldKey, oldPriv, oldLevel, oldLang := pingpp.Key, pingpp.AccountPrivateKey, pingpp.LogLevel, pingpp.AcceptLanguage
	oldBackend := pingpp.GetBackend(pingpp.APIBackend)
	t.Cleanup(func() {
		pingpp.Key, pingpp.AccountPrivateKey, pingpp.LogLevel, pingpp.AcceptLanguage = oldKey, oldPriv, oldLevel, oldLang
		pingpp.SetBackend(pingpp.APIBackend, oldBackend)
	})
	pingpp.Key = "sk_test_wrongwrongwrongwrongwron1"
	pingpp.AccountPrivateKey = "not a key"
	pingpp.AcceptLanguage = "xx"
	pingpp.SetBackend(pingpp.APIBackend, &pingpp.ApiBackend{Type: pingpp.APIBackend, URL: "http://127.0.0.1:1/v1", HTTPClient: srv.Client()})
	ch, err := c.CreateCharge(context.Background(), params(channel.Wx))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (pcharge.Client{B: c.Backend(context.Background())}).Get(ch.ID); err != nil {
		t.Fatalf("pingpp-go client on our Backend: %v", err)
	}
}
