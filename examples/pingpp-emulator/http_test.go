package main

// These tests use the standalone emulator the way a program in another
// language does: over HTTP only, with JSON bodies, Basic authentication and
// signatures checked with nothing but the standard library.

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yianpay/payorder/pay/pingpptest"
)

// emulator is a running standalone emulator.
type emulator struct {
	root    string // http://host:port
	keyFile string // where it wrote the webhook public key
}

// startEmulator runs the program with args (plus a free port and a key file
// in a temporary directory) until the end of the test.
func startEmulator(t *testing.T, args ...string) emulator {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "webhook-public.pem")
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-webhook-public-key-out", keyFile}, args...), w, io.Discard)
		w.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not return within 10 s of being cancelled")
		}
	})
	lines := bufio.NewScanner(out)
	var base string
	for base == "" && lines.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "API base:"); ok {
			base = strings.TrimSpace(v)
		}
	}
	go io.Copy(io.Discard, out)
	if base == "" {
		t.Fatal("the emulator printed no API base")
	}
	return emulator{root: strings.TrimSuffix(base, "/v1"), keyFile: keyFile}
}

// answer is an HTTP answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// decode decodes the body into a map, failing the test when it is not JSON.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%s", a.status, err, a.body)
	}
	return m
}

// do sends a request with a JSON body (none when body is ""); API requests
// (under /v1) carry the default secret key.
func (e emulator) do(t *testing.T, method, path, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.root+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(path, "/v1/") {
		req.SetBasicAuth(pingpptest.DefaultSecretKey, "")
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

// ok is do that fails the test unless the answer is 200.
func (e emulator) ok(t *testing.T, method, path, body string) map[string]any {
	t.Helper()
	a := e.do(t, method, path, body)
	if a.status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, a.status, a.body)
	}
	return a.json(t)
}

// paidCharge creates a test charge of amount fen on channel and pays it
// through the control API.
func (e emulator) paidCharge(t *testing.T, orderNo, ch string, amount int) string {
	t.Helper()
	c := e.ok(t, "POST", "/v1/charges", `{"order_no":"`+orderNo+`","app":{"id":"`+pingpptest.DefaultAppID+`"},"channel":"`+ch+
		`","amount":`+jsonNumber(amount)+`,"currency":"cny","client_ip":"127.0.0.1","subject":"课程","body":"collection的使用"}`)
	id, _ := c["id"].(string)
	paid := e.ok(t, "POST", "/_emulator/charges/"+id+"/pay", "")
	if paid["paid"] != true {
		t.Fatalf("charge after pay: %v", paid)
	}
	return id
}

func jsonNumber(n int) string { b, _ := json.Marshal(n); return string(b) }

// receiver is a webhook endpoint that records what it is sent.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []received
	more chan struct{}
}

// received is one webhook request.
type received struct {
	typ       string
	signature string
	body      []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{more: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var ev struct{ Type string }
		json.Unmarshal(b, &ev)
		r.mu.Lock()
		r.got = append(r.got, received{typ: ev.Type, signature: req.Header.Get("X-Pingplusplus-Signature"), body: b})
		r.mu.Unlock()
		r.more <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// wait returns the first n webhooks, failing the test if they do not
// arrive within ten seconds.
func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]received(nil), r.got[:n]...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("%d webhooks did not arrive", n)
		}
	}
}

// events returns the types of the emulator's events, oldest first.
func (e emulator) eventTypes(t *testing.T) []string {
	t.Helper()
	a := e.do(t, "GET", "/_emulator/events", "")
	var evs []struct{ Type string }
	if err := json.Unmarshal(a.body, &evs); err != nil {
		t.Fatalf("events: %v %s", err, a.body)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, ev.Type)
	}
	return types
}

func TestRefundSucceedsAtOnceByDefault(t *testing.T) {
	rc := newReceiver(t)
	e := startEmulator(t, "-webhook-url", rc.URL)
	id := e.paidCharge(t, "20261201000001", "alipay", 100)
	rc.wait(t, 1) // charge.succeeded

	rf := e.ok(t, "POST", "/v1/charges/"+id+"/refunds", `{"amount":30,"description":"部分退款"}`)
	if rf["status"] != "succeeded" || rf["succeed"] != true || rf["time_succeed"] == nil {
		t.Errorf("refund answer %v, want succeeded", rf)
	}
	if got := rc.wait(t, 2)[1]; got.typ != "refund.succeeded" {
		t.Errorf("second webhook %s, want refund.succeeded", got.typ)
	}
	c := e.ok(t, "GET", "/v1/charges/"+id, "")
	if c["amount_refunded"] != 30.0 || c["refunded"] != true {
		t.Errorf("charge after refunding 30: amount_refunded %v refunded %v", c["amount_refunded"], c["refunded"])
	}
	e.ok(t, "POST", "/v1/charges/"+id+"/refunds", `{"description":"余款"}`)
	if c := e.ok(t, "GET", "/v1/charges/"+id, ""); c["amount_refunded"] != 100.0 {
		t.Errorf("amount_refunded %v after refunding the rest, want 100", c["amount_refunded"])
	}
}

func TestRefundFailsByFlag(t *testing.T) {
	e := startEmulator(t, "-refund-outcome", "fail")
	id := e.paidCharge(t, "20261201000002", "wx", 100)
	rf := e.ok(t, "POST", "/v1/charges/"+id+"/refunds", `{"description":"退款"}`)
	if rf["status"] != "failed" || rf["succeed"] != false || rf["failure_code"] != "refund_refused_msg" ||
		!strings.HasPrefix(rf["failure_msg"].(string), "退款 wx 已被支付渠道拒绝。") {
		t.Errorf("refund answer %v, want failed as a channel refusal", rf)
	}
	// Ping++ has no refund.failed event: only the payment's event exists.
	if got := e.eventTypes(t); len(got) != 1 || got[0] != "charge.succeeded" {
		t.Errorf("events %v, want only charge.succeeded", got)
	}
	if c := e.ok(t, "GET", "/v1/charges/"+id, ""); c["amount_refunded"] != 0.0 {
		t.Errorf("amount_refunded %v after a failed refund, want 0", c["amount_refunded"])
	}
}

func TestRefundFinishesAfterItsDelayOnTheEmulatorClock(t *testing.T) {
	e := startEmulator(t, "-refund-delay", "1h")
	id := e.paidCharge(t, "20261201000003", "alipay_qr", 100)
	rf := e.ok(t, "POST", "/v1/charges/"+id+"/refunds", `{"description":"退款"}`)
	re, _ := rf["id"].(string)
	if rf["status"] != "pending" {
		t.Fatalf("refund answer %v, want pending", rf)
	}
	path := "/v1/charges/" + id + "/refunds/" + re
	e.ok(t, "POST", "/_emulator/clock", `{"advance":"59m"}`)
	if got := e.ok(t, "GET", path, ""); got["status"] != "pending" {
		t.Errorf("after 59 minutes: %v, want pending", got["status"])
	}
	clock := e.ok(t, "POST", "/_emulator/clock", `{"advance":"61s"}`)
	if clock["offset"] != "1h0m1s" {
		t.Errorf("clock %v, want offset 1h0m1s", clock)
	}
	if got := e.ok(t, "GET", path, ""); got["status"] != "succeeded" {
		t.Errorf("after an hour: %v, want succeeded", got["status"])
	}
	if got := e.eventTypes(t); len(got) != 2 || got[1] != "refund.succeeded" {
		t.Errorf("events %v, want charge.succeeded, refund.succeeded", got)
	}
}

func TestRefundsFinishedByTheControlAPI(t *testing.T) {
	e := startEmulator(t, "-refund-outcome", "hold")
	id := e.paidCharge(t, "20261201000004", "alipay", 300)
	refund := func() string {
		rf := e.ok(t, "POST", "/v1/charges/"+id+"/refunds", `{"amount":100,"description":"退款"}`)
		if rf["status"] != "pending" {
			t.Fatalf("refund answer %v, want pending (held)", rf)
		}
		return rf["id"].(string)
	}
	r1, r2, r3 := refund(), refund(), refund()
	if got := e.ok(t, "POST", "/_emulator/refunds/"+r1+"/succeed", ""); got["status"] != "succeeded" {
		t.Errorf("succeed: %v", got)
	}
	got := e.ok(t, "POST", "/_emulator/refunds/"+r2+"/fail", `{"message":"退款金额超限"}`)
	if got["status"] != "failed" || !strings.HasSuffix(got["failure_msg"].(string), "退款金额超限") {
		t.Errorf("fail: %v", got)
	}
	if got := e.ok(t, "POST", "/_emulator/refunds/"+r3+"/hold", ""); got["status"] != "pending" {
		t.Errorf("hold: %v", got)
	}
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/_emulator/refunds/" + r2 + "/succeed", http.StatusConflict},
		{"/_emulator/refunds/" + r1 + "/hold", http.StatusConflict},
		{"/_emulator/refunds/re_nope/succeed", http.StatusNotFound},
		{"/_emulator/refunds/" + r3 + "/explode", http.StatusNotFound},
	} {
		if a := e.do(t, "POST", tt.path, ""); a.status != tt.status || a.json(t)["error"] == "" {
			t.Errorf("POST %s: %d %s, want %d with an error", tt.path, a.status, a.body, tt.status)
		}
	}
	// The default can change at run time: new refunds now fail at once.
	if p := e.ok(t, "PUT", "/_emulator/refund_policy", `{"outcome":"fail","delay":"0s"}`); p["outcome"] != "fail" {
		t.Errorf("policy %v", p)
	}
	e.ok(t, "POST", "/_emulator/refunds/"+r3+"/succeed", "")
	rf := e.do(t, "POST", "/v1/charges/"+id+"/refunds", `{"amount":100,"description":"退款"}`)
	if rf.json(t)["status"] != "failed" {
		t.Errorf("refund under the fail policy: %s", rf.body)
	}
	if c := e.ok(t, "GET", "/v1/charges/"+id, ""); c["amount_refunded"] != 200.0 {
		t.Errorf("amount_refunded %v, want 200 (two succeeded)", c["amount_refunded"])
	}
}

// verify checks an RSA-SHA256 PKCS#1 v1.5 signature with the PEM public key
// in file, as a client in any language does.
func verify(t *testing.T, file string, body []byte, signature string) error {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM", file)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	return rsa.VerifyPKCS1v15(k.(*rsa.PublicKey), crypto.SHA256, sum[:], sig)
}

func TestSignResponses(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "ping++-private.pem")
	err = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	e := startEmulator(t, "-sign-responses", "-webhook-private-key", keyFile)
	pub, _ := os.ReadFile(e.keyFile)
	if strings.TrimSpace(string(pub)) == strings.TrimSpace(pingpptest.WebhookPublicKeyPEM) {
		t.Fatal("the public key written out is the default one, not that of -webhook-private-key")
	}
	for _, tt := range []struct{ name, method, path, body string }{
		{"Charge", "POST", "/v1/charges", `{"order_no":"20261201000005","app":{"id":"` + pingpptest.DefaultAppID +
			`"},"channel":"alipay","amount":100,"currency":"cny","client_ip":"127.0.0.1","subject":"s","body":"b"}`},
		{"List", "GET", "/v1/charges?app%5Bid%5D=" + pingpptest.DefaultAppID, ""},
		{"Error", "GET", "/v1/charges/ch_nope", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, tt.method, tt.path, tt.body)
			sig := a.header.Get("X-Pingplusplus-Signature")
			if sig == "" {
				t.Fatalf("%d answer without X-Pingplusplus-Signature", a.status)
			}
			if err := verify(t, e.keyFile, a.body, sig); err != nil {
				t.Errorf("signature does not verify with the public key written out: %v", err)
			}
			if err := verify(t, e.keyFile, append(a.body, ' '), sig); err == nil {
				t.Error("signature verifies a changed body")
			}
		})
	}
	plain := startEmulator(t)
	if a := plain.do(t, "GET", "/v1/charges/ch_nope", ""); a.header.Get("X-Pingplusplus-Signature") != "" {
		t.Error("answer signed without -sign-responses")
	}
}

func TestControlFaults(t *testing.T) {
	e := startEmulator(t)
	create := `{"order_no":"20261201000006","app":{"id":"` + pingpptest.DefaultAppID +
		`"},"channel":"alipay","amount":100,"currency":"cny","client_ip":"127.0.0.1","subject":"s","body":"b"}`
	a := e.do(t, "POST", "/_emulator/faults", `{"route":"POST /v1/charges","kind":"http_502_html","times":1}`)
	var faults []map[string]any
	json.Unmarshal(a.body, &faults)
	if a.status != 200 || len(faults) != 1 || faults[0]["kind"] != "http_502_html" || faults[0]["times"] != 1.0 {
		t.Fatalf("add fault: %d %s", a.status, a.body)
	}
	if a := e.do(t, "POST", "/v1/charges", create); a.status != 502 || !strings.Contains(string(a.body), "nginx") {
		t.Errorf("create under the fault: %d %s, want nginx's 502", a.status, a.body)
	}
	if a := e.do(t, "POST", "/v1/charges", create); a.status != 200 {
		t.Errorf("create after the fault was used up: %d %s", a.status, a.body)
	}
	// After: the charge is made, the answer is lost. (The 502 before the
	// charge logic is a request, not a create request.)
	if a := e.do(t, "POST", "/_emulator/faults", `{"route":"*","kind":"http_500_json","after":true,"latency":"10ms"}`); a.status != 200 {
		t.Fatalf("add fault: %d %s", a.status, a.body)
	}
	if a := e.do(t, "POST", "/v1/charges", strings.Replace(create, "20261201000006", "20261201000007", 1)); a.status != 500 {
		t.Errorf("create under an after fault: %d, want 500", a.status)
	}
	if a := e.do(t, "DELETE", "/_emulator/faults", ""); a.status != 200 || strings.TrimSpace(string(a.body)) != "[]" {
		t.Errorf("clear faults: %d %s", a.status, a.body)
	}
	stats := e.ok(t, "GET", "/_emulator/stats", "")
	for k, want := range map[string]float64{"requests": 3, "create_requests": 2, "charges_created": 2, "max_in_flight": 1} {
		if stats[k] != want {
			t.Errorf("stats[%q] = %v, want %v (stats %v)", k, stats[k], want, stats)
		}
	}
	for _, bad := range []string{
		`{"route":"POST /v1/charges","kind":"explode"}`,
		`{"route":"GET /nowhere","kind":"reset"}`,
		`{"route":"*","kind":"latency","latency":"soon"}`,
		`not json`,
	} {
		if a := e.do(t, "POST", "/_emulator/faults", bad); a.status != 400 || a.json(t)["error"] == "" {
			t.Errorf("fault %s: %d %s, want 400 with an error", bad, a.status, a.body)
		}
	}
}

func TestControlChargesClockAndReset(t *testing.T) {
	e := startEmulator(t)
	before := e.ok(t, "GET", "/_emulator/clock", "")
	id := e.paidCharge(t, "20261201000008", "wx", 100)
	if a := e.do(t, "POST", "/_emulator/charges/"+id+"/pay", ""); a.status != http.StatusConflict {
		t.Errorf("paying twice: %d %s, want 409", a.status, a.body)
	}
	c := e.ok(t, "POST", "/v1/charges", `{"order_no":"20261201000009","app":{"id":"`+pingpptest.DefaultAppID+
		`"},"channel":"wx","amount":100,"currency":"cny","client_ip":"127.0.0.1","subject":"s","body":"b"}`)
	failed := e.ok(t, "POST", "/_emulator/charges/"+c["id"].(string)+"/fail", `{"message":"余额不足"}`)
	if failed["paid"] != false || failed["failure_code"] != "channel_request_error" || failed["failure_msg"] != "余额不足" {
		t.Errorf("failed charge %v", failed)
	}
	if a := e.do(t, "POST", "/_emulator/charges/"+c["id"].(string)+"/pay", ""); a.status != http.StatusConflict {
		t.Errorf("paying a failed charge: %d, want 409", a.status)
	}
	// A WeChat charge expires after two hours on the emulator's clock.
	c = e.ok(t, "POST", "/v1/charges", `{"order_no":"20261201000010","app":{"id":"`+pingpptest.DefaultAppID+
		`"},"channel":"wx","amount":100,"currency":"cny","client_ip":"127.0.0.1","subject":"s","body":"b"}`)
	after := e.ok(t, "POST", "/_emulator/clock", `{"advance":"2h1m"}`)
	if after["now"].(float64)-before["now"].(float64) < 7260 {
		t.Errorf("clock %v → %v, want 2h1m later", before, after)
	}
	if a := e.do(t, "POST", "/_emulator/charges/"+c["id"].(string)+"/pay", ""); a.status != http.StatusConflict ||
		!strings.Contains(a.json(t)["error"].(string), "expired") {
		t.Errorf("paying an expired charge: %d %s", a.status, a.body)
	}
	if a := e.do(t, "POST", "/_emulator/clock", `{"advance":"-1s"}`); a.status != 400 {
		t.Errorf("moving the clock back: %d, want 400", a.status)
	}
	if a := e.do(t, "POST", "/_emulator/charges/ch_nope/pay", ""); a.status != 404 {
		t.Errorf("paying an unknown charge: %d, want 404", a.status)
	}

	e.ok(t, "POST", "/_emulator/reset", "")
	if a := e.do(t, "GET", "/v1/charges/"+id, ""); a.status != 404 {
		t.Errorf("charge after reset: %d, want 404", a.status)
	}
	stats := e.ok(t, "GET", "/_emulator/stats", "")
	if stats["requests"] != 1.0 || stats["charges_created"] != 0.0 {
		t.Errorf("stats after reset and one request: %v", stats)
	}
	if clock := e.ok(t, "GET", "/_emulator/clock", ""); clock["offset"] != "0s" {
		t.Errorf("clock after reset: %v", clock)
	}
	var index struct{ Routes []string }
	if err := json.Unmarshal(e.do(t, "GET", "/_emulator/", "").body, &index); err != nil || !slices.Contains(index.Routes, "POST /_emulator/reset") {
		t.Errorf("GET /_emulator/ lists %v (%v), want the control routes", index.Routes, err)
	}
	if a := e.do(t, "GET", "/_emulator/nothing", ""); a.status != 404 || !strings.Contains(a.json(t)["error"].(string), "/_emulator/") {
		t.Errorf("unknown control route: %d %s", a.status, a.body)
	}
}

func TestControlRedeliversEvents(t *testing.T) {
	rc := newReceiver(t)
	e := startEmulator(t, "-webhook-url", rc.URL, "-manual-webhooks")
	first := e.paidCharge(t, "20261201000011", "alipay", 100)
	second := e.paidCharge(t, "20261201000012", "alipay", 100)
	var evs []struct {
		ID   string
		Data struct{ Object struct{ ID string } }
	}
	json.Unmarshal(e.do(t, "GET", "/_emulator/events", "").body, &evs)
	if len(evs) != 2 || evs[0].Data.Object.ID != first || evs[1].Data.Object.ID != second {
		t.Fatalf("events %+v", evs)
	}
	// Out of order, the first twice, then with a bad signature and none.
	e.ok(t, "POST", "/_emulator/events/"+evs[1].ID+"/deliver", "")
	d := e.ok(t, "POST", "/_emulator/events/"+evs[0].ID+"/deliver", `{"times":2}`)
	if ds, _ := d["deliveries"].([]any); len(ds) != 2 || ds[0].(map[string]any)["ok"] != true {
		t.Errorf("deliveries %v", d)
	}
	e.ok(t, "POST", "/_emulator/events/"+evs[0].ID+"/deliver", `{"signature":"bad"}`)
	e.ok(t, "POST", "/_emulator/events/"+evs[0].ID+"/deliver", `{"signature":"none"}`)
	got := rc.wait(t, 5)
	var order []string
	for _, r := range got {
		var ev struct {
			ID              string
			PendingWebhooks int `json:"pending_webhooks"`
		}
		json.Unmarshal(r.body, &ev)
		order = append(order, ev.ID)
		if ev.PendingWebhooks != 0 {
			t.Errorf("delivered pending_webhooks %d, want 0 as in Ping++'s deliveries", ev.PendingWebhooks)
		}
	}
	want := []string{evs[1].ID, evs[0].ID, evs[0].ID, evs[0].ID, evs[0].ID}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Errorf("delivered %v, want %v", order, want)
	}
	for i, wantValid := range []bool{true, true, true, false} {
		if err := verify(t, e.keyFile, got[i].body, got[i].signature); (err == nil) != wantValid {
			t.Errorf("delivery %d: verify = %v, want valid %v", i+1, err, wantValid)
		}
	}
	if got[4].signature != "" {
		t.Errorf("delivery without signature carried %q", got[4].signature)
	}
	if !bytes.Equal(got[1].body, got[3].body) {
		t.Error("the badly signed delivery is not the same event body")
	}
	var log []map[string]any
	json.Unmarshal(e.do(t, "GET", "/_emulator/deliveries", "").body, &log)
	if len(log) != 5 || log[0]["event_id"] != evs[1].ID || log[0]["status"] != 200.0 {
		t.Errorf("delivery log %v", log)
	}
}
