package pingpptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// newServer starts an emulator closed at the end of the test.
func newServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	srv := NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv
}

// call sends a request authenticated with DefaultSecretKey (unless header
// sets Authorization) and returns the status and body.
func call(t testing.TB, srv *Server, method, path string, body any, header ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		rd = bytes.NewReader(mustJSON(t, b))
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(DefaultSecretKey, "")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// params returns a valid create-charge body for ch, with changes applied
// (a nil value deletes the key).
func params(ch string, changes map[string]any) map[string]any {
	p := map[string]any{
		"order_no": "20261129000001", "app": map[string]any{"id": DefaultAppID}, "channel": ch,
		"amount": 100, "currency": "cny", "client_ip": "127.0.0.1",
		"subject": "课程", "body": "collection的使用",
	}
	if extra, ok := requiredExtra()[ch]; ok {
		p["extra"] = maps.Clone(extra)
	}
	for k, v := range changes {
		if v == nil {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return p
}

// requiredExtra returns valid required extras per channel.
func requiredExtra() map[string]map[string]any {
	return map[string]map[string]any{
		"alipay_wap":       {"success_url": "https://example.com/ok"},
		"alipay_pc_direct": {"success_url": "https://example.com/ok"},
		"wx_pub":           {"open_id": "our5huIOSuFF5FdojFMFNP5HNOmA"},
		"wx_lite":          {"open_id": "our5huIOSuFF5FdojFMFNP5HNOmA"},
		"wx_pub_qr":        {"product_id": "6lnhSExr3p"},
		"upacp_wap":        {"result_url": "https://example.com/result"},
		"upacp_pc":         {"result_url": "https://example.com/result"},
		"qpay":             {"device": "ios"},
	}
}

// create creates a charge and fails the test unless it is answered 200.
func create(t testing.TB, srv *Server, p map[string]any) Charge {
	t.Helper()
	status, body := call(t, srv, "POST", "/v1/charges", p)
	if status != http.StatusOK {
		t.Fatalf("create charge: status %d: %s", status, body)
	}
	var c Charge
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("create charge: %v: %s", err, body)
	}
	return c
}

// apiErr is a decoded error envelope.
type apiErr struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
	Param   string `json:"param,omitempty"`
}

func decodeErr(t testing.TB, body []byte) apiErr {
	t.Helper()
	var env struct {
		Error apiErr `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return env.Error
}

// keyOrder returns the top-level keys of a JSON object in order.
func keyOrder(t testing.TB, data []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1764400000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// waitFor polls cond until it holds or five seconds pass: a condition wait
// for state that no channel announces (requests in flight).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// testCtx is a context that ends with the test (or after 10 s).
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
