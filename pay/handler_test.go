package pay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// TestSeedCurl is the seed document's example: PUT, form body, Token header.
func TestSeedCurl(t *testing.T) {
	e := setup(t)
	res := e.payForm(t, seedToken, seedOrderNo, "alipay")
	if res.code != http.StatusOK || res.env.Status != 0 || res.env.Message != "" {
		t.Fatalf("got %d %s", res.code, res.body)
	}
	ch := decodeCharge(t, res.env.Ch)
	if ch.OrderNo != seedOrderNo || ch.Amount != 9900 || ch.Channel != "alipay" || ch.Currency != "cny" || ch.ClientIP != "203.0.113.7" {
		t.Errorf("charge = %+v", ch)
	}
	if ch.Metadata["order_no"] != seedOrderNo || ch.Metadata["buyer"] != seedBuyer {
		t.Errorf("metadata = %v", ch.Metadata)
	}
	cred, err := ch.TypedCredential()
	if err != nil {
		t.Fatal(err)
	}
	alipay, ok := cred.(channel.AlipayCredential)
	if !ok || !strings.Contains(alipay.OrderInfo, `out_trade_no="`+seedOrderNo+`"`) || !strings.Contains(alipay.OrderInfo, `total_fee="99.00"`) {
		t.Errorf("credential = %#v, want an alipay orderInfo for 99.00 yuan", cred)
	}
}

// TestChargeIsWhatPingppSent checks that "ch" carries Ping++'s bytes: same
// keys in the same order, same numbers, no HTML escaping of the orderInfo.
func TestChargeIsWhatPingppSent(t *testing.T) {
	e := setup(t)
	res := e.payForm(t, seedToken, seedOrderNo, "alipay")
	ch := decodeCharge(t, res.env.Ch)
	fromPingpp, err := e.client.RetrieveCharge(t.Context(), ch.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(fromPingpp.Raw()), string(res.env.Ch)); diff != "" {
		t.Errorf("ch differs from Ping++'s charge (-pingpp +endpoint):\n%s", diff)
	}
	if !strings.Contains(res.body, `&out_trade_no=\"`+seedOrderNo) {
		t.Errorf("orderInfo was re-escaped: %s", res.body)
	}
}

func TestStatusTableOverHTTP(t *testing.T) {
	e := setup(t)
	tests := []struct {
		name, token, body string
		status            int
		message           string
	}{
		{"OK", seedToken, "order_no=" + seedOrderNo + "&channel=alipay", 0, ""},
		{"ErrInvalidRequest/NoOrderNo", seedToken, "channel=alipay", -1, "请求参数错误: order_no is required"},
		{"ErrOrderNotFound/Missing", seedToken, "order_no=99999999999&channel=alipay", -2, "订单不存在"},
		{"ErrOrderNotFound/OtherBuyer", otherToken, "order_no=" + seedOrderNo + "&channel=alipay", -2, "订单不存在"},
		{"ErrOrderNotPayable/Paid", seedToken, "order_no=" + paidOrderNo + "&channel=alipay", -3, "订单已支付"},
		{"ErrOrderNotPayable/Closed", seedToken, "order_no=" + closedNo + "&channel=alipay", -3, "订单已关闭"},
		{"ErrOrderNotPayable/Expired", seedToken, "order_no=" + expiredNo + "&channel=alipay", -3, "订单已关闭"},
		{"ErrInvalidChannel/Unknown", seedToken, "order_no=" + seedOrderNo + "&channel=bitcoin", -4, "无效的支付通道"},
		{"ErrInvalidChannel/Missing", seedToken, "order_no=" + seedOrderNo, -4, "无效的支付通道"},
		{"ErrInvalidChannel/NotEnabled", seedToken, "order_no=" + seedOrderNo + "&channel=upacp", -4, "无效的支付通道"},
		{"ErrInvalidChannel/MissingExtra", seedToken, "order_no=" + seedOrderNo + "&channel=wx_pub", -4, "无效的支付通道"},
		{"ErrInvalidChannel/BadExtra", seedToken, "order_no=" + seedOrderNo + "&channel=alipay_wap&extra[success_url]=nope", -4, "无效的支付通道"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := put(t, e.handler, http.MethodPut, "Token "+tt.token, "", tt.body)
			if res.code != http.StatusOK || res.env.Status != tt.status || res.env.Message != tt.message {
				t.Fatalf("got %d %s, want 200 status %d message %q", res.code, res.body, tt.status, tt.message)
			}
			if (tt.status == 0) != (len(res.env.Ch) > 0) {
				t.Errorf("ch present = %v for status %d", len(res.env.Ch) > 0, tt.status)
			}
		})
	}

	t.Run("ErrPaymentFailed", func(t *testing.T) {
		e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultErrorMissingFields})
		defer e.emu.ClearFaults()
		res := e.payForm(t, otherToken, otherOrderNo, "wx")
		if res.code != http.StatusOK || res.env.Status != -4 || res.env.Message != "支付请求失败" {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
	t.Run("ErrInternal", func(t *testing.T) {
		svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, failingStore{}, e.ledger, e.client)
		if err != nil {
			t.Fatal(err)
		}
		res := put(t, pay.NewHandler(svc, tokens), http.MethodPut, "Token "+seedToken, "", "order_no=1&channel=alipay")
		if res.code != http.StatusInternalServerError || res.env.Status != -5 || res.env.Message != "服务器内部错误" {
			t.Fatalf("got %d %s", res.code, res.body)
		}
		if strings.Contains(res.body, "unexpected EOF") {
			t.Errorf("internal cause leaked to the client: %s", res.body)
		}
	})
}

func TestDRFAuthentication(t *testing.T) {
	e := setup(t)
	body := "order_no=" + seedOrderNo + "&channel=alipay"
	tests := []struct {
		name, auth string
		code       int
		detail     string
	}{
		{"NoHeader", "", 401, "Authentication credentials were not provided."},
		{"OtherScheme", "Bearer " + seedToken, 401, "Authentication credentials were not provided."},
		{"KeywordOnly", "Token", 401, "Invalid token header. No credentials provided."},
		{"Spaces", "Token abc def", 401, "Invalid token header. Token string should not contain spaces."},
		{"UnknownToken", "Token 9999999999999999999999999999999999999999", 401, "Invalid token."},
		{"InactiveUser", "Token " + inactiveToken, 401, "User inactive or deleted."},
		{"NonUTF8", "Token \xff\xfe", 401, "Invalid token header. Token string should not contain invalid characters."},
		{"LowerCaseKeyword", "token " + seedToken, 200, ""},
		{"VerifierFailure", "Token " + brokenToken, 500, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := put(t, e.handler, http.MethodPut, tt.auth, "", body)
			if res.code != tt.code || res.env.Detail != tt.detail {
				t.Fatalf("got %d %s, want %d detail %q", res.code, res.body, tt.code, tt.detail)
			}
			if tt.code == 401 && res.header.Get("WWW-Authenticate") != "Token" {
				t.Errorf("WWW-Authenticate = %q", res.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestHTTPBehaviour(t *testing.T) {
	// The subtests pay one order through four channels.
	e := setup(t, func(c *pay.Config, _ *pingpptest.Config) { c.MaxLiveCharges = 4 })
	auth := "Token " + seedToken
	t.Run("MethodNotAllowed", func(t *testing.T) {
		res := put(t, e.handler, http.MethodGet, auth, "", "")
		if res.code != 405 || res.header.Get("Allow") != "PUT, OPTIONS" || res.env.Detail != `Method "GET" not allowed.` {
			t.Fatalf("got %d %v %s", res.code, res.header, res.body)
		}
	})
	t.Run("MalformedJSON", func(t *testing.T) {
		res := put(t, e.handler, http.MethodPut, auth, "application/json", `{"order_no":`)
		if res.code != 400 || !strings.HasPrefix(res.env.Detail, "JSON parse error") {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
	t.Run("OrderNoObject", func(t *testing.T) {
		res := put(t, e.handler, http.MethodPut, auth, "application/json", `{"order_no":{},"channel":"alipay"}`)
		if res.code != 200 || res.env.Status != -1 || res.env.Message != "请求参数错误: order_no must be a string or a whole number" {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
	t.Run("TwoMegabytes", func(t *testing.T) {
		// Over the old 1 MiB cap, under Django's 2.5 MB: DRF takes it.
		res := put(t, e.handler, http.MethodPut, auth, "", "order_no="+seedOrderNo+"&channel=alipay&pad="+strings.Repeat("x", 2<<20))
		if res.code != 200 || res.env.Status != 0 {
			t.Fatalf("got %d %.200s", res.code, res.body)
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPut, "/pay/pay_for_order/", strings.NewReader("order_no="+seedOrderNo+"&pad="+strings.Repeat("x", 3<<20)))
		r.Header.Set("Authorization", auth)
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		if w.Code != 400 || !strings.Contains(w.Body.String(), "<title>Bad Request (400)</title>") {
			t.Fatalf("got %d %.200s", w.Code, w.Body)
		}
	})
	t.Run("UnsupportedMediaType", func(t *testing.T) {
		res := put(t, e.handler, http.MethodPut, auth, "text/plain", "order_no=1")
		if res.code != 415 {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
	t.Run("JSONNumberOrderNo", func(t *testing.T) {
		// The seed's own example sends the number unquoted, and it exceeds int64.
		res := put(t, e.handler, http.MethodPut, auth, "application/json", `{"order_no":12134676899915430002,"channel":"alipay"}`)
		if res.env.Status != 0 || decodeCharge(t, res.env.Ch).OrderNo != seedOrderNo {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
	t.Run("JSONExtraObject", func(t *testing.T) {
		res := put(t, e.handler, http.MethodPut, auth, "application/json",
			`{"order_no":"`+seedOrderNo+`","channel":"alipay_wap","extra":{"success_url":"https://shop.example/ok"}}`)
		if res.env.Status != 0 || decodeCharge(t, res.env.Ch).Extra["success_url"] != "https://shop.example/ok" {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
	t.Run("FormExtraFields", func(t *testing.T) {
		res := put(t, e.handler, http.MethodPut, auth, "",
			"order_no="+seedOrderNo+"&channel=wx_pub&extra[open_id]=o7xEMsySBFG3MVHI")
		if res.env.Status != 0 || decodeCharge(t, res.env.Ch).Extra["open_id"] != "o7xEMsySBFG3MVHI" {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
	t.Run("Multipart", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("order_no", seedOrderNo)
		mw.WriteField("channel", "wx")
		mw.Close()
		res := put(t, e.handler, http.MethodPut, auth, mw.FormDataContentType(), buf.String())
		if res.env.Status != 0 || decodeCharge(t, res.env.Ch).Channel != "wx" {
			t.Fatalf("got %d %s", res.code, res.body)
		}
	})
}

func TestKeepsServingWhenPingppFails(t *testing.T) {
	e := setup(t)
	faults := map[string]pingpptest.FaultKind{
		"HTTP500JSON": pingpptest.FaultHTTP500JSON, "HTTP500HTML": pingpptest.FaultHTTP500HTML,
		"HTTP502JSON": pingpptest.FaultHTTP502JSON, "HTTP502HTML": pingpptest.FaultHTTP502HTML,
		"HTTP503JSON": pingpptest.FaultHTTP503JSON, "HTTP503HTML": pingpptest.FaultHTTP503HTML,
		"MalformedJSON": pingpptest.FaultMalformedJSON, "EmptyBody": pingpptest.FaultEmptyBody,
		"NullBody": pingpptest.FaultNullBody, "ErrorMissingFields": pingpptest.FaultErrorMissingFields,
		"ErrorNullFields": pingpptest.FaultErrorNullFields, "ErrorNotObject": pingpptest.FaultErrorNotObject,
		"Reset": pingpptest.FaultReset,
	}
	n := 0
	for name, kind := range faults {
		t.Run(name, func(t *testing.T) {
			n++
			no := fmt.Sprintf("4000000000000000%04d", n)
			if err := e.store.Put(order.Order{No: no, Buyer: otherBuyer, Amount: 100}); err != nil {
				t.Fatal(err)
			}
			e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteAny, Kind: kind})
			res := e.payForm(t, otherToken, no, "wx")
			e.emu.ClearFaults()
			if res.code != http.StatusOK || res.env.Status != -4 || res.env.Message != "支付请求失败" {
				t.Fatalf("got %d %s", res.code, res.body)
			}
			// Ping++ recovered: the same endpoint pays, with one charge in all.
			res = e.payForm(t, otherToken, no, "wx")
			if res.env.Status != 0 {
				t.Fatalf("after the fault: got %d %s", res.code, res.body)
			}
			if n := chargesOfOrder(t, e.client, no); n != 1 {
				t.Errorf("Ping++ holds %d charges for the order, want 1", n)
			}
		})
	}
}

// TestClientIP checks the address sent to Ping++ as client_ip: forwarding
// headers count only from trusted proxies.
func TestClientIP(t *testing.T) {
	e := setup(t, func(c *pay.Config, _ *pingpptest.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	tests := []struct {
		name, remote string
		header       http.Header
		want         string
	}{
		{"Direct", "203.0.113.7:5000", nil, "203.0.113.7"},
		{"UntrustedPeerForwarding", "203.0.113.7:5000", http.Header{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.7"},
		{"TrustedProxy", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"198.51.100.1, 10.0.0.9"}}, "198.51.100.1"},
		{"TrustedProxySpoofedLeft", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1"}}, "198.51.100.1"},
		{"TrustedProxyRealIP", "10.1.2.3:5000", http.Header{"X-Real-Ip": {"198.51.100.2"}}, "198.51.100.2"},
		{"TrustedProxyNoHeader", "10.1.2.3:5000", nil, "10.1.2.3"},
		// A proxy that sets only X-Real-IP passes the client's own
		// X-Forwarded-For through: it must not win.
		{"RealIPOnlyProxySpoofedForwardedFor", "10.1.2.3:5000", http.Header{"X-Real-Ip": {"198.51.100.2"}, "X-Forwarded-For": {"1.1.1.1"}}, "198.51.100.2"},
		{"RealIPAndForwardedFor", "10.1.2.3:5000", http.Header{"X-Real-Ip": {"198.51.100.2"}, "X-Forwarded-For": {"1.1.1.1, 198.51.100.2"}}, "198.51.100.2"},
		{"ChainOfProxies", "10.1.2.3:5000", http.Header{"X-Real-Ip": {"10.0.0.5"}, "X-Forwarded-For": {"1.1.1.1, 198.51.100.3, 10.0.0.5"}}, "198.51.100.3"},
		{"RealIPTwice", "10.1.2.3:5000", http.Header{"X-Real-Ip": {"1.1.1.1", "198.51.100.2"}}, "10.1.2.3"},
		{"MalformedHop", "10.1.2.3:5000", http.Header{"X-Forwarded-For": {"1.1.1.1, unknown"}}, "10.1.2.3"},
		{"SpoofedRealIPFromUntrustedPeer", "203.0.113.7:5000", http.Header{"X-Real-Ip": {"198.51.100.2"}}, "203.0.113.7"},
		{"IPv6", "[2001:db8::1]:5000", nil, "2001:db8::1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			no := fmt.Sprintf("6000000000000000%04d", i)
			if err := e.store.Put(order.Order{No: no, Buyer: seedBuyer, Amount: 100}); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodPut, "/pay/pay_for_order/", strings.NewReader("order_no="+no+"&channel=alipay"))
			r.RemoteAddr = tt.remote
			for k, v := range tt.header {
				r.Header[k] = v
			}
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", "Token "+seedToken)
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, r)
			var res struct{ Ch json.RawMessage }
			if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || len(res.Ch) == 0 {
				t.Fatalf("answer %s", w.Body)
			}
			if got := decodeCharge(t, res.Ch).ClientIP; got != tt.want {
				t.Errorf("client_ip = %s, want %s", got, tt.want)
			}
		})
	}
}

// chargesOfOrder counts the charges Ping++ holds for the merchant's order no
// (metadata.order_no), whatever Ping++ order numbers they were made with.
func chargesOfOrder(t testing.TB, c *pingxx.Client, no string) int {
	t.Helper()
	list, err := c.ListCharges(t.Context(), pingxx.ListFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ch := range list.Data {
		if ch.Metadata["order_no"] == no {
			n++
		}
	}
	return n
}

// countingStore counts reads of the orders it forwards to.
type countingStore struct {
	inner *order.MemStore
	reads *atomic.Int64
}

func (s countingStore) Order(ctx context.Context, no string) (order.Order, error) {
	s.reads.Add(1)
	return s.inner.Order(ctx, no)
}

// TestOrderNoCheckedBeforeTheStore: an order number that cannot be one (too
// long, a NUL byte, not ASCII letters and digits) is answered -1 without a
// store read, and nothing of it is logged whole.
func TestOrderNoCheckedBeforeTheStore(t *testing.T) {
	e := setup(t)
	var reads atomic.Int64
	var logs bytes.Buffer
	svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		countingStore{e.store, &reads}, e.ledger, e.client)
	if err != nil {
		t.Fatal(err)
	}
	h := pay.NewHandler(svc, tokens)
	huge := strings.Repeat("1", 1<<20)
	for name, body := range map[string]string{
		"OneMiB":    "order_no=" + huge + "&channel=alipay",
		"NUL":       "order_no=" + seedOrderNo + "%00&channel=alipay",
		"RawNUL":    "order_no=" + seedOrderNo + "\x00&channel=alipay",
		"Length65":  "order_no=" + strings.Repeat("1", 65) + "&channel=alipay",
		"NotASCII":  "order_no=%EF%BC%91&channel=alipay",
		"JSONHuge":  `{"order_no":"` + huge + `","channel":"alipay"}`,
		"Separator": "order_no=2026-11-29&channel=alipay",
	} {
		t.Run(name, func(t *testing.T) {
			ct := ""
			if strings.HasPrefix(body, "{") {
				ct = "application/json"
			}
			res := put(t, h, http.MethodPut, "Token "+seedToken, ct, body)
			if res.code != 200 || res.env.Status != -1 || res.env.Message != "请求参数错误: order_no must be 1 to 64 ASCII letters or digits" {
				t.Fatalf("got %d %.200s", res.code, res.body)
			}
		})
	}
	if n := reads.Load(); n != 0 {
		t.Errorf("the store was read %d times", n)
	}
	// A valid number with a 1 MiB channel reaches the service, which
	// refuses the channel: the log line stays short.
	res := put(t, h, http.MethodPut, "Token "+seedToken, "", "order_no="+seedOrderNo+"&channel="+strings.Repeat("x", 1<<20))
	if res.env.Status != -4 {
		t.Fatalf("got %d %.200s", res.code, res.body)
	}
	if logs.Len() > 16<<10 {
		t.Errorf("%d bytes of log for %d refusals", logs.Len(), 8)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if len(line) > 2048 {
			t.Errorf("log line of %d bytes: %.100s…", len(line), line)
		}
	}
}

// TestPathologicalHeadersAreLinear: header parameters full of quotes and
// semicolons, which Django splits in quadratic time, are answered at once.
func TestPathologicalHeadersAreLinear(t *testing.T) {
	e := setup(t)
	evil := strings.Repeat(`";`, 256<<10)
	for name, h := range map[string]http.Header{
		"ContentType": {"Content-Type": {"application/json; x=" + evil}},
		"Accept":      {"Accept": {"application/json; x=" + evil}, "Content-Type": {"application/json"}},
	} {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPut, "/pay/pay_for_order/", strings.NewReader(`{"order_no":"`+seedOrderNo+`","channel":"alipay"}`))
			r.Header = h
			r.Header.Set("Authorization", "Token "+seedToken)
			w := httptest.NewRecorder()
			began := time.Now()
			e.handler.ServeHTTP(w, r)
			if d := time.Since(began); d > 10*time.Second {
				t.Errorf("answered after %v", d)
			}
			if w.Code != http.StatusOK && w.Code != http.StatusNotAcceptable {
				t.Errorf("got %d %.200s", w.Code, w.Body)
			}
		})
	}
}

// TestChunkedEmptyBody: a chunked body of nothing is no data, like
// Content-Length: 0, not a JSON parse error.
func TestChunkedEmptyBody(t *testing.T) {
	e := setup(t)
	r := httptest.NewRequest(http.MethodPut, "/pay/pay_for_order/", io.NopCloser(strings.NewReader("")))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Token "+seedToken)
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "order_no is required") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}
