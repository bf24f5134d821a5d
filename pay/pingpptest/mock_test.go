package pingpptest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// page fetches the test payment page (GET with query, or POST with form)
// without following redirects.
func page(t *testing.T, srv *Server, method string, v url.Values) (int, string, http.Header) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequest(method, srv.URL+"/mock.php", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequest(method, srv.URL+"/mock.php?"+v.Encode(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	res, err := srv.Client().Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func TestMockPage(t *testing.T) {
	rc := newReceiver(t)
	srv := newServer(t, Config{WebhookURL: rc.URL})
	wap := func(no string, extra map[string]any) Charge {
		return create(t, srv, params("alipay_wap", map[string]any{"order_no": no, "extra": extra, "subject": "<b>课程</b>"}))
	}
	c := wap("20261201000001", map[string]any{"success_url": "https://shop.example/ok", "cancel_url": "https://shop.example/cancel"})
	query := url.Values{"ch_id": {c.ID}, "scheme": {"http"}, "channel": {"alipay_wap"}, "order_no": {c.OrderNo}}

	status, body, _ := page(t, srv, "GET", query)
	for _, want := range []string{"确认支付", "¥1.00", "&lt;b&gt;课程&lt;/b&gt;", "支付宝手机网站支付（alipay_wap）", c.OrderNo,
		chinaTime(time.Unix(c.TimeExpire, 0)), `id="pay"`, `id="fail"`, `id="cancel"`} {
		if !strings.Contains(body, want) {
			t.Errorf("payment page (%d) lacks %q", status, want)
		}
	}
	// Cancel returns to cancel_url and changes nothing.
	if status, _, h := page(t, srv, "POST", url.Values{"ch_id": {c.ID}, "action": {"cancel"}}); status != 303 || h.Get("Location") != "https://shop.example/cancel" {
		t.Errorf("cancel: %d to %q", status, h.Get("Location"))
	}
	if got, _ := srv.Charge(c.ID); got.Paid || got.FailureCode != nil {
		t.Errorf("charge after cancel: paid %v failure %v", got.Paid, got.FailureCode)
	}
	// Pay returns to success_url; the webhook follows.
	if status, body, h := page(t, srv, "POST", url.Values{"ch_id": {c.ID}, "action": {"pay"}}); status != 303 || h.Get("Location") != "https://shop.example/ok" {
		t.Errorf("pay: %d to %q: %s", status, h.Get("Location"), body)
	}
	if ds, err := srv.WaitDeliveries(testCtx(t), 1); err != nil || ds[0].Type != EventChargeSucceeded {
		t.Fatalf("deliveries %v, %v", ds, err)
	}
	if got, _ := srv.Charge(c.ID); !got.Paid {
		t.Error("charge not paid after pay")
	}

	failed := wap("20261201000002", map[string]any{"success_url": "https://shop.example/ok"})
	if status, body, _ := page(t, srv, "POST", url.Values{"ch_id": {failed.ID}, "action": {"fail"}}); status != 200 || !strings.Contains(body, "支付失败") {
		t.Errorf("fail without fail_url: %d %s", status, body)
	}
	expired := wap("20261201000003", map[string]any{"success_url": "https://shop.example/ok"})
	if err := srv.Advance(25 * time.Hour); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		method string
		form   url.Values
		status int
		want   string
	}{
		{"Paid", "GET", url.Values{"ch_id": {c.ID}}, 200, "订单已支付"},
		{"PaidTwice", "POST", url.Values{"ch_id": {c.ID}, "action": {"pay"}}, 200, "订单已支付"},
		{"Failed", "GET", url.Values{"ch_id": {failed.ID}}, 409, "支付已失败"},
		{"Expired", "GET", url.Values{"ch_id": {expired.ID}}, 410, "订单已过期"},
		{"ExpiredPay", "POST", url.Values{"ch_id": {expired.ID}, "action": {"pay"}}, 410, "订单已过期"},
		{"Unknown", "GET", url.Values{"ch_id": {"ch_nope"}}, 404, "未找到支付"},
		{"NoID", "GET", url.Values{}, 404, "未找到支付"},
		{"BadAction", "POST", url.Values{"ch_id": {expired.ID}, "action": {"steal"}}, 400, "未知的操作"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, h := page(t, srv, tt.method, tt.form)
			if status != tt.status || !strings.Contains(body, tt.want) || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				t.Errorf("%d %s, want %d with %q", status, h.Get("Content-Type"), tt.status, tt.want)
			}
		})
	}
	if got, _ := srv.Charge(expired.ID); got.Paid {
		t.Error("an expired charge was paid")
	}
	if n := len(srv.Deliveries()); n != 1 {
		t.Errorf("%d deliveries, want the one payment's", n)
	}
}

// TestMockPageWithoutReturnURL: a channel that does not return to the
// merchant (wx_wap without result_url) shows the result on the page.
func TestMockPageWithoutReturnURL(t *testing.T) {
	srv := newServer(t, Config{})
	c := create(t, srv, params("wx_wap", nil))
	status, body, _ := page(t, srv, "POST", url.Values{"ch_id": {c.ID}, "action": {"pay"}})
	if status != 200 || !strings.Contains(body, "支付成功") || strings.Contains(body, `id="pay"`) {
		t.Errorf("pay: %d %s", status, body)
	}
}
