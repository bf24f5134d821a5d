package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yianpay/payorder/examples/internal/webhookkey"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// runErr runs the server with args and env and returns the error it stops
// with, failing if it starts serving instead.
func runErr(t *testing.T, env map[string]string, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := run(ctx, args, func(k string) string { return env[k] }, io.Discard, func(addrs) {
		t.Error("the server started serving")
		cancel()
	})
	if err == nil {
		t.Fatal("run returned nil, want a refusal")
	}
	return err
}

// TestEmulatorModeRefuses: emulator mode (no PINGPP_SECRET_KEY) does not
// start on a database, beyond loopback, or trusting a key whose private half
// is published.
func TestEmulatorModeRefuses(t *testing.T) {
	published := filepath.Join(t.TempDir(), "published.pem")
	if err := os.WriteFile(published, []byte(pingpptest.WebhookPublicKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"Database", map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/none"}, []string{"-addr", "127.0.0.1:0"}, "-emulator-with-database"},
		{"AllInterfaces", nil, []string{"-addr", "0.0.0.0:0"}, "-emulator-public"},
		{"EmulatorOnAllInterfaces", nil, []string{"-addr", "127.0.0.1:0", "-emulator-addr", ":0"}, "-emulator-public"},
		{"ExternalWithoutKey", nil, []string{"-addr", "127.0.0.1:0", "-emulator-url", "http://127.0.0.1:1"}, "-emulator-webhook-key"},
		{"ExternalPublishedKey", nil, []string{"-addr", "127.0.0.1:0", "-emulator-url", "http://127.0.0.1:1", "-emulator-webhook-key", published}, "published"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := runErr(t, tt.env, append([]string{"-emulator-addr", "127.0.0.1:0"}, tt.args...)...)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run: %v, want a refusal naming %q", err, tt.want)
			}
			if tt.name == "ExternalPublishedKey" && !errors.Is(err, webhookkey.ErrPublished) {
				t.Errorf("run: %v, want webhookkey.ErrPublished", err)
			}
		})
	}
}

// TestForgedWebhookRefused is the attack of the security review: an
// emulator-mode server on PostgreSQL, and a charge.succeeded for a real
// charge of the seed order signed with pingpptest's published webhook key.
// It is refused and the order stays unpaid; the emulator's own payment of
// the same charge still pays it.
func TestForgedWebhookRefused(t *testing.T) {
	db := pgtest.New(t)
	a := start(t, map[string]string{"DATABASE_URL": db.URL}, "-emulator-with-database")
	got := putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
	ch, _ := got["ch"].(map[string]any)
	if got["status"] != 0.0 || ch == nil {
		t.Fatalf("PUT: %v", got)
	}
	ch["paid"], ch["time_paid"] = true, time.Now().Unix()
	payload, err := json.Marshal(map[string]any{
		"id": "evt_forged000000000000001", "object": "event", "type": "charge.succeeded", "livemode": false,
		"created": time.Now().Unix(), "pending_webhooks": 0, "request": "iar_forged", "data": map[string]any{"object": ch},
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := pingxx.ParsePrivateKey([]byte(pingpptest.WebhookPrivateKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	sig, err := pingxx.SignWebhook(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, a.API+"/pay/webhook/", strings.NewReader(string(payload)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(pingxx.HeaderWebhookSignature, sig)
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("forged webhook answered %d, want 400", res.StatusCode)
	}
	if got := putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay"); got["status"] != 0.0 {
		t.Fatalf("after the forged webhook the order answers %v, want it unpaid", got)
	}
	// The emulator's genuine webhook, signed with this run's key, pays it.
	res, err = http.Get(a.Emulator + "/notify/charges/" + ch["id"].(string) + "?livemode=false")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	eventually(t, 10*time.Second, func() bool {
		return putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay")["status"] == -3.0
	})
}

// rawConn opens a connection to the endpoint's host:port that fails reads
// after limit, so a server that never closes fails the test instead of
// hanging it.
func rawConn(t *testing.T, base string, limit time.Duration) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(limit))
	return c
}

// TestStalledBodyCut: a PUT whose body stops halfway is cut when the read
// timeout (here 300 ms, 30 s by default) runs out.
func TestStalledBodyCut(t *testing.T) {
	a := start(t, nil, "-read-timeout", "300ms")
	c := rawConn(t, a.API, 10*time.Second)
	began := time.Now()
	_, err := io.WriteString(c, "PUT /pay/pay_for_order/ HTTP/1.1\r\nHost: x\r\nAuthorization: Token "+seedToken+
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\norder_no=1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, c) // until the server closes
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the stalled connection was still open after 10 s")
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("cut after %v, want about 300 ms", d)
	}
}

// TestIdleConnectionClosed: a keep-alive connection that sends nothing after
// its answer is closed when the idle timeout (here 300 ms) runs out.
func TestIdleConnectionClosed(t *testing.T) {
	a := start(t, nil, "-idle-timeout", "300ms")
	c := rawConn(t, a.API, 10*time.Second)
	if _, err := io.WriteString(c, "OPTIONS /pay/pay_for_order/ HTTP/1.1\r\nHost: x\r\nAuthorization: Token "+seedToken+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("OPTIONS: %d, close %v; want 200 on a kept-alive connection", res.StatusCode, res.Close)
	}
	began := time.Now()
	_, err = r.ReadByte()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the idle connection was still open after 10 s")
	}
	if err != io.EOF {
		t.Errorf("read after the answer: %v, want EOF", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("closed after %v, want about 300 ms", d)
	}
}
