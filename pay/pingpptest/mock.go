package pingpptest

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yianpay/payorder/channel"
)

// The test payment page. Ping++'s browser SDK (pingpp-js, src/testmode.js)
// pays a test-mode charge by sending the browser to
// https://sissi.pingxx.com/mock.php?ch_id=…&scheme=http&channel=…&order_no=…&time_expire=…&extra=…
// (API.md §4.3), a page where the tester chooses the outcome. The emulator
// serves that page at /mock.php: point sissi.pingxx.com at it (a hosts
// entry, or Chromium's --host-resolver-rules) behind TLS, or open it on
// the emulator's own address.
//
// The page shows the charge as the emulator holds it (the query's order_no,
// time_expire and extra are only what the SDK copied from it) and offers
// three buttons, posted back to /mock.php:
//   - 付款 (pay) pays the charge exactly as the notify route does (a
//     charge.succeeded webhook follows), then sends the browser to the
//     charge's extra.success_url (or result_url) when it has one, as the
//     web channels return to the merchant;
//   - 支付失败 (fail) fails the charge (FailCharge) and returns to
//     extra.fail_url when the channel has one;
//   - 取消 (cancel) changes nothing and returns to extra.cancel_url when
//     there is one.
//
// Unknown, live-mode, paid, failed, closed and expired charges get a page
// that says so. What the original page looks like beyond this is not
// documented; the emulator's is its own, in Chinese like the original.

// mockActions are the buttons of the page.
const (
	mockPay    = "pay"
	mockFail   = "fail"
	mockCancel = "cancel"
)

// mockPage is what the page template shows.
type mockPage struct {
	Title   string
	Message string
	Charge  *mockCharge // the charge, for the payment form and result pages
	Form    bool        // show the buttons
	Link    string      // a way back to the merchant, if any
}

// mockCharge is a charge as the page shows it.
type mockCharge struct {
	ID, Amount, Subject, Body, Channel, ChannelName, OrderNo, Expires string
}

const mockTemplate = `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - Ping++ 测试模式</title>
<style>
body{font-family:"PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei",sans-serif;background:#f2f4f7;margin:0;color:#222}
header{background:#1f69e0;color:#fff;padding:14px 20px;font-size:18px}
header small{opacity:.8;margin-left:8px;font-size:13px}
main{max-width:480px;margin:24px auto;background:#fff;border-radius:8px;padding:20px 24px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
h1{font-size:20px;margin:0 0 12px}
.amount{font-size:34px;color:#e4393c;margin:8px 0 16px}
table{width:100%;border-collapse:collapse;font-size:14px}
th{text-align:left;color:#888;font-weight:normal;padding:6px 0;width:6em;vertical-align:top}
td{padding:6px 0;word-break:break-all}
.note{font-size:13px;color:#888;margin:16px 0 0}
form{display:flex;gap:10px;margin-top:20px}
button{flex:1;font-size:16px;padding:11px 0;border-radius:6px;border:1px solid #ccc;background:#fff;cursor:pointer}
button#pay{background:#1f69e0;border-color:#1f69e0;color:#fff}
button#fail{color:#e4393c;border-color:#e4393c}
a.back{display:block;margin-top:18px;text-align:center}
</style>
</head>
<body>
<header>Ping++ 模拟支付<small>测试模式 · 不会产生真实交易</small></header>
<main>
<h1 id="title">{{.Title}}</h1>
{{with .Message}}<p id="message">{{.}}</p>{{end}}
{{with .Charge}}
<div class="amount" id="amount">¥{{.Amount}}</div>
<table>
<tr><th>商品</th><td id="subject">{{.Subject}}</td></tr>
<tr><th>描述</th><td>{{.Body}}</td></tr>
<tr><th>支付渠道</th><td id="channel">{{.ChannelName}}（{{.Channel}}）</td></tr>
<tr><th>订单号</th><td id="order_no">{{.OrderNo}}</td></tr>
<tr><th>过期时间</th><td id="time_expire">{{.Expires}}</td></tr>
<tr><th>Charge</th><td>{{.ID}}</td></tr>
</table>
{{end}}
{{if .Form}}
<form method="post" action="/mock.php">
<input type="hidden" name="ch_id" value="{{.Charge.ID}}">
<button id="pay" name="action" value="pay" type="submit">付款</button>
<button id="fail" name="action" value="fail" type="submit">支付失败</button>
<button id="cancel" name="action" value="cancel" type="submit">取消</button>
</form>
<p class="note">付款后 Ping++ 会向商户发送 charge.succeeded Webhooks 通知。</p>
{{end}}
{{with .Link}}<a class="back" id="back" href="{{.}}">返回商户</a>{{end}}
</main>
</body>
</html>
`

// parseMockTemplate parses the page; New calls it once.
func parseMockTemplate() (*template.Template, error) {
	return template.New("mock.php").Parse(mockTemplate)
}

// mock serves GET and POST /mock.php.
func (e *Emulator) mock(w http.ResponseWriter, r *http.Request, req *request) error {
	q := r.URL.Query()
	action := ""
	if r.Method == http.MethodPost {
		form, err := url.ParseQuery(string(req.body))
		if err != nil {
			e.renderMock(w, http.StatusBadRequest, mockPage{Title: "请求无效", Message: "无法读取提交的表单。"})
			return nil
		}
		q, action = form, form.Get("action")
	} else if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		e.renderMock(w, http.StatusMethodNotAllowed, mockPage{Title: "请求无效", Message: "只支持 GET 和 POST。"})
		return nil
	}
	id := q.Get("ch_id")
	e.mu.Lock()
	c, ok := e.charges[id]
	var snapshot Charge
	if ok {
		snapshot = c.clone()
	}
	e.mu.Unlock()
	if !ok {
		e.renderMock(w, http.StatusNotFound, mockPage{Title: "未找到支付",
			Message: "没有 id 为 “" + id + "” 的 charge。请确认 ch_id 参数来自本模拟器创建的测试 charge。"})
		return nil
	}
	if snapshot.Livemode {
		e.renderMock(w, http.StatusBadRequest, mockPage{Title: "不能模拟支付", Charge: e.mockCharge(&snapshot),
			Message: "这是一笔真实（livemode）交易，测试支付页面只能支付测试模式的 charge。"})
		return nil
	}
	switch action {
	case "":
		if err := e.payableState(id); err != nil {
			e.renderState(w, &snapshot, err)
			return nil
		}
		e.renderMock(w, http.StatusOK, mockPage{Title: "确认支付", Charge: e.mockCharge(&snapshot), Form: true})
	case mockPay:
		if err := e.Pay(id); err != nil {
			e.renderState(w, &snapshot, err)
			return nil
		}
		e.finishMock(w, r, &snapshot, returnURL(snapshot.Extra, "success_url", "result_url"),
			mockPage{Title: "支付成功", Message: "测试 charge 已支付，Webhooks 通知已发出。"})
	case mockFail:
		if err := e.FailCharge(id, "", ""); err != nil {
			e.renderState(w, &snapshot, err)
			return nil
		}
		e.finishMock(w, r, &snapshot, returnURL(snapshot.Extra, "fail_url"),
			mockPage{Title: "支付失败", Message: "已模拟支付失败：这笔 charge 不能再支付，Ping++ 不会为失败的支付发送 Webhooks。"})
	case mockCancel:
		e.finishMock(w, r, &snapshot, returnURL(snapshot.Extra, "cancel_url"),
			mockPage{Title: "已取消支付", Message: "支付已取消，charge 仍未支付，可以重新发起支付。"})
	default:
		e.renderMock(w, http.StatusBadRequest, mockPage{Title: "请求无效", Message: "未知的操作 “" + action + "”。"})
	}
	return nil
}

// payableState is why the charge id cannot be paid now, or nil.
func (e *Emulator) payableState(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err := e.payable(id)
	return err
}

// renderState answers the page for a charge that cannot be paid.
func (e *Emulator) renderState(w http.ResponseWriter, c *Charge, err error) {
	p := mockPage{Charge: e.mockCharge(c)}
	status := http.StatusConflict
	switch {
	case errors.Is(err, ErrAlreadyPaid):
		p.Title, p.Message, status = "订单已支付", "这笔 charge 已经支付过了，不会重复扣款。", http.StatusOK
		p.Link = returnURL(c.Extra, "success_url", "result_url")
	case errors.Is(err, ErrExpired):
		p.Title, p.Message, status = "订单已过期", "这笔 charge 已于 "+chinaTime(time.Unix(c.TimeExpire, 0))+" 过期，不能再支付。请重新创建 charge。", http.StatusGone
	case errors.Is(err, ErrChargeFailed):
		p.Title, p.Message = "支付已失败", "这笔 charge 已被标记为支付失败，不能再支付。"
	case errors.Is(err, ErrReversed):
		p.Title, p.Message = "订单已关闭", "这笔 charge 已撤销，不能再支付。"
	default:
		p.Title, p.Message, status = "不能支付", err.Error(), http.StatusBadRequest
	}
	e.renderMock(w, status, p)
}

// finishMock returns the browser to the merchant at back, or shows page.
func (e *Emulator) finishMock(w http.ResponseWriter, r *http.Request, c *Charge, back string, page mockPage) {
	if back != "" {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	if now, ok := e.Charge(c.ID); ok {
		c = &now
	}
	page.Charge = e.mockCharge(c)
	e.renderMock(w, http.StatusOK, page)
}

// returnURL is the first of the charge's extra keys holding an http or https
// URL: where a web channel sends the buyer back.
func returnURL(extra []byte, keys ...string) string {
	var m map[string]any
	if json.Unmarshal(extra, &m) != nil {
		return ""
	}
	for _, k := range keys {
		s, _ := m[k].(string)
		if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			return s
		}
	}
	return ""
}

func (e *Emulator) mockCharge(c *Charge) *mockCharge {
	amount := yuan(c.Amount)
	if c.Currency != "" && c.Currency != "cny" {
		amount += " " + strings.ToUpper(c.Currency)
	}
	return &mockCharge{
		ID: c.ID, Amount: amount, Subject: c.Subject, Body: c.Body, Channel: c.Channel,
		ChannelName: channelName(channel.Channel(c.Channel)), OrderNo: c.OrderNo,
		Expires: chinaTime(time.Unix(c.TimeExpire, 0)),
	}
}

func (e *Emulator) renderMock(w http.ResponseWriter, status int, p mockPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	e.mockTmpl.Execute(w, p)
}

// channelName is a channel's name as Ping++'s documentation gives it.
func channelName(ch channel.Channel) string {
	switch ch {
	case channel.Alipay:
		return "支付宝 App 支付"
	case channel.AlipayWap:
		return "支付宝手机网站支付"
	case channel.AlipayPCDirect:
		return "支付宝电脑网站支付"
	case channel.AlipayQR:
		return "支付宝当面付扫码"
	case channel.Wx:
		return "微信 App 支付"
	case channel.WxPub:
		return "微信公众号支付"
	case channel.WxPubQR:
		return "微信扫码支付"
	case channel.WxWap:
		return "微信 H5 支付"
	case channel.WxLite:
		return "微信小程序支付"
	case channel.Upacp:
		return "银联 App 支付"
	case channel.UpacpWap:
		return "银联手机网页支付"
	case channel.UpacpPC:
		return "银联网关支付"
	}
	switch {
	case ch.IsAlipay():
		return "支付宝"
	case ch.IsWeChat():
		return "微信支付"
	}
	return string(ch)
}
