package pingpptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/yianpay/payorder/channel"
)

// Fake merchant numbers that appear in credentials.
const (
	alipayPartner = "2088021773101301"
	wxAppID       = "wxp4ihq5y1sytowvjl"
	wxPartnerID   = "1238560201"
	upacpMerID    = "777290058110048"
)

// chinaTime is Ping++'s and the channels' local time, UTC+8.
func chinaTime(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*3600)).Format(time.DateTime)
}

// yuan formats fen as yuan with two decimals ("0.01").
func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// credential builds a plausible credential for a new charge (API.md §4.2):
// {"object":"credential","<channel>": value}. notifyURL is where the
// channel would report payment: the emulator's own notify route.
func credential(c *Charge, extra map[string]any, notifyURL string) []byte {
	return encodeJSON(ordered{{"object", "credential"}, {c.Channel, credentialValue(c, extra, notifyURL)}})
}

func credentialValue(c *Charge, extra map[string]any, notifyURL string) any {
	expire := time.Unix(c.TimeExpire, 0)
	ch := channel.Channel(c.Channel)
	mock := "https://sissi.pingxx.com/mock.php?ch_id=" + c.ID + "&channel=" + c.Channel
	switch ch {
	case channel.Alipay:
		return ordered{{"orderInfo", alipayOrderInfo(c, expire, notifyURL)}}
	case channel.AlipayWap, channel.AlipayPCDirect:
		service, gateway := "alipay.wap.create.direct.pay.by.user", "https://mapi.alipay.com/gateway.do"
		if ch == channel.AlipayPCDirect {
			service = "create_direct_pay_by_user"
		}
		form := ordered{
			{"channel_url", gateway}, {"_input_charset", "utf-8"}, {"body", c.Body},
			{"it_b_pay", chinaTime(expire)}, {"notify_url", url.QueryEscape(notifyURL)},
			{"out_trade_no", c.OrderNo}, {"partner", alipayPartner}, {"payment_type", "1"},
			{"return_url", url.QueryEscape(fmt.Sprint(extra["success_url"]))},
			{"seller_id", alipayPartner}, {"service", service}, {"subject", c.Subject},
			{"total_fee", yuan(c.Amount)},
		}
		if extra["app_pay"] == true {
			form = append(form, kv{"app_pay", "Y"})
		}
		return append(form, kv{"sign", randString(base62, 172)}, kv{"sign_type", "RSA"})
	case channel.AlipayQR:
		return "https://qr.alipay.com/" + strings.ToLower(randString(base62, 22))
	case channel.Wx:
		return ordered{
			{"appId", wxAppID}, {"partnerId", wxPartnerID}, {"prepayId", "1101000000" + randString(digits, 6) + strings.ToLower(randString(base62, 16))},
			{"nonceStr", randString(hexLow, 32)}, {"timeStamp", c.Created},
			{"packageValue", "Sign=WXPay"}, {"sign", randString(hexUp, 32)},
		}
	case channel.WxPub, channel.WxLite:
		return ordered{
			{"appId", wxAppID}, {"timeStamp", fmt.Sprint(c.Created)}, {"nonceStr", randString(hexLow, 32)},
			{"package", "prepay_id=wx" + randString(digits, 14) + randString(hexLow, 16)},
			{"signType", "MD5"}, {"paySign", randString(hexUp, 32)},
		}
	case channel.WxPubQR:
		return "weixin://wxpay/bizpayurl?pr=" + randString(base62, 7)
	case channel.WxWap:
		return mock
	case channel.Upacp:
		return ordered{{"tn", randString(digits, 21)}, {"mode", "01"}}
	case channel.ApplepayUpacp:
		return ordered{{"tn", randString(digits, 21)}, {"mode", "01"}, {"merchant_id", upacpMerID}}
	case channel.UpacpWap, channel.UpacpPC:
		return ordered{
			{"channel_url", "https://gateway.95516.com/gateway/api/frontTransReq.do"},
			{"version", "5.0.0"}, {"encoding", "UTF-8"}, {"txnType", "01"}, {"txnSubType", "01"},
			{"bizType", "000201"}, {"channelType", "08"}, {"merId", upacpMerID},
			{"frontUrl", fmt.Sprint(extra["result_url"])}, {"backUrl", notifyURL},
			{"orderId", c.OrderNo}, {"txnTime", time.Unix(c.Created, 0).In(time.FixedZone("CST", 8*3600)).Format("20060102150405")},
			{"txnAmt", fmt.Sprint(c.Amount)}, {"currencyCode", "156"}, {"signMethod", "01"},
			{"signature", randString(base62, 172)},
		}
	}
	return ordered{{"url", mock}, {"order_no", c.OrderNo}, {"amount", c.Amount}}
}

// alipayOrderInfo is the mapi order string of the alipay channel, in the
// form of the seed's charge: key="value" pairs joined by &.
func alipayOrderInfo(c *Charge, expire time.Time, notifyURL string) string {
	pairs := [][2]string{
		{"service", "mobile.securitypay.pay"}, {"_input_charset", "utf-8"},
		{"notify_url", url.QueryEscape(notifyURL)}, {"partner", alipayPartner},
		{"out_trade_no", c.OrderNo}, {"subject", c.Subject}, {"body", c.Body},
		{"total_fee", yuan(c.Amount)}, {"payment_type", "1"}, {"seller_id", alipayPartner},
		{"it_b_pay", chinaTime(expire)}, {"sign", url.QueryEscape(randString(base62, 172))},
		{"sign_type", "RSA"},
	}
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "%s=\"%s\"", p[0], p[1])
	}
	return b.String()
}

// paidExtra is the extra of c once paid: the request's keys followed by the
// channel's response-only keys that the request did not send (API.md §3:
// open_id and bank_type for WeChat, buyer_account for Alipay). The values
// are plausible fakes; a test-mode WeChat bank_type is the literal "your
// bank type" that Ping++'s own 2024 test-mode webhook sample carries.
func paidExtra(c *Charge) json.RawMessage {
	ch := channel.Channel(c.Channel)
	var add ordered
	switch {
	case ch == channel.Wx || ch == channel.WxPubQR || ch == channel.WxLite || ch == channel.WxPub:
		add = ordered{{"open_id", "o" + randString(base62, 27)}}
		fallthrough
	case ch.IsWeChat():
		bank := "CFT"
		if !c.Livemode {
			bank = "your bank type"
		}
		add = append(add, kv{"bank_type", bank})
	case ch.IsAlipay():
		add = ordered{{"buyer_account", "1" + randString(digits, 2) + "****" + randString(digits, 4)}}
	}
	var have map[string]json.RawMessage
	json.Unmarshal(c.Extra, &have)
	// A copy: c.Extra may be shared with copies of the charge taken before.
	out := bytes.Clone(bytes.TrimSuffix(bytes.TrimSpace(c.Extra), []byte("}")))
	for _, m := range add {
		if _, ok := have[m.k]; ok {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(out, encodeJSON(m.k)...), ':'), encodeJSON(m.v)...)
	}
	return append(out, '}')
}
