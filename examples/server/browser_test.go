package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the path of Debian's chromium. Without one the test is
// skipped, except in CI (CI=true), where .ci/run installs it and a missing
// browser is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH in CI: .ci/run installs Debian's chromium (apt-get install -y chromium)")
	}
	t.Skip("no chromium on PATH: apt-get install -y chromium to run the browser test")
	return ""
}

// merchantPage is the merchant's web page: it loads Ping++'s browser SDK
// and pays a charge with it, as a shop's checkout page does.
const merchantPage = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>checkout</title>
<script src="/pingpp.js"></script>
<script>
window.payWith = function (charge) {
  pingpp.createPayment(charge, function (result, err) {
    document.title = 'pingpp: ' + result + ' ' + JSON.stringify(err);
  });
};
</script></head>
<body><h1 id="checkout">结算</h1></body></html>`

// TestBrowserPaysOnTheTestPage is the browser's way through a test-mode
// payment: the endpoint gives an alipay_wap charge, the real pingpp-js sends
// the browser to Ping++'s test page (sissi.pingxx.com, mapped to the
// emulator behind TLS), the buyer clicks 付款, the browser comes back to the
// charge's success_url, and the endpoint then says the order is paid.
func TestBrowserPaysOnTheTestPage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	bin := chromium(t)
	a := start(t, nil, "-channels", "alipay,wx,alipay_wap")

	shop := http.NewServeMux()
	shop.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(merchantPage))
	})
	shop.HandleFunc("GET /pingpp.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "testdata/pingpp-js/pingpp.js")
	})
	shop.HandleFunc("GET /paid", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><h1 id="paid">支付完成</h1></body></html>`))
	})
	shopSrv := httptest.NewServer(shop)
	defer shopSrv.Close()

	// sissi.pingxx.com: TLS in front of the embedded emulator.
	emu, err := url.Parse(a.Emulator)
	if err != nil {
		t.Fatal(err)
	}
	sissi := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(emu))
	defer sissi.Close()

	form := url.Values{"order_no": {seedOrderNo}, "channel": {"alipay_wap"}, "extra[success_url]": {shopSrv.URL + "/paid"}}
	got := putForm(t, a.API, seedToken, form.Encode())
	ch, _ := got["ch"].(map[string]any)
	if got["status"] != 0.0 || ch["channel"] != "alipay_wap" || ch["livemode"] != false {
		t.Fatalf("PUT alipay_wap: %v", got)
	}
	charge, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(480, 800),
		chromedp.Flag("host-resolver-rules", "MAP sissi.pingxx.com "+sissi.Listener.Addr().String()),
		// sissi's certificate is httptest's, for 127.0.0.1 and example.com.
		chromedp.Flag("ignore-certificate-errors", true),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	if err := chromedp.Do(bctx,
		chromedp.Navigate(shopSrv.URL+"/checkout"),
		chromedp.WaitVisible(chromedp.ID("checkout")),
	); err != nil {
		t.Fatalf("merchant page: %v", err)
	}
	// pingpp.createPayment navigates away; its own result is the new page.
	if _, err := chromedp.Run(bctx, chromedp.Evaluate[chromedp.Void]("payWith("+string(charge)+")")); err != nil {
		t.Fatalf("pingpp.createPayment: %v", err)
	}
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.ID("pay"))); err != nil {
		t.Fatalf("the test payment page did not show: %v", err)
	}
	mockURL, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(mockURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "https" || u.Host != "sissi.pingxx.com" || u.Path != "/mock.php" || q.Get("ch_id") != ch["id"] ||
		q.Get("channel") != "alipay_wap" || q.Get("scheme") != "http" || q.Get("order_no") != seedOrderNo || q.Get("time_expire") == "" ||
		!strings.Contains(q.Get("extra"), "success_url") {
		t.Errorf("pingpp-js opened %s, want Ping++'s mock page with the charge's query", mockURL)
	}
	for id, want := range map[string]string{"amount": "¥99.00", "subject": "collection的使用", "order_no": seedOrderNo, "channel": "alipay_wap"} {
		text, err := chromedp.Run(bctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("#%s: %v", id, err)
		}
		if !strings.Contains(text, want) {
			t.Errorf("#%s = %q, want %q", id, text, want)
		}
	}

	if err := chromedp.Do(bctx, chromedp.Click(chromedp.ID("pay")), chromedp.WaitVisible(chromedp.ID("paid"))); err != nil {
		t.Fatalf("paying on the test page: %v", err)
	}
	back, err := chromedp.Run(bctx, chromedp.Location())
	if err != nil || back != shopSrv.URL+"/paid" {
		t.Errorf("after paying the browser is at %q (%v), want the success_url %s", back, err, shopSrv.URL+"/paid")
	}
	// The webhook is asynchronous: poll the endpoint as the app would.
	eventually(t, 10*time.Second, func() bool {
		got = putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
		return got["status"] == -3.0
	})
	if got["message"] != "订单已支付" {
		t.Errorf("after paying in the browser: %v", got)
	}
}

// TestChannelsFlag: -channels enables channels beyond the default and
// rejects names that are not Ping++ channels.
func TestChannelsFlag(t *testing.T) {
	a := start(t, nil)
	if got := putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay_wap&extra[success_url]=https://shop.example/ok"); got["status"] != -4.0 {
		t.Errorf("alipay_wap by default: %v, want -4 (not enabled)", got)
	}
	// The flag is checked before anything listens.
	err := run(context.Background(), []string{"-channels", "alipay,bitcoin"}, func(string) string { return "" }, &strings.Builder{}, nil)
	if err == nil || !strings.Contains(err.Error(), `"bitcoin"`) {
		t.Errorf("-channels alipay,bitcoin: %v, want an error naming bitcoin", err)
	}
}
