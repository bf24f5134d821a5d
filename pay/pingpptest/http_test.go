package pingpptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/yianpay/payorder/pay/pingxx"
)

func TestAuth(t *testing.T) {
	const live = "sk_live_0123456789abcdefghijklmn"
	srv := newServer(t, Config{SecretKeys: []string{DefaultSecretKey, live}})
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	tests := []struct {
		name     string
		auth     string // "" sends no header
		status   int
		message  string
		livemode bool
	}{
		{name: "BasicTestKey", auth: basic(DefaultSecretKey, ""), status: 200},
		{name: "BearerTestKey", auth: "Bearer " + DefaultSecretKey, status: 200},
		{name: "BearerLowercaseScheme", auth: "bearer " + DefaultSecretKey, status: 200},
		{name: "BearerLiveKeyMakesLiveCharge", auth: "Bearer " + live, status: 200, livemode: true},
		{name: "NoHeader", status: 401, message: "没有提供 API KEY"},
		{name: "WrongTestKeyMasked", auth: "Bearer sk_test_wrongwrongwrongwrongwrong",
			status: 401, message: "提供了无效的 API KEY: sk_test_*************************。"},
		{name: "WrongBasicKeyMasked", auth: basic("sk_live_nope", ""), status: 401, message: "提供了无效的 API KEY: sk_live_****。"},
		{name: "UnknownScheme", auth: "Token " + DefaultSecretKey, status: 401, message: "没有提供 API KEY"},
		{name: "BadBase64", auth: "Basic !!!", status: 401, message: "没有提供 API KEY"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{"Authorization", tt.auth}
			p := params("alipay", map[string]any{"order_no": "AUTH" + strconv.Itoa(1000+i)})
			status, body := call(t, srv, "POST", "/v1/charges", p, hdr...)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if tt.status != 200 {
				want := apiErr{Type: "invalid_request_error", Message: tt.message}
				if got := decodeErr(t, body); !strings.HasPrefix(got.Message, tt.message) || got.Type != want.Type || got.Param != "" {
					t.Errorf("error %+v, want %+v", got, want)
				}
				return
			}
			if c := decodeCharge(t, body); c.Livemode != tt.livemode {
				t.Errorf("livemode %v, want %v", c.Livemode, tt.livemode)
			}
		})
	}
}

func TestAuthMatchesSampleE1(t *testing.T) {
	srv := newServer(t, Config{})
	status, body := call(t, srv, "POST", "/v1/charges", params("alipay", nil),
		"Authorization", "Bearer sk_test_ibbTe5jLGCi5rzfH4OqPW9KCx")
	_, sampleBody, _ := strings.Cut(string(readTestdata(t, "E1.http")), "\n\n")
	if status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401 as in E1.http", status)
	}
	if diff := cmp.Diff(decodeErr(t, []byte(sampleBody)), decodeErr(t, body)); diff != "" {
		t.Errorf("401 body differs from samples/errors/E1.http (-sample +emulator):\n%s", diff)
	}
}

func decodeCharge(t testing.TB, body []byte) Charge {
	t.Helper()
	var c Charge
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("charge %s: %v", body, err)
	}
	return c
}

func TestRequestSignature(t *testing.T) {
	srv := newServer(t, Config{MerchantPublicKeyPEM: []byte(MerchantPublicKeyPEM)})
	key, err := pingxx.ParsePrivateKey([]byte(MerchantPrivateKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	c := create(t, newServer(t, Config{}), params("alipay", nil)) // an id from elsewhere
	body := mustJSON(t, params("alipay", nil))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sign := func(body []byte, uri string) string {
		s, err := pingxx.SignRequest(key, body, uri, ts)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name, method, path string
		body               []byte
		sig                string
		status             int
		message            string
	}{
		{"SignedPost", "POST", "/v1/charges", body, sign(body, "/v1/charges"), 200, ""},
		{"UnsignedPost", "POST", "/v1/charges", body, "", 400, "没有提供签名串，需要在 header 中加入签名串。"},
		{"SignatureOverOtherBody", "POST", "/v1/charges", body, sign(append([]byte(" "), body...), "/v1/charges"), 400, "提供了无效的签名"},
		{"SignatureOverOtherURI", "POST", "/v1/charges", body, sign(body, "/v1/charges?x=1"), 400, "提供了无效的签名"},
		{"GarbageSignature", "POST", "/v1/charges", body, "bm90IGEgc2lnbmF0dXJl", 400, "提供了无效的签名"},
		{"UnsignedGet", "GET", "/v1/charges/" + c.ID, nil, "", 404, "未找到 charge"},
		{"SignedGetWithEncodedQuery", "GET", "/v1/charges?app%5Bid%5D=" + DefaultAppID, nil,
			sign(nil, "/v1/charges?app%5Bid%5D="+DefaultAppID), 200, ""},
		{"BadlySignedGet", "GET", "/v1/charges/" + c.ID, nil, sign(nil, "/v1/charges/other"), 400, "提供了无效的签名"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{pingxx.HeaderTimestamp, ts}
			if tt.sig != "" {
				hdr = append(hdr, pingxx.HeaderSignature, tt.sig)
			}
			status, out := call(t, srv, tt.method, tt.path, tt.body, hdr...)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, out)
			}
			if tt.message != "" {
				if e := decodeErr(t, out); e.Type != "invalid_request_error" || !strings.HasPrefix(e.Message, tt.message) {
					t.Errorf("error %+v, want message %q", e, tt.message)
				}
			}
		})
	}
}

func TestUnknownRoute(t *testing.T) {
	srv := newServer(t, Config{})
	status, body := call(t, srv, "GET", "/v1/transfers", nil)
	if e := decodeErr(t, body); status != 404 || e.Type != "invalid_request_error" {
		t.Errorf("status %d error %+v, want 404 invalid_request_error", status, e)
	}
}

// rawResult is what a raw HTTP client saw.
type rawResult struct {
	status      int
	contentType string
	body        string
	err         error
}

func rawCall(srv *Server, method, path string, body []byte, timeout time.Duration) rawResult {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, bytes.NewReader(body))
	req.SetBasicAuth(DefaultSecretKey, "")
	resp, err := srv.Client().Do(req)
	if err != nil {
		return rawResult{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawResult{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(b), err: err}
}

func TestFaultKinds(t *testing.T) {
	nginx502 := "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	const apiErrBody = `{"error":{"type":"api_error","message":"服务器内部错误，请稍后重试。"}}`
	tests := []struct {
		name    string
		fault   Fault
		status  int
		body    string // exact, unless prefix is set
		prefix  bool
		wantErr bool
	}{
		{name: "HTTP500JSON", fault: Fault{Kind: FaultHTTP500JSON}, status: 500, body: apiErrBody},
		{name: "HTTP500HTML", fault: Fault{Kind: FaultHTTP500HTML}, status: 500, body: "<html>\r\n<head><title>500 Internal Server Error</title>", prefix: true},
		{name: "HTTP502JSON", fault: Fault{Kind: FaultHTTP502JSON}, status: 502, body: apiErrBody},
		{name: "HTTP502HTML", fault: Fault{Kind: FaultHTTP502HTML}, status: 502, body: nginx502},
		{name: "HTTP503JSON", fault: Fault{Kind: FaultHTTP503JSON}, status: 503, body: apiErrBody},
		{name: "HTTP503HTML", fault: Fault{Kind: FaultHTTP503HTML}, status: 503, body: "<html>\r\n<head><title>503 Service Unavailable</title>", prefix: true},
		{name: "MalformedJSON", fault: Fault{Kind: FaultMalformedJSON}, status: 200, body: `{"id":"ch_`, prefix: true},
		{name: "EmptyBody", fault: Fault{Kind: FaultEmptyBody}, status: 200, body: ""},
		{name: "NullBody", fault: Fault{Kind: FaultNullBody}, status: 200, body: "null"},
		{name: "ErrorMissingFields", fault: Fault{Kind: FaultErrorMissingFields}, status: 400, body: `{"error":{}}`},
		{name: "ErrorNullFields", fault: Fault{Kind: FaultErrorNullFields}, status: 400,
			body: `{"error":{"type":"invalid_request_error","message":null,"param":null}}`},
		{name: "ErrorNotObject", fault: Fault{Kind: FaultErrorNotObject}, status: 400, body: `{"error":"boom"}`},
		{name: "Custom", fault: Fault{Kind: FaultCustom, Status: 403, Body: `{"error":{"type":"rate_limit_error","message":"x"}}`},
			status: 403, body: `{"error":{"type":"rate_limit_error","message":"x"}}`},
		{name: "Reset", fault: Fault{Kind: FaultReset}, wantErr: true},
		{name: "NoAnswer", fault: Fault{Kind: FaultNoAnswer}, wantErr: true},
	}
	for _, tt := range tests {
		for _, after := range []bool{false, true} {
			name := tt.name
			if after {
				name += "After"
			}
			t.Run(name, func(t *testing.T) {
				srv := newServer(t, Config{})
				f := tt.fault
				f.Route, f.Times, f.After = RouteCreateCharge, 1, after
				srv.Fail(f)
				got := rawCall(srv, "POST", "/v1/charges", mustJSON(t, params("alipay", nil)), 300*time.Millisecond)
				if tt.wantErr {
					if got.err == nil {
						t.Fatalf("got answer %d %q, want a transport error", got.status, got.body)
					}
				} else {
					if got.err != nil || got.status != tt.status {
						t.Fatalf("got %d %v, want %d", got.status, got.err, tt.status)
					}
					if tt.prefix && !strings.HasPrefix(got.body, tt.body) || !tt.prefix && got.body != tt.body {
						t.Errorf("body %q, want %q (prefix %v)", got.body, tt.body, tt.prefix)
					}
				}
				want := int64(0)
				if after {
					want = 1 // processed, then the answer was replaced
				}
				if s := srv.Stats(); s.ChargesCreated != want || len(srv.Charges()) != int(want) {
					t.Errorf("ChargesCreated %d, charges %d; want %d", s.ChargesCreated, len(srv.Charges()), want)
				}
				// Times: 1 means the next request is served normally.
				if again := rawCall(srv, "POST", "/v1/charges", mustJSON(t, params("alipay", nil)), 5*time.Second); again.status != 200 {
					t.Errorf("second request: %d %v %s, want 200", again.status, again.err, again.body)
				}
			})
		}
	}
}

func TestFaultRouting(t *testing.T) {
	srv := newServer(t, Config{})
	c := create(t, srv, params("alipay", nil))
	srv.Fail(Fault{Route: RouteRetrieveCharge, Kind: FaultHTTP503JSON, Times: 2})
	srv.Fail(Fault{Route: RouteAny, Kind: FaultHTTP500JSON, Times: 1})
	var got []int
	for range 4 {
		got = append(got, rawCall(srv, "GET", "/v1/charges/"+c.ID, nil, 5*time.Second).status)
	}
	got = append(got, rawCall(srv, "GET", "/v1/charges?app[id]="+DefaultAppID, nil, 5*time.Second).status)
	if diff := cmp.Diff([]int{503, 503, 500, 200, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	srv.Fail(Fault{Route: RouteListCharges, Kind: FaultHTTP502HTML})
	for range 3 {
		if s := rawCall(srv, "GET", "/v1/charges?app[id]="+DefaultAppID, nil, 5*time.Second).status; s != 502 {
			t.Errorf("Times 0 fault: status %d, want 502 every time", s)
		}
	}
	srv.ClearFaults()
	if s := rawCall(srv, "GET", "/v1/charges?app[id]="+DefaultAppID, nil, 5*time.Second).status; s != 200 {
		t.Errorf("after ClearFaults: status %d, want 200", s)
	}
}

func TestFaultProbability(t *testing.T) {
	srv := newServer(t, Config{})
	c := create(t, srv, params("alipay", nil))
	srv.Fail(Fault{Route: RouteRetrieveCharge, Kind: FaultHTTP500JSON, Probability: 0.5})
	failed := 0
	const n = 400
	for range n {
		if rawCall(srv, "GET", "/v1/charges/"+c.ID, nil, 5*time.Second).status == 500 {
			failed++
		}
	}
	// Binomial(400, 0.5): outside [140, 260] has probability below 1e-9.
	if failed < 140 || failed > 260 {
		t.Errorf("%d of %d requests failed, want about half", failed, n)
	}
}

func TestFaultLatency(t *testing.T) {
	srv := newServer(t, Config{})
	srv.Fail(Fault{Route: RouteCreateCharge, Kind: FaultLatency, Latency: 50 * time.Millisecond, Times: 1})
	start := time.Now()
	got := rawCall(srv, "POST", "/v1/charges", mustJSON(t, params("alipay", nil)), 5*time.Second)
	if elapsed := time.Since(start); got.status != 200 || elapsed < 50*time.Millisecond {
		t.Errorf("status %d after %v, want 200 after at least 50ms", got.status, elapsed)
	}
	srv.Fail(Fault{Route: RouteCreateCharge, Kind: FaultLatency, Latency: time.Hour, Times: 1})
	if got := rawCall(srv, "POST", "/v1/charges", mustJSON(t, params("alipay", nil)), 50*time.Millisecond); got.err == nil {
		t.Errorf("hour-long latency answered %d before the client's timeout", got.status)
	}
	if n := srv.Stats().ChargesCreated; n != 1 {
		t.Errorf("ChargesCreated %d, want 1: a request abandoned during latency is not processed", n)
	}
}

func TestStatsInFlight(t *testing.T) {
	srv := newServer(t, Config{})
	srv.Fail(Fault{Route: RouteListCharges, Kind: FaultNoAnswer})
	const n = 3
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.APIBase()+"/charges?app[id]="+DefaultAppID, nil)
			req.SetBasicAuth(DefaultSecretKey, "")
			resp, err := srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		})
	}
	waitFor(t, "3 requests in flight", func() bool { return srv.Stats().InFlight == n })
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("held request ended with %v, want context.Canceled", err)
		}
	}
	waitFor(t, "requests to finish", func() bool { return srv.Stats().InFlight == 0 })
	if s := srv.Stats(); s.MaxInFlight != n || s.Requests != n {
		t.Errorf("stats %+v, want MaxInFlight %d and Requests %d", s, n, n)
	}
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	srv := NewServer(Config{})
	srv.Fail(Fault{Route: RouteAny, Kind: FaultNoAnswer})
	done := make(chan rawResult)
	go func() { done <- rawCall(srv, "GET", "/v1/charges/ch_x", nil, time.Minute) }()
	waitFor(t, "request in flight", func() bool { return srv.Stats().InFlight == 1 })
	srv.Close()
	if got := <-done; got.err == nil {
		t.Errorf("held request answered %d after Close, want a transport error", got.status)
	}
}
