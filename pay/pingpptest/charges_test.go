package pingpptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/pingxx"
)

func TestCreateChargeMatchesSampleShape(t *testing.T) {
	srv := newServer(t, Config{})
	status, body := call(t, srv, "POST", "/v1/charges", params("wx", nil))
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	// S2 is a test-mode wx charge of 2020 as Ping++ sent it.
	want := keyOrder(t, readTestdata(t, "S2.json"))
	if diff := cmp.Diff(want, keyOrder(t, body)); diff != "" {
		t.Errorf("key order differs from samples/charges/S2.json (-sample +emulator):\n%s", diff)
	}
	var got, sample map[string]json.RawMessage
	json.Unmarshal(body, &got)
	json.Unmarshal(readTestdata(t, "S2.json"), &sample)
	for _, k := range []string{"object", "livemode", "paid", "refunded", "reversed", "time_paid", "time_settle",
		"transaction_no", "amount_refunded", "failure_code", "failure_msg", "description", "extra", "metadata"} {
		if string(got[k]) != string(sample[k]) {
			t.Errorf("%s = %s, sample has %s", k, got[k], sample[k])
		}
	}
	var c Charge
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^ch_[0-9A-Za-z]{24}$`).MatchString(c.ID) {
		t.Errorf("id %q is not ch_ + 24 base62 characters", c.ID)
	}
	if c.TimeExpire-c.Created != 7200 {
		t.Errorf("wx time_expire - created = %d, want 7200 (as in S2)", c.TimeExpire-c.Created)
	}
	wantRefunds := RefundList{Object: "list", URL: "/v1/charges/" + c.ID + "/refunds", Data: []Refund{}}
	if diff := cmp.Diff(wantRefunds, c.Refunds); diff != "" {
		t.Errorf("refunds (-want +got):\n%s", diff)
	}
	if c.AmountSettle != c.Amount || c.App != DefaultAppID || c.Livemode {
		t.Errorf("amount_settle %d app %q livemode %v", c.AmountSettle, c.App, c.Livemode)
	}
	if got := srv.Stats().ChargesCreated; got != 1 {
		t.Errorf("ChargesCreated = %d, want 1", got)
	}
}

func TestCreateChargeEchoesRequest(t *testing.T) {
	srv := newServer(t, Config{})
	body := `{"order_no":"A1234567","app":{"id":"` + DefaultAppID + `"},"channel":"alipay_wap","amount":1,` +
		`"currency":"cny","client_ip":"::1","subject":"s","body":"b",` +
		`"extra":{"success_url":"http://www.yourdomain.com/return.php","cancel_url":"http://x.example/c","app_pay":true},` +
		`"metadata":{"zeta":"1","alpha":2,"open_id":null},"description":"d"}`
	status, out := call(t, srv, "POST", "/v1/charges", body)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, out)
	}
	var got map[string]json.RawMessage
	json.Unmarshal(out, &got)
	for k, want := range map[string]string{
		"extra":       `{"success_url":"http://www.yourdomain.com/return.php","cancel_url":"http://x.example/c","app_pay":true}`,
		"metadata":    `{"zeta":"1","alpha":2,"open_id":null}`,
		"description": `"d"`, "client_ip": `"::1"`, "order_no": `"A1234567"`, "app": `"` + DefaultAppID + `"`,
	} {
		if string(got[k]) != want {
			t.Errorf("%s = %s, want %s (client's key order kept)", k, got[k], want)
		}
	}
}

func TestCreateChargeDefaultExpiry(t *testing.T) {
	clock := newClock()
	srv := newServer(t, Config{Now: clock.Now})
	for _, ch := range []string{"alipay", "wx", "upacp", "wx_pub_qr", "alipay_wap"} {
		t.Run(ch, func(t *testing.T) {
			c := create(t, srv, params(ch, map[string]any{"order_no": "E" + fmt.Sprint(len(ch)) + "x1234567"}))
			want := channel.Channel(ch).DefaultExpiry()
			if got := time.Duration(c.TimeExpire-c.Created) * time.Second; got != want || c.Created != clock.Now().Unix() {
				t.Errorf("time_expire - created = %v, want %v; created %d", got, want, c.Created)
			}
		})
	}
}

func TestCreateChargeValidation(t *testing.T) {
	clock := newClock()
	srv := newServer(t, Config{Now: clock.Now})
	now := clock.Now().Unix()
	tenKeys := map[string]any{}
	for i := range 11 {
		tenKeys[fmt.Sprintf("k%d", i)] = "v"
	}
	tests := []struct {
		name    string
		body    any
		param   string
		message string // substring
	}{
		{"NotJSON", "order_no=1&channel=alipay", "", "请求体解析失败: 不是一个合法的 json 格式字符串"},
		{"JSONArray", "[1,2]", "", "不是一个合法的 json"},
		{"MissingOrderNo", params("alipay", map[string]any{"order_no": nil}), "order_no", "缺少参数 order_no"},
		{"MissingApp", params("alipay", map[string]any{"app": nil}), "app", "缺少参数 app"},
		{"MissingAppID", params("alipay", map[string]any{"app": map[string]any{}}), "app[id]", "缺少参数 app[id]"},
		{"UnknownApp", params("alipay", map[string]any{"app": map[string]any{"id": "app_nope"}}), "app", "app_nope"},
		{"MissingChannel", params("alipay", map[string]any{"channel": nil}), "channel", "缺少参数 channel"},
		{"UnknownChannel", params("bitcoin", nil), "channel", "无效的支付渠道: bitcoin"},
		{"MissingAmount", params("alipay", map[string]any{"amount": nil}), "amount", "缺少参数 amount"},
		{"ZeroAmount", params("alipay", map[string]any{"amount": 0}), "amount", "大于 0"},
		{"NegativeAmount", params("alipay", map[string]any{"amount": -5}), "amount", "大于 0"},
		{"FractionalAmount", params("alipay", map[string]any{"amount": 1.5}), "amount", "整数"},
		{"StringAmount", params("alipay", map[string]any{"amount": "100"}), "amount", "整数"},
		{"MissingCurrency", params("alipay", map[string]any{"currency": nil}), "currency", "缺少参数 currency"},
		{"UpperCurrency", params("alipay", map[string]any{"currency": "CNY"}), "currency", "小写"},
		{"LongCurrency", params("alipay", map[string]any{"currency": "cnyy"}), "currency", "3 位"},
		{"IsvLiteCurrency", params("isv_lite", map[string]any{"currency": "usd"}), "currency", "cny 和 hkd"},
		{"MissingClientIP", params("alipay", map[string]any{"client_ip": nil}), "client_ip", "缺少参数 client_ip"},
		{"BadClientIP", params("alipay", map[string]any{"client_ip": "localhost"}), "client_ip", "IP"},
		{"MissingSubject", params("alipay", map[string]any{"subject": ""}), "subject", "缺少参数 subject"},
		{"NumberSubject", params("alipay", map[string]any{"subject": 1}), "subject", "字符串"},
		{"LongSubject", params("alipay", map[string]any{"subject": strings.Repeat("课", 33)}), "subject", "32 个字符"},
		{"UnionPaySubjectBytes", params("upacp", map[string]any{"order_no": "12345678", "subject": strings.Repeat("课", 11)}), "subject", "32 个字节"},
		{"MissingBody", params("alipay", map[string]any{"body": nil}), "body", "缺少参数 body"},
		{"LongBody", params("alipay", map[string]any{"body": strings.Repeat("b", 129)}), "body", "128"},
		{"LongBodyYeepay", params("yeepay_wap", map[string]any{"body": strings.Repeat("b", 101)}), "body", "100"},
		{"LongDescription", params("alipay", map[string]any{"description": strings.Repeat("d", 256)}), "description", "255"},
		{"OrderNoCharset", params("alipay", map[string]any{"order_no": "2026-11-29"}), "order_no", "1 到 64 位"},
		{"OrderNoTooLongWx", params("wx", map[string]any{"order_no": strings.Repeat("1", 33)}), "order_no", "2 到 32 位"},
		{"OrderNoTooShortWx", params("wx", map[string]any{"order_no": "1"}), "order_no", "2 到 32 位"},
		{"OrderNoTooShortUpacp", params("upacp", map[string]any{"order_no": "1234567"}), "order_no", "8 到 40 位"},
		{"TimeExpireTooSoon", params("alipay", map[string]any{"time_expire": now + 59}), "time_expire", "1 分钟"},
		{"TimeExpirePast", params("alipay", map[string]any{"time_expire": now - 10}), "time_expire", "1 分钟"},
		{"TimeExpireTooLateWx", params("wx", map[string]any{"time_expire": now + 7201}), "time_expire", "wx"},
		{"TimeExpireTooLateUpacp", params("upacp", map[string]any{"order_no": "12345678", "time_expire": now + 3601}), "time_expire", "upacp"},
		{"TimeExpireTooLateAlipay", params("alipay", map[string]any{"time_expire": now + 15*86400 + 1}), "time_expire", "alipay"},
		{"TimeExpireString", params("alipay", map[string]any{"time_expire": "soon"}), "time_expire", "整数"},
		{"MetadataTooManyKeys", params("alipay", map[string]any{"metadata": tenKeys}), "metadata", "10 个"},
		{"MetadataTooLong", params("alipay", map[string]any{"metadata": map[string]any{"k": strings.Repeat("长", 1000)}}), "metadata", "1000"},
		{"MetadataNested", params("alipay", map[string]any{"metadata": map[string]any{"k": map[string]any{"a": 1}}}), "metadata", "嵌套"},
		{"MetadataList", params("alipay", map[string]any{"metadata": map[string]any{"k": []int{1}}}), "metadata", "嵌套"},
		{"MetadataNotObject", params("alipay", map[string]any{"metadata": "x"}), "metadata", "JSON 对象"},
		{"ExtraNotObject", params("alipay", map[string]any{"extra": 5}), "extra", "JSON 对象"},
		{"ExtraMissingRequired", params("alipay_wap", map[string]any{"extra": map[string]any{}}), "extra[success_url]", "缺少参数"},
		{"ExtraMissingOpenID", params("wx_pub", map[string]any{"extra": map[string]any{}}), "extra[open_id]", "缺少参数"},
		{"ExtraMalformed", params("alipay_wap", map[string]any{"extra": map[string]any{"success_url": "not a url"}}), "extra[success_url]", "格式错误"},
		{"ExtraBadEnum", params("qpay", map[string]any{"extra": map[string]any{"device": "windows"}}), "extra[device]", "格式错误"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, "POST", "/v1/charges", tt.body)
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", status, body)
			}
			e := decodeErr(t, body)
			if e.Type != "invalid_request_error" || e.Param != tt.param || !strings.Contains(e.Message, tt.message) {
				t.Errorf("error %+v, want param %q and message containing %q", e, tt.param, tt.message)
			}
		})
	}
	if st := srv.Stats(); st.ChargesCreated != 0 || st.ChargeRequests != int64(len(tests)) {
		t.Errorf("after %d invalid requests: ChargesCreated = %d, ChargeRequests = %d", len(tests), st.ChargesCreated, st.ChargeRequests)
	}
}

func TestCreateChargeAcceptsLimits(t *testing.T) {
	clock := newClock()
	srv := newServer(t, Config{Now: clock.Now})
	now := clock.Now().Unix()
	meta := map[string]any{}
	for i := range 10 {
		meta[fmt.Sprintf("k%d", i)] = strings.Repeat("v", 98)
	}
	tests := []struct {
		name string
		p    map[string]any
	}{
		{"Subject32Chars", params("alipay", map[string]any{"subject": strings.Repeat("课", 32)})},
		{"UnionPaySubject32Bytes", params("upacp", map[string]any{"order_no": "12345678", "subject": strings.Repeat("a", 32)})},
		{"Body128Chars", params("alipay", map[string]any{"body": strings.Repeat("课", 128)})},
		{"Description255", params("alipay", map[string]any{"description": strings.Repeat("d", 255)})},
		{"TimeExpireOneMinute", params("alipay", map[string]any{"time_expire": now + 60})},
		{"TimeExpireWxTwoHours", params("wx", map[string]any{"time_expire": now + 7200})},
		{"TimeExpireFifteenDays", params("alipay", map[string]any{"time_expire": now + 15*86400})},
		{"Metadata10Keys1000Chars", params("alipay", map[string]any{"metadata": meta})},
		{"MetadataEmptyArray", params("alipay", map[string]any{"metadata": []any{}})},
		{"OrderNo64Alipay", params("alipay", map[string]any{"order_no": strings.Repeat("a", 64)})},
		{"AppAsString", params("alipay", map[string]any{"app": DefaultAppID})},
		{"IPv6", params("wx", map[string]any{"client_ip": "2001:db8::1"})},
		{"UnknownExtraKeyPassedThrough", params("alipay", map[string]any{"extra": map[string]any{"future_key": "x"}})},
		{"NoExtraForCpB2B", params("cp_b2b", map[string]any{"order_no": "12345678"})},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := tt.p["order_no"].(string); ok && tt.p["order_no"] == "20261129000001" {
				tt.p["order_no"] = fmt.Sprintf("LIMIT%08d", i)
			}
			c := create(t, srv, tt.p)
			if tt.p["time_expire"] != nil && c.TimeExpire != tt.p["time_expire"] {
				t.Errorf("time_expire = %d, want %v", c.TimeExpire, tt.p["time_expire"])
			}
		})
	}
}

func TestRetrieveCharge(t *testing.T) {
	srv := newServer(t, Config{SecretKeys: []string{DefaultSecretKey, "sk_live_abcdefghijklmnopqrstuvwx"}})
	c := create(t, srv, params("alipay", nil))
	status, body := call(t, srv, "GET", "/v1/charges/"+c.ID, nil)
	want, _ := srv.ChargeJSON(c.ID)
	if status != http.StatusOK || string(body) != string(want) {
		t.Errorf("GET charge: %d %s, want 200 %s", status, body, want)
	}
	tests := []struct {
		name, id, key string
	}{
		{"Unknown", "ch_14ynXPmPqzb1SCCeXDX9yTOc", DefaultSecretKey},
		{"OtherMode", c.ID, "sk_live_abcdefghijklmnopqrstuvwx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, "GET", "/v1/charges/"+tt.id, nil, "Authorization", "Bearer "+tt.key)
			got := decodeErr(t, body)
			want := apiErr{Type: "invalid_request_error", Message: "未找到 charge : " + tt.id + "。", Param: "id"}
			if status != http.StatusNotFound {
				t.Errorf("status %d, want 404", status)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetrieveChargeMatchesSampleE2(t *testing.T) {
	srv := newServer(t, Config{})
	status, body := call(t, srv, "GET", "/v1/charges/ch_14ynXPmPqzb1SCCeXDX9yTOc", nil)
	sample := string(readTestdata(t, "E2.http"))
	_, sampleBody, _ := strings.Cut(sample, "\n\n")
	if status != http.StatusNotFound || !strings.HasPrefix(sample, "HTTP/1.1 404") {
		t.Errorf("status %d, sample %.20s", status, sample)
	}
	if diff := cmp.Diff(decodeErr(t, []byte(sampleBody)), decodeErr(t, body)); diff != "" {
		t.Errorf("404 body differs from samples/errors/E2.http (-sample +emulator):\n%s", diff)
	}
}

func TestCredentials(t *testing.T) {
	srv := newServer(t, Config{})
	tests := []struct {
		ch    string
		check func(t *testing.T, c Charge, cred channel.Credential)
	}{
		{"alipay", func(t *testing.T, c Charge, cred channel.Credential) {
			info := cred.(channel.AlipayCredential).OrderInfo
			for _, part := range []string{
				`service="mobile.securitypay.pay"`, `&partner="`, `&out_trade_no="` + c.OrderNo + `"`,
				`&subject="` + c.Subject + `"`, `&body="` + c.Body + `"`, `&total_fee="1.00"`,
				`&notify_url="http%3A%2F%2F127.0.0.1%3A`, `%2Fnotify%2Fcharges%2F` + c.ID + `"`,
				`&it_b_pay="`, `&sign="`, `&sign_type="RSA"`,
			} {
				if !strings.Contains(info, part) {
					t.Errorf("orderInfo %s lacks %s", info, part)
				}
			}
		}},
		{"alipay_wap", func(t *testing.T, c Charge, cred channel.Credential) {
			f := cred.(channel.FormCredential)
			if f.ChannelURL != "https://mapi.alipay.com/gateway.do" || f.Fields["total_fee"] != "1.00" ||
				f.Fields["out_trade_no"] != c.OrderNo || f.Fields["return_url"] != "https%3A%2F%2Fexample.com%2Fok" {
				t.Errorf("alipay_wap credential %+v", f)
			}
		}},
		{"wx", func(t *testing.T, c Charge, cred channel.Credential) {
			w := cred.(channel.WxCredential)
			if ts, err := w.TimeStamp.Int(); err != nil || ts != c.Created || w.PackageValue != "Sign=WXPay" || len(w.Sign) != 32 {
				t.Errorf("wx credential %+v", w)
			}
			if !strings.Contains(string(c.Credential), `"timeStamp":`+fmt.Sprint(c.Created)) {
				t.Errorf("wx timeStamp is not a JSON number: %s", c.Credential)
			}
		}},
		{"wx_pub", func(t *testing.T, c Charge, cred channel.Credential) {
			w := cred.(channel.WxPubCredential)
			if string(w.TimeStamp) != fmt.Sprint(c.Created) || !strings.HasPrefix(w.Package, "prepay_id=") || w.SignType != "MD5" {
				t.Errorf("wx_pub credential %+v", w)
			}
			if !strings.Contains(string(c.Credential), `"timeStamp":"`) {
				t.Errorf("wx_pub timeStamp is not a JSON string: %s", c.Credential)
			}
		}},
		{"wx_lite", func(t *testing.T, c Charge, cred channel.Credential) {
			if w := cred.(channel.WxPubCredential); w.PaySign == "" {
				t.Errorf("wx_lite credential %+v", w)
			}
		}},
		{"alipay_qr", func(t *testing.T, c Charge, cred channel.Credential) {
			if u := cred.(channel.URLCredential).URL; !strings.HasPrefix(u, "https://qr.alipay.com/") {
				t.Errorf("alipay_qr URL %q", u)
			}
		}},
		{"wx_pub_qr", func(t *testing.T, c Charge, cred channel.Credential) {
			if u := cred.(channel.URLCredential).URL; !strings.HasPrefix(u, "weixin://wxpay/bizpayurl?pr=") {
				t.Errorf("wx_pub_qr URL %q", u)
			}
		}},
		{"wx_wap", func(t *testing.T, c Charge, cred channel.Credential) {
			if u := cred.(channel.URLCredential).URL; u != "https://sissi.pingxx.com/mock.php?ch_id="+c.ID+"&channel=wx_wap" {
				t.Errorf("wx_wap URL %q", u)
			}
		}},
		{"upacp", func(t *testing.T, c Charge, cred channel.Credential) {
			u := cred.(channel.UpacpCredential)
			if !regexp.MustCompile(`^[0-9]{21}$`).MatchString(u.TN) || u.Mode == "" {
				t.Errorf("upacp credential %+v", u)
			}
		}},
		{"upacp_wap", func(t *testing.T, c Charge, cred channel.Credential) {
			if f := cred.(channel.FormCredential); f.Fields["orderId"] != c.OrderNo || f.Fields["txnAmt"] != "100" {
				t.Errorf("upacp_wap credential %+v", f)
			}
		}},
		{"qpay", func(t *testing.T, c Charge, cred channel.Credential) {
			if r := cred.(channel.RawCredential); !strings.Contains(string(r.JSON), c.ID) {
				t.Errorf("qpay credential %s", r.JSON)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.ch, func(t *testing.T) {
			c := create(t, srv, params(tt.ch, map[string]any{"order_no": fmt.Sprintf("CRED%08d", i)}))
			if keys := keyOrder(t, c.Credential); len(keys) != 2 || keys[0] != "object" || keys[1] != tt.ch {
				t.Errorf("credential keys %v, want [object %s]", keys, tt.ch)
			}
			cred, err := channel.DecodeCredential(channel.Channel(tt.ch), c.Credential)
			if err != nil || cred == nil {
				t.Fatalf("DecodeCredential: %v, %v: %s", cred, err, c.Credential)
			}
			tt.check(t, c, cred)
		})
	}
}

func TestIdempotencyWindow(t *testing.T) {
	tests := []struct {
		name      string
		ch        string
		advance   time.Duration
		change    map[string]any
		status    int
		sameID    bool
		errType   string
		errParam  string
		errSubstr string
	}{
		{name: "AlipaySameInWindow", ch: "alipay", advance: 59 * time.Second, status: 200, sameID: true},
		{name: "AlipayNewAfterWindow", ch: "alipay", advance: time.Minute, status: 200},
		{name: "AlipayChangedAmountInWindow", ch: "alipay", advance: 30 * time.Second, change: map[string]any{"amount": 101},
			status: 400, errType: "invalid_request_error", errParam: "order_no", errSubstr: "订单号"},
		{name: "AlipayChangedSubjectInWindow", ch: "alipay", change: map[string]any{"subject": "other"},
			status: 400, errType: "invalid_request_error", errParam: "order_no"},
		{name: "AlipayChangedBodyAfterWindow", ch: "alipay", advance: 2 * time.Minute, change: map[string]any{"body": "other"}, status: 200},
		{name: "WxSameInTwoHours", ch: "wx", advance: 2*time.Hour - time.Second, status: 200, sameID: true},
		{name: "WxRefusedAfterTwoHours", ch: "wx", advance: 2 * time.Hour, status: 402,
			errType: "channel_error", errSubstr: "对支付渠道的请求未能成功。来自 wx 渠道的错误信息：商户订单号重复"},
		{name: "WxWapRefusedAfterFiveMinutes", ch: "wx_wap", advance: 5 * time.Minute, status: 402, errType: "channel_error"},
		{name: "WxPubScanNewAfterMinute", ch: "wx_pub_scan", advance: time.Minute, status: 200,
			change: map[string]any{"extra": map[string]any{"scan_code": "1234"}}},
		{name: "OtherChannelIsIndependent", ch: "alipay", change: map[string]any{"channel": "wx"}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			srv := newServer(t, Config{Now: clock.Now})
			first := params(tt.ch, nil)
			if tt.ch == "wx_pub_scan" {
				first["extra"] = map[string]any{"scan_code": "1234"}
			}
			c1 := create(t, srv, first)
			clock.Add(tt.advance)
			second := params(tt.ch, tt.change)
			if tt.ch == "wx_pub_scan" {
				second["extra"] = map[string]any{"scan_code": "1234"}
			}
			status, body := call(t, srv, "POST", "/v1/charges", second)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			wantCreated := int64(2)
			switch {
			case status == 200:
				var c2 Charge
				json.Unmarshal(body, &c2)
				if (c2.ID == c1.ID) != tt.sameID {
					t.Errorf("second id %s, first %s, want same=%v", c2.ID, c1.ID, tt.sameID)
				}
				if tt.sameID {
					wantCreated = 1
				}
			default:
				wantCreated = 1
				e := decodeErr(t, body)
				if e.Type != tt.errType || e.Param != tt.errParam || !strings.Contains(e.Message, tt.errSubstr) {
					t.Errorf("error %+v", e)
				}
				if tt.errType == "channel_error" && e.Code != "channel_request_error" {
					t.Errorf("code %q, want channel_request_error", e.Code)
				}
			}
			if got := srv.Stats().ChargesCreated; got != wantCreated {
				t.Errorf("ChargesCreated = %d, want %d", got, wantCreated)
			}
		})
	}
}

func TestReverseCharge(t *testing.T) {
	srv := newServer(t, Config{})
	isv := func(no string) map[string]any {
		return params("isv_qr", map[string]any{"order_no": no, "extra": map[string]any{"pay_channel": "alipay", "terminal_id": "00000001"}})
	}
	unpaid := create(t, srv, isv("REVERSE01"))
	paid := create(t, srv, isv("REVERSE02"))
	if err := srv.Pay(paid.ID); err != nil {
		t.Fatal(err)
	}
	other := create(t, srv, params("alipay", nil))
	tests := []struct {
		name                     string
		id                       string
		status                   int
		refunded                 bool
		amountRefunded, reversed int64
	}{
		{name: "UnpaidIsClosed", id: unpaid.ID, status: 200, reversed: 1},
		{name: "TwiceAnswersTheSame", id: unpaid.ID, status: 200, reversed: 1},
		{name: "PaidIsRefunded", id: paid.ID, status: 200, reversed: 1, refunded: true, amountRefunded: 100},
		{name: "OtherChannelRefused", id: other.ID, status: 400},
		{name: "Unknown", id: "ch_nope", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, "POST", "/v1/charges/"+tt.id+"/reverse", nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, body)
			}
			if status != 200 {
				return
			}
			c := decodeCharge(t, body)
			if c.Reversed != (tt.reversed == 1) || c.Refunded != tt.refunded || c.AmountRefunded != tt.amountRefunded {
				t.Errorf("reversed %v refunded %v amount_refunded %d", c.Reversed, c.Refunded, c.AmountRefunded)
			}
		})
	}
	if err := srv.Pay(unpaid.ID); !errors.Is(err, ErrReversed) {
		t.Errorf("Pay of a reversed charge: %v, want ErrReversed", err)
	}
}

func TestResponsesAreSigned(t *testing.T) {
	srv := newServer(t, Config{SignResponses: true})
	for _, path := range []string{"/v1/charges?app%5Bid%5D=" + DefaultAppID, "/v1/charges/ch_nope"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := pingxx.Verify(srv.WebhookPublicKey(), body, resp.Header.Get(pingxx.HeaderWebhookSignature)); err != nil {
			t.Errorf("GET %s: response signature: %v", path, err)
		}
	}
	unsigned := newServer(t, Config{})
	resp, err := unsigned.Client().Get(unsigned.URL + "/v1/charges/ch_nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sig := resp.Header.Get(pingxx.HeaderWebhookSignature); sig != "" {
		t.Errorf("response signed without SignResponses: %q", sig)
	}
}

func TestListen(t *testing.T) {
	srv, err := Listen(Config{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.APIBase(), "http://127.0.0.1:") || !strings.HasSuffix(srv.APIBase(), "/v1") {
		t.Errorf("APIBase %q", srv.APIBase())
	}
	create(t, srv, params("wx", nil))
	if _, err := Listen(Config{}, strings.TrimPrefix(srv.URL, "http://")); err == nil {
		t.Error("Listen on a busy address succeeded")
	}
	if _, err := New(Config{MerchantPublicKeyPEM: []byte("not a key")}); err == nil {
		t.Error("New with an unparsable merchant key succeeded")
	}
}

func TestEmptyObjectsAsArrays(t *testing.T) {
	srv := newServer(t, Config{EmptyObjectsAsArrays: true})
	c := create(t, srv, params("upacp", nil)) // no response-only extra keys
	if err := srv.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	_, body := call(t, srv, "GET", "/v1/charges/"+c.ID, nil)
	var got map[string]json.RawMessage
	json.Unmarshal(body, &got)
	for _, k := range []string{"extra", "metadata", "credential"} {
		if string(got[k]) != "[]" {
			t.Errorf("%s = %s, want []", k, got[k])
		}
	}
	var ev struct {
		Data struct {
			Object map[string]json.RawMessage `json:"object"`
		} `json:"data"`
	}
	json.Unmarshal(encodeJSON(srv.Events()[0]), &ev)
	if string(ev.Data.Object["credential"]) != "[]" {
		t.Errorf("event credential %s, want []", ev.Data.Object["credential"])
	}
	if c.Credential[0] != '{' || len(c.Credential) < 10 {
		t.Errorf("a non-empty credential changed: %s", c.Credential)
	}
}

func TestExpandApp(t *testing.T) {
	srv := newServer(t, Config{})
	c := create(t, srv, params("alipay", nil))
	wantApp := `{"id":"` + DefaultAppID + `","object":"app","livemode":false,"name":"` + DefaultAppID + `"}`
	for _, path := range []string{
		"/v1/charges/" + c.ID + "?expand%5B%5D=app",
		"/v1/charges?app%5Bid%5D=" + DefaultAppID + "&expand[]=app",
	} {
		_, body := call(t, srv, "GET", path, nil)
		if !strings.Contains(string(body), `"reversed":false,"app":`+wantApp+`,"channel":"alipay"`) {
			t.Errorf("GET %s: app not expanded in place: %.300s", path, body)
		}
	}
	_, body := call(t, srv, "GET", "/v1/charges/"+c.ID, nil)
	if !strings.Contains(string(body), `"app":"`+DefaultAppID+`"`) {
		t.Errorf("app expanded without expand[]: %.300s", body)
	}
}

func TestChargeKeyOrderMatchesEverySample(t *testing.T) {
	srv := newServer(t, Config{})
	tests := []struct {
		sample, channel string
		reversed        bool // "reversed" was added in 2017; older samples lack it
	}{
		{"S1.json", "alipay_wap", false},
		{"S2.json", "wx", true},
		{"S6.json", "upacp", false},
	}
	for i, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			sample := readTestdata(t, tt.sample)
			var s Charge
			if err := json.Unmarshal(sample, &s); err != nil {
				t.Fatalf("the sample does not decode into Charge: %v", err)
			}
			_, body := call(t, srv, "POST", "/v1/charges", params(tt.channel, map[string]any{"order_no": fmt.Sprintf("ORDER%08d", i)}))
			got := keyOrder(t, body)
			if !tt.reversed {
				got = slices.DeleteFunc(got, func(k string) bool { return k == "reversed" })
			}
			if diff := cmp.Diff(keyOrder(t, sample), got); diff != "" {
				t.Errorf("key order (-sample +emulator):\n%s", diff)
			}
			var c, sc struct {
				Credential map[string]json.RawMessage `json:"credential"`
			}
			json.Unmarshal(body, &c)
			json.Unmarshal(sample, &sc)
			inner := c.Credential[tt.channel]
			if inner[0] != '{' {
				return
			}
			if diff := cmp.Diff(keyOrder(t, sc.Credential[tt.channel]), keyOrder(t, inner)); diff != "" {
				t.Errorf("credential key order (-sample +emulator):\n%s", diff)
			}
		})
	}
}

func TestPaidChargesShowResponseOnlyExtra(t *testing.T) {
	srv := newServer(t, Config{})
	for _, tt := range []struct {
		channel string
		keys    []string
	}{
		{"wx", []string{"open_id", "bank_type"}},
		{"wx_pub", []string{"open_id", "bank_type"}},
		{"alipay", []string{"buyer_account"}},
		{"alipay_wap", []string{"success_url", "buyer_account"}},
		{"upacp", nil},
	} {
		t.Run(tt.channel, func(t *testing.T) {
			c := create(t, srv, params(tt.channel, map[string]any{"order_no": "x" + tt.channel[:2] + "20261201"}))
			if err := srv.Pay(c.ID); err != nil {
				t.Fatal(err)
			}
			got, _ := srv.Charge(c.ID)
			var extra map[string]any
			if err := json.Unmarshal(got.Extra, &extra); err != nil {
				t.Fatal(err)
			}
			for _, k := range tt.keys {
				if s, _ := extra[k].(string); s == "" {
					t.Errorf("extra %s lacks %s", got.Extra, k)
				}
			}
			if len(extra) != len(tt.keys) {
				t.Errorf("extra %s, want exactly %v", got.Extra, tt.keys)
			}
		})
	}
	c := create(t, srv, params("wx", map[string]any{"order_no": "wxtest2026120102"}))
	srv.Pay(c.ID)
	got, _ := srv.Charge(c.ID)
	var extra map[string]string
	json.Unmarshal(got.Extra, &extra)
	if extra["bank_type"] != "your bank type" {
		t.Errorf("test-mode bank_type %q, want Ping++'s test value \"your bank type\"", extra["bank_type"])
	}
}
