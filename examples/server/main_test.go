package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// start runs the server with env and extra flags on free ports and returns
// its addresses, the endpoint's as a base URL.
func start(t *testing.T, env map[string]string, args ...string) addrs {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-emulator-addr", "127.0.0.1:0"}, args...),
			func(k string) string { return env[k] }, io.Discard, func(a addrs) { addrc <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case a := <-addrc:
		a.API = "http://" + a.API
		return a
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	}
	return addrs{}
}

// httpClient talks to the servers under test.
var httpClient = &http.Client{Timeout: time.Minute}

func newPut(base, token string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPut, base+"/pay/pay_for_order/", body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token "+token)
	return req, nil
}

func putForm(t *testing.T, base, token, form string) map[string]any {
	t.Helper()
	req, err := newPut(base, token, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %v", res.StatusCode, body)
	}
	return body
}

// TestSeedCurl is the done-when of the endpoint: the seed's curl against the
// embedded default.
func TestSeedCurl(t *testing.T) {
	base := start(t, nil).API
	got := putForm(t, base, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
	ch, _ := got["ch"].(map[string]any)
	if got["status"] != 0.0 || ch["order_no"] != seedOrderNo || ch["amount"] != 9900.0 || ch["channel"] != "alipay" {
		t.Fatalf("got %v", got)
	}
	cred, _ := ch["credential"].(map[string]any)
	alipay, _ := cred["alipay"].(map[string]any)
	if info, _ := alipay["orderInfo"].(string); !strings.Contains(info, `total_fee="99.00"`) {
		t.Errorf("credential = %v", cred)
	}
	if got := putForm(t, base, seedToken, "order_no="+seedOrderNo+"&channel=bitcoin"); got["status"] != -4.0 || got["message"] != "无效的支付通道" {
		t.Errorf("bitcoin: %v", got)
	}
	if got := putForm(t, base, otherToken, "order_no="+seedOrderNo+"&channel=alipay"); got["status"] != -2.0 {
		t.Errorf("other buyer: %v", got)
	}
	if got := putForm(t, base, otherToken, "order_no="+otherOrderNo+"&channel=wx"); got["status"] != 0.0 {
		t.Errorf("other buyer's own order: %v", got)
	}
}

// TestGarbagePingpp points the server at a "Ping++" that answers garbage: the
// endpoint answers 支付请求失败 and keeps serving.
func TestGarbagePingpp(t *testing.T) {
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
	}))
	defer garbage.Close()
	base := start(t, map[string]string{
		"PINGPP_SECRET_KEY": "sk_test_ibbTe5jLGCi5rzfH4OqPW9KC",
		"PINGPP_APP_ID":     seedAppID,
		"PINGPP_API_BASE":   garbage.URL + "/v1",
	}).API
	for range 2 {
		got := putForm(t, base, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
		if got["status"] != -4.0 || got["message"] != "支付请求失败" {
			t.Fatalf("got %v", got)
		}
	}
}

// TestPayByHand is the manual walk-through of the README: pay with the seed's
// curl, pay the charge through the emulator's test-mode notify route, and
// the same PUT then answers that the order is paid.
func TestPayByHand(t *testing.T) {
	a := start(t, nil)
	got := putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
	ch, _ := got["ch"].(map[string]any)
	id, _ := ch["id"].(string)
	if id == "" {
		t.Fatalf("got %v", got)
	}
	res, err := http.Get(a.Emulator + "/notify/charges/" + id + "?livemode=false")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "success" {
		t.Fatalf("notify answered %q", body)
	}
	// Ping++ delivers the webhook asynchronously: poll the endpoint, as a
	// mobile client would, until it reports the payment.
	eventually(t, 10*time.Second, func() bool {
		got = putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
		return got["status"] == -3.0
	})
	if got["status"] != -3.0 || got["message"] != "订单已支付" {
		t.Fatalf("after paying: %v", got)
	}
}

// eventually polls cond until it holds, failing t after timeout: for state
// that another process changes in its own time.
func eventually(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline:
			t.Fatalf("condition not met within %v", timeout)
		case <-tick.C:
		}
	}
}
