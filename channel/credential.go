package channel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Credential is the typed payment credential of a charge: what the mobile or
// web client hands to Alipay, WeChat or UnionPay to pay. DecodeCredential
// returns one of the types below, or *RawCredential for channels without one.
type Credential interface {
	// Channel is the channel the credential is for.
	Channel() Channel
}

// AlipayCredential is the credential of the alipay channel: the signed order
// string passed to the Alipay App SDK.
type AlipayCredential struct {
	OrderInfo string `json:"orderInfo"`
}

// FormCredential is a credential made of form fields that the client posts to
// a channel's gateway: alipay_wap and alipay_pc_direct (ChannelURL is the
// gateway), upacp_wap and upacp_pc. Every value is kept as text, since Ping++
// sends some of them (payment_type) as a number or a string.
type FormCredential struct {
	channel    Channel
	ChannelURL string
	Fields     map[string]string
}

// URLCredential is a credential that is a single URL or code: alipay_qr
// (https://qr.alipay.com/...), wx_pub_qr (weixin://wxpay/bizpayurl?...), wx_wap.
type URLCredential struct {
	channel Channel
	URL     string
}

// WxCredential is the credential of the wx channel: the parameters of the
// WeChat App SDK's PayReq. TimeStamp is text whether Ping++ sent a number or
// a string.
type WxCredential struct {
	AppID        string `json:"appId"`
	PartnerID    string `json:"partnerId"`
	PrepayID     string `json:"prepayId"`
	NonceStr     string `json:"nonceStr"`
	TimeStamp    Text   `json:"timeStamp"`
	PackageValue string `json:"packageValue"`
	Sign         string `json:"sign"`
}

// WxPubCredential is the credential of wx_pub and wx_lite: the parameters of
// WeixinJSBridge's getBrandWCPayRequest (and wx.requestPayment).
type WxPubCredential struct {
	channel   Channel
	AppID     string `json:"appId"`
	TimeStamp Text   `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// UpacpCredential is the credential of upacp and applepay_upacp: the UnionPay
// transaction number for the UnionPay SDK.
type UpacpCredential struct {
	channel    Channel
	TN         string `json:"tn"`
	Mode       string `json:"mode"`
	MerchantID string `json:"merchant_id,omitempty"`
}

// RawCredential is the credential of a channel without a typed form.
type RawCredential struct {
	channel Channel
	JSON    json.RawMessage
}

// Channel implements Credential.
func (AlipayCredential) Channel() Channel { return Alipay }

// Channel implements Credential.
func (c FormCredential) Channel() Channel { return c.channel }

// Channel implements Credential.
func (c URLCredential) Channel() Channel { return c.channel }

// Channel implements Credential.
func (WxCredential) Channel() Channel { return Wx }

// Channel implements Credential.
func (c WxPubCredential) Channel() Channel { return c.channel }

// Channel implements Credential.
func (c UpacpCredential) Channel() Channel { return c.channel }

// Channel implements Credential.
func (c RawCredential) Channel() Channel { return c.channel }

// Text is a JSON value that Ping++ sends as a string or as a number; it
// decodes both into their text and encodes as a string.
type Text string

// UnmarshalJSON accepts a JSON string, number, boolean or null.
func (t *Text) UnmarshalJSON(b []byte) error {
	s, err := jsonText(b)
	*t = Text(s)
	return err
}

// jsonText returns the text of a scalar JSON value: a string's content, a
// number's or boolean's literal, "" for null.
func jsonText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "", fmt.Errorf("channel: empty value")
	case b[0] == '"':
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	case string(b) == "null":
		return "", nil
	case b[0] == '{' || b[0] == '[':
		return "", fmt.Errorf("channel: expected a string or number, got %.20s", b)
	}
	return string(b), nil
}

// DecodeCredential decodes the credential object of a charge on channel ch,
// `{"object":"credential","<channel>": ...}`, into its typed form. An empty
// credential (`{}`, `[]` or null, as in a paid charge) gives nil and no error.
func DecodeCredential(ch Channel, data []byte) (Credential, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" || string(data) == "[]" {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("channel: credential: %w", err)
	}
	raw, ok := obj[string(ch)]
	if !ok {
		if len(obj) == 0 || len(obj) == 1 && obj["object"] != nil {
			return nil, nil
		}
		return nil, fmt.Errorf("channel: credential has no %q entry", ch)
	}
	cred, err := decodeValue(ch, raw)
	if err != nil {
		return nil, fmt.Errorf("channel: %s credential: %w", ch, err)
	}
	return cred, nil
}

func decodeValue(ch Channel, raw json.RawMessage) (Credential, error) {
	switch ch {
	case Alipay:
		var c AlipayCredential
		return c, json.Unmarshal(raw, &c)
	case Wx:
		var c WxCredential
		return c, json.Unmarshal(raw, &c)
	case WxPub, WxLite:
		c := WxPubCredential{channel: ch}
		err := json.Unmarshal(raw, &c)
		return c, err
	case Upacp, ApplepayUpacp:
		c := UpacpCredential{channel: ch}
		err := json.Unmarshal(raw, &c)
		return c, err
	case AlipayQR, WxPubQR, WxWap:
		c := URLCredential{channel: ch}
		err := json.Unmarshal(raw, &c.URL)
		return c, err
	case AlipayWap, AlipayPCDirect, UpacpWap, UpacpPC:
		return decodeForm(ch, raw)
	}
	return RawCredential{channel: ch, JSON: append(json.RawMessage(nil), raw...)}, nil
}

func decodeForm(ch Channel, raw json.RawMessage) (Credential, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	c := FormCredential{channel: ch, Fields: make(map[string]string, len(fields))}
	for k, v := range fields {
		s, err := jsonText(v)
		if err != nil {
			// Nested values (openapi biz_content arrives as a string) stay as JSON text.
			s = string(v)
		}
		if k == "channel_url" {
			c.ChannelURL = s
			continue
		}
		c.Fields[k] = s
	}
	return c, nil
}

// Int returns t as an int64, for numeric values such as a WeChat timeStamp.
func (t Text) Int() (int64, error) { return strconv.ParseInt(string(t), 10, 64) }
