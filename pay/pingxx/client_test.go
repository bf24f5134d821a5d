package pingxx

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pingplusplus/pingpp-go/pingpp"
	pcharge "github.com/pingplusplus/pingpp-go/pingpp/charge"
	pevent "github.com/pingplusplus/pingpp-go/pingpp/event"

	"github.com/yianpay/payorder/channel"
)

const (
	testSecretKey = "sk_test_ibbTe5jLGCi5rzfH4OqPW9KC"
	testAppID     = "app_1Gqj58ynP0mHeX1q"
)

// recorded is one request the fake API received.
type recorded struct {
	Method, URI string
	Header      http.Header
	Body        string
}

// fakeAPI is an httptest server with the API mounted under /v1, so that a
// URL-joining bug fails loudly; handle answers request n (0-based).
type fakeAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []recorded
	handle func(w http.ResponseWriter, r *http.Request, n int)
}

func (f *fakeAPI) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// setup starts a fake API and a client for it with fast retries and a
// merchant key; opts adjust the client's config.
func setup(tb testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int), opts ...func(*Config)) (*Client, *fakeAPI) {
	tb.Helper()
	f := &fakeAPI{handle: handle}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, recorded{r.Method, r.RequestURI, r.Header.Clone(), string(body)})
		f.mu.Unlock()
		f.handle(w, r, n)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "outside /v1: "+r.URL.Path, http.StatusTeapot)
	})
	f.srv = httptest.NewServer(mux)
	tb.Cleanup(f.srv.Close)
	cfg := Config{
		SecretKey:     testSecretKey,
		AppID:         testAppID,
		PrivateKeyPEM: testKey(tb, "MerchantPrivateKeyPEM"),
		BaseURL:       f.srv.URL + "/v1",
		HTTPClient:    f.srv.Client(),
		RetryBackoff:  time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c, f
}

// answer writes status and body as JSON.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// hangUp closes the connection without answering: the request arrived.
func hangUp(tb testing.TB, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		tb.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

func s2(tb testing.TB) string { return string(chargeSamples(tb)["S2"]) }

func testParams() *ChargeParams {
	return &ChargeParams{
		OrderNo: "123456789", Channel: "wx", Amount: 100, Currency: "cny",
		ClientIP: "127.0.0.1", Subject: "s", Body: "b",
	}
}

func TestNewClientRejectsBadConfig(t *testing.T) {
	pem := testKey(t, "MerchantPrivateKeyPEM")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"NoSecretKey", Config{AppID: testAppID}},
		{"PublishableKey", Config{SecretKey: "pk_test_ibbTe5jLGCi5rzfH4OqPW9KC", AppID: testAppID}},
		{"PrefixOnly", Config{SecretKey: "sk_live_", AppID: testAppID}},
		{"KeyWithSpace", Config{SecretKey: "sk_live_abc def", AppID: testAppID}},
		{"NoAppID", Config{SecretKey: testSecretKey}},
		{"GarbagePEM", Config{SecretKey: testSecretKey, AppID: testAppID, PrivateKeyPEM: []byte("MIIEogIBAAKCAQEAq8kEOE5WYQOtP")}},
		{"TruncatedPEM", Config{SecretKey: testSecretKey, AppID: testAppID, PrivateKeyPEM: pem[:len(pem)/2]}},
		{"PublicKeyAsPrivate", Config{SecretKey: testSecretKey, AppID: testAppID, PrivateKeyPEM: testKey(t, "MerchantPublicKeyPEM")}},
		{"RelativeBaseURL", Config{SecretKey: testSecretKey, AppID: testAppID, BaseURL: "api.pingxx.com/v1"}},
		{"FTPBaseURL", Config{SecretKey: testSecretKey, AppID: testAppID, BaseURL: "ftp://api.pingxx.com/v1"}},
		{"BaseURLWithQuery", Config{SecretKey: testSecretKey, AppID: testAppID, BaseURL: "https://api.pingxx.com/v1?x=1"}},
		{"BaseURLWithUser", Config{SecretKey: testSecretKey, AppID: testAppID, BaseURL: "https://sk_test_secret@api.pingxx.com/v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.cfg)
			if err == nil {
				t.Fatalf("NewClient = %v, nil error", c)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "pingxx: ") || strings.Contains(msg, "ibbTe5") || strings.Contains(msg, "MIIE") || strings.Contains(msg, "secret") {
				t.Errorf("error %q: wants the prefix and no secret", msg)
			}
		})
	}
}

func TestNewClientAcceptsPKCS1AndPKCS8(t *testing.T) {
	pkcs1 := testKey(t, "MerchantPrivateKeyPEM")
	key, err := ParsePrivateKey(pkcs1)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	pub, err := ParsePublicKey(testKey(t, "MerchantPublicKeyPEM"))
	if err != nil {
		t.Fatal(err)
	}
	for name, pemBytes := range map[string][]byte{"PKCS1": pkcs1, "PKCS8": pkcs8} {
		t.Run(name, func(t *testing.T) {
			c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, s2(t)) },
				func(cfg *Config) { cfg.PrivateKeyPEM = pemBytes })
			if _, err := c.RetrieveCharge(context.Background(), "ch_1"); err != nil {
				t.Fatal(err)
			}
			r := f.requests()[0]
			if err := VerifyRequest(pub, nil, r.URI, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)); err != nil {
				t.Errorf("signature: %v", err)
			}
		})
	}
}

func TestClientModeAndDefaults(t *testing.T) {
	live, err := NewClient(Config{SecretKey: "sk_live_abc", AppID: testAppID})
	if err != nil {
		t.Fatal(err)
	}
	test, err := NewClient(Config{SecretKey: testSecretKey, AppID: testAppID})
	if err != nil {
		t.Fatal(err)
	}
	if !live.Livemode() || test.Livemode() || test.AppID() != testAppID {
		t.Errorf("Livemode live=%v test=%v AppID %q", live.Livemode(), test.Livemode(), test.AppID())
	}
	if test.base != DefaultBaseURL || test.http.Timeout != DefaultTimeout || test.maxRetries != DefaultMaxRetries || test.signer != nil {
		t.Errorf("defaults: base %q timeout %v retries %d signer %v", test.base, test.http.Timeout, test.maxRetries, test.signer)
	}
	if s := test.String(); strings.Contains(s, "ibbTe5") {
		t.Errorf("String() = %q shows the key", s)
	}
}

// Every request carries the documented headers and a signature over the
// exact body, the encoded request URI with /v1, and the timestamp.
func TestClientSignsAndAuthenticatesRequests(t *testing.T) {
	now := time.Unix(1700000000, 0)
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/v1/charges/") {
			answer(w, 200, s2(t))
			return
		}
		answer(w, 200, map[bool]string{true: s2(t), false: `{"object":"list","url":"/v1/charges","has_more":false,"data":[]}`}[r.Method == "POST"])
	}, func(cfg *Config) { cfg.Now = func() time.Time { return now } })
	ctx := context.Background()
	if _, err := c.CreateCharge(ctx, testParams()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveCharge(ctx, "ch_1"); err != nil {
		t.Fatal(err)
	}
	paid := true
	if _, err := c.ListCharges(ctx, ListFilter{Paid: &paid, Channel: channel.Wx}); err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(testKey(t, "MerchantPublicKeyPEM"))
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	wantURIs := []string{"/v1/charges", "/v1/charges/ch_1", "/v1/charges?app%5Bid%5D=app_1Gqj58ynP0mHeX1q&channel=wx&paid=true"}
	for i, r := range reqs {
		if r.URI != wantURIs[i] {
			t.Errorf("request %d URI %q, want %q", i, r.URI, wantURIs[i])
		}
		user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
		if !ok || user != testSecretKey || pass != "" {
			t.Errorf("request %d: basic auth %q %q %v", i, user, pass, ok)
		}
		if got := r.Header.Get("Accept-Language"); got != "zh-CN" {
			t.Errorf("request %d: Accept-Language %q", i, got)
		}
		if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "payorder/") || !strings.Contains(got, "pingpp-go") {
			t.Errorf("request %d: User-Agent %q", i, got)
		}
		wantCT := map[string]string{"POST": "application/json;charset=UTF-8", "GET": ""}[r.Method]
		if got := r.Header.Get("Content-Type"); got != wantCT {
			t.Errorf("request %d: Content-Type %q, want %q", i, got, wantCT)
		}
		if ts := r.Header.Get(HeaderTimestamp); ts != "1700000000" {
			t.Errorf("request %d: timestamp %q", i, ts)
		}
		if err := VerifyRequest(pub, []byte(r.Body), r.URI, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)); err != nil {
			t.Errorf("request %d (%s %s): signature: %v", i, r.Method, r.URI, err)
		}
	}
}

// kmsSigner stands for a key kept in a KMS: a crypto.Signer whose private
// half the client never sees. It counts its signatures, and prints a
// credential of its own if anything prints it.
type kmsSigner struct {
	key   crypto.Signer
	signs atomic.Int64
}

func (k *kmsSigner) Public() crypto.PublicKey { return k.key.Public() }

func (k *kmsSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	k.signs.Add(1)
	return k.key.Sign(r, digest, opts)
}

func (k *kmsSigner) String() string { return "kms-credential-s3cr3t" }

// A Signer signs every request in place of PrivateKeyPEM: the signatures
// verify with the merchant's public key, and it is asked once per request.
func TestClientSignsWithASigner(t *testing.T) {
	key, err := ParsePrivateKey(testKey(t, "MerchantPrivateKeyPEM"))
	if err != nil {
		t.Fatal(err)
	}
	kms := &kmsSigner{key: key}
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, s2(t)) },
		func(cfg *Config) { cfg.PrivateKeyPEM, cfg.Signer = nil, kms })
	if _, err := c.CreateCharge(context.Background(), testParams()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveCharge(context.Background(), "ch_1"); err != nil {
		t.Fatal(err)
	}
	pub, err := ParsePublicKey(testKey(t, "MerchantPublicKeyPEM"))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range f.requests() {
		if err := VerifyRequest(pub, []byte(r.Body), r.URI, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature)); err != nil {
			t.Errorf("request %d (%s %s): signature: %v", i, r.Method, r.URI, err)
		}
	}
	if n := kms.signs.Load(); n != 2 {
		t.Errorf("the signer signed %d times for 2 requests", n)
	}
	if s := fmt.Sprintf("%+v %v", Config{Signer: kms}, c); strings.Contains(s, "s3cr3t") {
		t.Errorf("printed %q shows the signer", s)
	}
}

// A Signer comes alone and with an RSA key.
func TestClientRefusesBadSigners(t *testing.T) {
	rsaKey, err := ParsePrivateKey(testKey(t, "MerchantPrivateKeyPEM"))
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"both":  {PrivateKeyPEM: testKey(t, "MerchantPrivateKeyPEM"), Signer: rsaKey},
		"ecdsa": {Signer: ecKey},
	} {
		cfg.SecretKey, cfg.AppID = testSecretKey, testAppID
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("%s: NewClient accepted the signer", name)
		}
	}
}

func TestClientWithoutPrivateKeyDoesNotSign(t *testing.T) {
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, s2(t)) },
		func(cfg *Config) { cfg.PrivateKeyPEM = nil })
	if _, err := c.RetrieveCharge(context.Background(), "ch_1"); err != nil {
		t.Fatal(err)
	}
	if h := f.requests()[0].Header; h.Get(HeaderSignature) != "" || h.Get(HeaderTimestamp) != "" {
		t.Errorf("unsigned client sent %v", h)
	}
}

func TestCreateChargeSendsParams(t *testing.T) {
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, s2(t)) })
	p := testParams()
	p.Extra = map[string]any{"limit_pay": "no_credit"}
	p.Metadata = map[string]any{"order_no": "A1"}
	before := *p
	ch, err := c.CreateCharge(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if ch.ID != "ch_100200508389284085760006" || string(ch.Raw()) != s2(t) {
		t.Errorf("charge %s, raw kept %v", ch.ID, string(ch.Raw()) == s2(t))
	}
	want := `{"order_no":"123456789","app":{"id":"app_1Gqj58ynP0mHeX1q"},"channel":"wx","amount":100,"currency":"cny","client_ip":"127.0.0.1","subject":"s","body":"b","extra":{"limit_pay":"no_credit"},"metadata":{"order_no":"A1"}}`
	if got := f.requests()[0].Body; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	if diff := cmp.Diff(before, *p); diff != "" {
		t.Errorf("params modified (-before +after):\n%s", diff)
	}
	p.AppID = "app_other"
	if _, err := c.CreateCharge(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[1].Body; !strings.Contains(got, `"app":{"id":"app_other"}`) {
		t.Errorf("explicit app id not sent: %s", got)
	}
	if _, err := c.CreateCharge(context.Background(), nil); err == nil {
		t.Error("CreateCharge(nil) = nil error")
	}
}

func TestListChargesQuery(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name   string
		filter ListFilter
		want   string
	}{
		{"Default", ListFilter{}, "app%5Bid%5D=app_1Gqj58ynP0mHeX1q"},
		{"Everything", ListFilter{
			AppID: "app_x", CreatedGTE: time.Unix(100, 0), CreatedLTE: time.Unix(200, 0),
			Channel: channel.AlipayWap, Paid: &yes, Refunded: &no, Limit: 100,
			StartingAfter: "ch_a", EndingBefore: "ch_b",
		}, "app%5Bid%5D=app_x&channel=alipay_wap&created%5Bgte%5D=100&created%5Blte%5D=200&ending_before=ch_b&limit=100&paid=true&refunded=false&starting_after=ch_a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
				answer(w, 200, `{"object":"list","url":"/v1/charges","has_more":true,"data":[`+s2(t)+`]}`)
			})
			list, err := c.ListCharges(context.Background(), tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if !list.HasMore || len(list.Data) != 1 || list.Data[0].ID == "" {
				t.Errorf("list %+v", list)
			}
			if got := f.requests()[0].URI; got != "/v1/charges?"+tt.want {
				t.Errorf("URI %s\nwant /v1/charges?%s", got, tt.want)
			}
		})
	}
	t.Run("LimitOutOfRange", func(t *testing.T) {
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, `{}`) })
		for _, limit := range []int{-1, 101} {
			if _, err := c.ListCharges(context.Background(), ListFilter{Limit: limit}); err == nil {
				t.Errorf("limit %d: nil error", limit)
			}
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("%d requests sent for invalid filters", n)
		}
	})
}

func TestRetrieveEscapesIDs(t *testing.T) {
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
		answer(w, 404, `{"error":{"type":"invalid_request_error","message":"no","param":"id"}}`)
	})
	_, err := c.RetrieveCharge(context.Background(), "ch_1/../../x?y=1")
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 404 {
		t.Fatalf("err = %v, want *Error 404", err)
	}
	if got := f.requests()[0].URI; got != "/v1/charges/ch_1%2F..%2F..%2Fx%3Fy=1" {
		t.Errorf("URI %q", got)
	}
	for _, call := range []func() error{
		func() error { _, err := c.RetrieveCharge(context.Background(), ""); return err },
		func() error { _, err := c.RetrieveEvent(context.Background(), ""); return err },
		func() error { _, err := c.FindCharges(context.Background(), "", time.Time{}, time.Time{}); return err },
	} {
		if call() == nil {
			t.Error("empty id: nil error")
		}
	}
}

// Every real error answer becomes an *Error with Ping++'s fields.
func TestClientErrorSamples(t *testing.T) {
	tests := []struct {
		file string
		want Error
	}{
		{"E1", Error{HTTPStatus: 401, Type: "invalid_request_error", Message: "提供了无效的 API KEY: sk_test_*************************。"}},
		{"E2", Error{HTTPStatus: 404, Type: "invalid_request_error", Param: "id", Message: "未找到 charge : ch_14ynXPmPqzb1SCCeXDX9yTOc。"}},
		{"E3", Error{HTTPStatus: 404, Type: "invalid_request_error", Param: "id", Message: "No such event: evt_17X23UCryC4r2g4vdolh6muI"}},
		{"E4", Error{HTTPStatus: 400, Type: "invalid_request_error", Message: "不能对订单号 4360de39f200172f 发起退款，因为已经全额退款了。Charge id: ch_ubn9uDDezzXDizv9SKXXDiPO。"}},
		{"E5", Error{HTTPStatus: 400, Type: "invalid_request_error", Code: "charge_request_invalid", Message: "请使用商品订单号进行操作。"}},
		{"E6", Error{HTTPStatus: 400, Type: "invalid_request_error", Param: "Refund_time", Message: "退款时间超出渠道 cnp_u 允许的最晚退款时间"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, body, _ := strings.Cut(string(readFile(t, "errors/"+tt.file+".http")), "\n\n")
			c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, tt.want.HTTPStatus, body) })
			ch, err := c.CreateCharge(context.Background(), testParams())
			var e *Error
			if ch != nil || !errors.As(err, &e) {
				t.Fatalf("CreateCharge = %v, %v; want *Error", ch, err)
			}
			if diff := cmp.Diff(&tt.want, e); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("a 4xx is definite, got %v", err)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests: a 4xx must not be retried", n)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{HTTPStatus: 402, Type: "channel_error", Code: "channel_request_error", Message: "m"}, "pingxx: 402 channel_error channel_request_error: m"},
		{Error{HTTPStatus: 404, Type: "invalid_request_error", Param: "id", Message: "m"}, "pingxx: 404 invalid_request_error (param id): m"},
		{Error{HTTPStatus: 502, Message: "Bad Gateway"}, "pingxx: 502: Bad Gateway"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// Odd error bodies keep the status and never panic (pingpp-go panics on a
// null param or a missing type).
func TestClientOddErrorBodies(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   Error
	}{
		{"NullFields", 400, `{"error":{"type":null,"message":"m","code":null,"param":null}}`, Error{HTTPStatus: 400, Message: "m"}},
		{"MissingType", 402, `{"error":{"message":"m"}}`, Error{HTTPStatus: 402, Message: "m"}},
		{"NumericCode", 402, `{"error":{"type":"channel_error","code":40001,"message":"m"}}`, Error{HTTPStatus: 402, Type: "channel_error", Code: "40001", Message: "m"}},
		{"ObjectMessage", 400, `{"error":{"type":"invalid_request_error","message":{"zh":"m"}}}`, Error{HTTPStatus: 400, Type: "invalid_request_error"}},
		{"EmptyErrorObject", 400, `{"error":{}}`, Error{HTTPStatus: 400, Message: "Bad Request"}},
		{"ErrorIsString", 400, `{"error":"bad"}`, Error{HTTPStatus: 400, Message: `{"error":"bad"}`}},
		{"EmptyBody", 404, ``, Error{HTTPStatus: 404, Message: "Not Found"}},
		{"Null", 403, `null`, Error{HTTPStatus: 403, Message: "null"}},
		{"HTML", 404, `<html><body>nginx</body></html>`, Error{HTTPStatus: 404, Message: "Not Found"}},
		{"PlainText", 400, "bad\x00 request\nsk_test_abcdefghijkl", Error{HTTPStatus: 400, Message: "bad request sk_test_************"}},
		{"KeyEchoed", 401, `{"error":{"type":"invalid_request_error","message":"提供了无效的 API KEY: sk_test_ibbTe5jLGCi5rzfH4OqPW9KC。"}}`, Error{HTTPStatus: 401, Type: "invalid_request_error", Message: "提供了无效的 API KEY: sk_test_************************。"}},
		{"Binary", 400, "\xff\xfe\x00garbage", Error{HTTPStatus: 400, Message: "Bad Request"}},
		{"Long", 400, strings.Repeat("x", 1000), Error{HTTPStatus: 400, Message: strings.Repeat("x", 120) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, tt.status, tt.body) })
			_, err := c.RetrieveCharge(context.Background(), "ch_1")
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if diff := cmp.Diff(&tt.want, e); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// 2xx answers that are not a charge are ErrMalformedResponse: never a
// panic, never an empty charge with a nil error.
func TestClientMalformedSuccess(t *testing.T) {
	bodies := map[string]string{
		"Empty":        ``,
		"Null":         `null`,
		"HTML":         `<html>maintenance</html>`,
		"Array":        `[]`,
		"Truncated":    s2(t)[:100],
		"NoID":         `{"object":"charge","amount":1}`,
		"ErrorObject":  `{"error":{"type":"api_error","message":"m"}}`,
		"WrongObject":  `{"id":"re_1","object":"refund"}`,
		"BadFieldType": `{"id":"ch_1","object":"charge","amount":"many"}`,
		"Oversized":    `{"id":"ch_1","object":"charge","body":"` + strings.Repeat("x", MaxResponseBytes) + `"}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, body) })
			ch, err := c.RetrieveCharge(context.Background(), "ch_1")
			if ch != nil || !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("RetrieveCharge = %v, %v; want ErrMalformedResponse", ch, err)
			}
			if !strings.Contains(err.Error(), "HTTP 200") {
				t.Errorf("error %q does not name the status", err)
			}
			if n := len(f.requests()); n != 1+DefaultMaxRetries {
				t.Errorf("%d attempts, want %d (GETs retry)", n, 1+DefaultMaxRetries)
			}
			ch, err = c.CreateCharge(context.Background(), testParams())
			if ch != nil || !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("CreateCharge = %v, %v; want ErrOutcomeUnknown wrapping ErrMalformedResponse", ch, err)
			}
		})
	}
}

func TestCreateChargeRetries(t *testing.T) {
	t.Run("ResendsIdenticalBodyAfter502", func(t *testing.T) {
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n < 2 {
				answer(w, 502, "<html>502 Bad Gateway</html>")
				return
			}
			answer(w, 200, s2(t))
		})
		ch, err := c.CreateCharge(context.Background(), testParams())
		if err != nil || ch.ID == "" {
			t.Fatalf("CreateCharge = %v, %v", ch, err)
		}
		reqs := f.requests()
		if len(reqs) != 3 || reqs[0].Body != reqs[1].Body || reqs[1].Body != reqs[2].Body {
			t.Errorf("%d requests; bodies must be identical: %q", len(reqs), reqs)
		}
	})
	t.Run("ErrOutcomeUnknownAfterPersistent5xx", func(t *testing.T) {
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
			answer(w, 503, `{"error":{"type":"api_error","message":"busy"}}`)
		})
		ch, err := c.CreateCharge(context.Background(), testParams())
		var e *Error
		if ch != nil || !errors.Is(err, ErrOutcomeUnknown) || !errors.As(err, &e) || e.HTTPStatus != 503 {
			t.Fatalf("CreateCharge = %v, %v; want ErrOutcomeUnknown wrapping a 503 *Error", ch, err)
		}
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
	t.Run("ErrOutcomeUnknownWhenConnectionDropsAfterSending", func(t *testing.T) {
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { hangUp(t, w) })
		_, err := c.CreateCharge(context.Background(), testParams())
		if !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		if n := len(f.requests()); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
	t.Run("A4xxAfterAnUnknownIsStillUnknown", func(t *testing.T) {
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				answer(w, 500, ``)
				return
			}
			answer(w, 403, `{"error":{"type":"invalid_request_error","message":"rate limited"}}`)
		})
		_, err := c.CreateCharge(context.Background(), testParams())
		var e *Error
		if !errors.Is(err, ErrOutcomeUnknown) || !errors.As(err, &e) || e.HTTPStatus != 403 {
			t.Fatalf("err = %v, want ErrOutcomeUnknown wrapping the 403", err)
		}
	})
	t.Run("NoRetryOutsideHalfTheIdempotencyWindow", func(t *testing.T) {
		// alipay: 1 minute window; each attempt takes 31 s on this clock.
		clock := time.Unix(1700000000, 0)
		var mu sync.Mutex
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 502, ``) },
			func(cfg *Config) {
				cfg.Now = func() time.Time {
					mu.Lock()
					defer mu.Unlock()
					clock = clock.Add(31 * time.Second / 2)
					return clock
				}
			})
		p := testParams()
		p.Channel = "alipay"
		_, err := c.CreateCharge(context.Background(), p)
		if !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d attempts, want 1: a resend after half the window may create a second charge", n)
		}
		// wx: 2 hours, so the same clock allows every retry.
		p.Channel = "wx"
		before := len(f.requests())
		if _, err := c.CreateCharge(context.Background(), p); !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v", err)
		}
		if n := len(f.requests()) - before; n != 3 {
			t.Errorf("wx: %d attempts, want 3", n)
		}
	})
	t.Run("NoRetriesWhenDisabled", func(t *testing.T) {
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 502, ``) },
			func(cfg *Config) { cfg.MaxRetries = -1 })
		if _, err := c.CreateCharge(context.Background(), testParams()); !errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v", err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

// A connection that never opens proves nothing was sent: the error is not
// ErrOutcomeUnknown.
func TestCreateChargeConnectionRefusedIsDefinite(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL + "/v1"
	srv.Close()
	c, err := NewClient(Config{SecretKey: testSecretKey, AppID: testAppID, BaseURL: base, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := c.CreateCharge(context.Background(), testParams())
	if ch != nil || err == nil || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("CreateCharge = %v, %v; want a definite transport error", ch, err)
	}
}

func TestClientCancellation(t *testing.T) {
	t.Run("CancelInFlightIsOutcomeUnknown", func(t *testing.T) {
		arrived := make(chan struct{})
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
			close(arrived)
			<-r.Context().Done() // hold the request until the client gives up
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }()
		ch, err := c.CreateCharge(ctx, testParams())
		if ch != nil || !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
			t.Fatalf("CreateCharge = %v, %v; want ErrOutcomeUnknown and context.Canceled", ch, err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d attempts after cancel, want 1", n)
		}
	})
	t.Run("DeadlineInFlightIsOutcomeUnknown", func(t *testing.T) {
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { <-r.Context().Done() })
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := c.CreateCharge(ctx, testParams()); !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want ErrOutcomeUnknown and DeadlineExceeded", err)
		}
	})
	t.Run("CancelledBeforeSendingIsDefinite", func(t *testing.T) {
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, s2(t)) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := c.CreateCharge(ctx, testParams())
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) {
			t.Fatalf("err = %v, want context.Canceled only", err)
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("%d requests sent with a cancelled context", n)
		}
	})
	t.Run("CancelDuringBackoffWakesUp", func(t *testing.T) {
		waiting := make(chan struct{}) // closed when the client logs that it will wait
		var once sync.Once
		c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 502, ``) },
			func(cfg *Config) {
				cfg.RetryBackoff = time.Hour
				cfg.Logger = slog.New(onMessage{"pingxx retry", func() { once.Do(func() { close(waiting) }) }})
			})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-waiting; cancel() }()
		done := make(chan error, 1)
		go func() { _, err := c.RetrieveCharge(ctx, "ch_1"); done <- err }()
		select {
		case err := <-done:
			var e *Error
			if !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.HTTPStatus != 502 {
				t.Errorf("err = %v, want context.Canceled wrapping the 502", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the retry wait ignored the cancelled context")
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

// onMessage is a slog.Handler that calls fn on the first record with msg.
type onMessage struct {
	msg string
	fn  func()
}

func (h onMessage) Enabled(context.Context, slog.Level) bool { return true }
func (h onMessage) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h onMessage) WithGroup(string) slog.Handler            { return h }
func (h onMessage) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.fn()
	}
	return nil
}

func TestClientTimeoutIsOutcomeUnknown(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}, func(cfg *Config) { cfg.HTTPClient = &http.Client{Timeout: 20 * time.Millisecond}; cfg.MaxRetries = -1 })
	if _, err := c.CreateCharge(context.Background(), testParams()); !errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
}

// Neither the secret key nor a signature reaches logs or errors.
func TestClientKeepsSecretsOutOfLogsAndErrors(t *testing.T) {
	var logs bytes.Buffer
	var errs []string
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n % 3 {
		case 0:
			answer(w, 502, `{"error":{"type":"api_error","message":"key `+testSecretKey+`"}}`)
		case 1:
			answer(w, 401, `{"error":{"type":"invalid_request_error","message":"bad key `+testSecretKey+`"}}`)
		default:
			hangUp(t, w)
		}
	}, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	for range 3 {
		_, err := c.CreateCharge(context.Background(), testParams())
		errs = append(errs, err.Error())
		_, err = c.RetrieveCharge(context.Background(), "ch_1")
		errs = append(errs, err.Error())
	}
	if !strings.Contains(logs.String(), "pingxx request") || !strings.Contains(logs.String(), "pingxx retry") {
		t.Errorf("expected request and retry log lines, got:\n%s", logs.String())
	}
	secrets := []string{"ibbTe5jLGCi5rzfH4OqPW9KC", strings.TrimSpace(string(testKey(t, "MerchantPrivateKeyPEM")))[40:80]}
	for _, r := range f.requests() {
		secrets = append(secrets, r.Header.Get(HeaderSignature), r.Header.Get("Authorization"))
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(logs.String(), s) {
			t.Errorf("log contains secret %.12q…", s)
		}
		for _, e := range errs {
			if strings.Contains(e, s) {
				t.Errorf("error %q contains secret %.12q…", e, s)
			}
		}
	}
}

func TestFindChargesPagesAndFilters(t *testing.T) {
	mk := func(id, orderNo string) string {
		return `{"id":"` + id + `","object":"charge","order_no":"` + orderNo + `","amount":1,"channel":"wx"}`
	}
	pages := map[string]string{
		"":     `{"object":"list","has_more":true,"data":[` + mk("ch_3", "A") + `,` + mk("ch_2", "B") + `]}`,
		"ch_2": `{"object":"list","has_more":true,"data":[` + mk("ch_1", "A") + `]}`,
		"ch_1": `{"object":"list","has_more":false,"data":[]}`,
	}
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
		answer(w, 200, pages[r.URL.Query().Get("starting_after")])
	})
	got, err := c.FindCharges(context.Background(), "A", time.Unix(1000, 0), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ch := range got {
		ids = append(ids, ch.ID)
	}
	if diff := cmp.Diff([]string{"ch_3", "ch_1"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	for _, r := range f.requests() {
		q := (&http.Request{RequestURI: r.URI}).RequestURI
		if !strings.Contains(q, "created%5Bgte%5D=1000") || !strings.Contains(q, "limit=100") || !strings.Contains(q, "app%5Bid%5D="+testAppID) {
			t.Errorf("query %s lacks created[gte], limit or app[id]", q)
		}
	}
	t.Run("StuckCursorIsMalformed", func(t *testing.T) {
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
			answer(w, 200, `{"object":"list","has_more":true,"data":[`+mk("ch_1", "A")+`]}`)
		})
		if _, err := c.FindCharges(context.Background(), "A", time.Time{}, time.Time{}); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("err = %v, want ErrMalformedResponse", err)
		}
	})
	t.Run("ListWithBadChargeIsMalformed", func(t *testing.T) {
		c, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
			answer(w, 200, `{"object":"list","has_more":false,"data":[{"object":"charge"}]}`)
		})
		if _, err := c.FindCharges(context.Background(), "A", time.Time{}, time.Time{}); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("err = %v, want ErrMalformedResponse", err)
		}
	})
}

func TestRetrieveEvent(t *testing.T) {
	body := string(webhookSamples(t)[1].body)
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, body) })
	ev, err := c.RetrieveEvent(context.Background(), "evt_400240816160755820469807")
	if err != nil {
		t.Fatal(err)
	}
	ch, err := ev.Charge()
	if err != nil || ev.Type != "charge.succeeded" || ch.Channel != channel.WxPub {
		t.Errorf("event %s %s, charge %+v, %v", ev.ID, ev.Type, ch, err)
	}
	if got := f.requests()[0].URI; got != "/v1/events/evt_400240816160755820469807" {
		t.Errorf("URI %q", got)
	}
}

// pingpp-go's resource clients run on our transport through Backend.
func TestBackendRunsPingppGoClients(t *testing.T) {
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/events/"):
			answer(w, 200, string(webhookSamples(t)[0].body))
		case n == 0:
			answer(w, 502, ``) // retried under CreateCharge's rules
		default:
			answer(w, 200, s2(t))
		}
	})
	ctx := context.Background()
	sdkCharge, err := pcharge.Client{B: c.Backend(ctx)}.New(&pingpp.ChargeParams{Order_no: "123456789", Channel: "wx", Amount: 100, Currency: "cny", Client_ip: "127.0.0.1", Subject: "s", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if sdkCharge.ID != "ch_100200508389284085760006" || sdkCharge.Amount != 50000 {
		t.Errorf("pingpp.Charge %+v", sdkCharge)
	}
	got, err := pcharge.Client{B: c.Backend(ctx)}.Get("ch_100200508389284085760006")
	if err != nil || got.Order_no != "1258585802258649088" {
		t.Errorf("Get = %+v, %v", got, err)
	}
	ev, err := pevent.Client{B: c.Backend(ctx)}.Get("evt_eYa58Wd44Glerl8AgfYfd1sL")
	if err != nil || ev.Type != "charge.succeeded" {
		t.Errorf("event Get = %+v, %v", ev, err)
	}
	var ours Charge
	if err := c.Backend(ctx).Call("GET", "/charges/ch_1", "", nil, nil, &ours); err != nil || string(ours.Raw()) != s2(t) {
		t.Errorf("Call into *Charge: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 5 || reqs[0].Body != reqs[1].Body {
		t.Errorf("%d requests; the 502'd create must be resent identically", len(reqs))
	}
	for _, r := range reqs {
		if user, _, _ := (&http.Request{Header: r.Header}).BasicAuth(); user != testSecretKey || r.Header.Get(HeaderSignature) == "" {
			t.Errorf("%s %s: not authenticated and signed by our client", r.Method, r.URI)
		}
	}
	// The SDK's decoding of a pingpp type still cannot panic us. (Its
	// charge.Client logs the error through the std logger unless told not
	// to, which only a global can do.)
	oldLevel := pingpp.LogLevel
	pingpp.LogLevel = 0
	defer func() { pingpp.LogLevel = oldLevel }()
	c2, _ := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 200, `{"id":"ch_1","extra":[]}`) })
	if _, err := (pcharge.Client{B: c2.Backend(ctx)}).Get("ch_1"); !errors.Is(err, ErrMalformedResponse) {
		t.Errorf("pingpp.Charge with extra [] : err = %v, want ErrMalformedResponse", err)
	}
}

// Other writes through Backend (refunds) are never resent once they may have
// arrived.
func TestBackendDoesNotResendOtherWrites(t *testing.T) {
	c, f := setup(t, func(w http.ResponseWriter, r *http.Request, n int) { answer(w, 502, ``) })
	var out json.RawMessage
	err := c.Backend(context.Background()).Call("POST", "/charges/ch_1/refunds", "", nil, []byte(`{"description":"d"}`), &out)
	var e *Error
	if !errors.As(err, &e) || e.HTTPStatus != 502 {
		t.Fatalf("err = %v, want the 502", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

var _ pingpp.Backend = backend{}
