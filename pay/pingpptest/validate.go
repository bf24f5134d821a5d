package pingpptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/yianpay/payorder/channel"
)

// Limits of API.md §2.1.
const (
	maxSubject        = 32
	maxBody           = 128
	maxBodyYeepayWap  = 100
	maxDescription    = 255
	maxMetadataKeys   = 10
	maxMetadataLength = 1000
)

// chargeParams is a validated create-charge request.
type chargeParams struct {
	orderNo, app, currency, clientIP, subject, body string
	channel                                         channel.Channel
	amount                                          int64
	extra                                           json.RawMessage // compact, {} when absent
	extraMap                                        map[string]any
	metadata                                        json.RawMessage // compact, {} when absent
	timeExpire                                      int64           // 0 when absent
	description                                     *string
}

// fields is a decoded JSON object whose members are decoded one by one, so
// that each error names its parameter.
type fields map[string]json.RawMessage

// present reports whether name is there and not null.
func (f fields) present(name string) bool {
	v, ok := f[name]
	return ok && string(v) != "null"
}

// str decodes a string member; absent or null gives "".
func (f fields) str(name string) (string, error) {
	if !f.present(name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(f[name], &s); err != nil {
		return "", invalidParam(name, "参数 "+name+" 必须是字符串。")
	}
	return s, nil
}

// required decodes a string member that must be present and non-empty.
func (f fields) required(name string) (string, error) {
	s, err := f.str(name)
	if err == nil && s == "" {
		err = missing(name)
	}
	return s, err
}

// integer decodes an integer member; ok is false when it is absent or null.
func (f fields) integer(name string) (n int64, ok bool, err error) {
	if !f.present(name) {
		return 0, false, nil
	}
	var num json.Number
	if raw := bytes.TrimSpace(f[name]); raw[0] != '"' && json.Unmarshal(raw, &num) == nil {
		if n, err := strconv.ParseInt(num.String(), 10, 64); err == nil {
			return n, true, nil
		}
	}
	return 0, false, invalidParam(name, "参数 "+name+" 必须是整数。")
}

// object returns a member that must be a JSON object, compacted, or "{}"
// when it is absent, null or [] (PHP's empty object).
func (f fields) object(name string) (json.RawMessage, error) {
	raw := bytes.TrimSpace(f[name])
	if !f.present(name) || string(raw) == "[]" {
		return json.RawMessage("{}"), nil
	}
	if raw[0] != '{' {
		return nil, invalidParam(name, "参数 "+name+" 必须是 JSON 对象。")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, invalidParam(name, "参数 "+name+" 必须是 JSON 对象。")
	}
	return buf.Bytes(), nil
}

func missing(name string) error {
	return invalidParam(name, "缺少参数 "+name+"。")
}

// decodeObject parses a request body that must be a JSON object.
func decodeObject(body []byte) (fields, error) {
	var f fields
	if err := json.Unmarshal(body, &f); err != nil || f == nil {
		return nil, invalidParam("", "请求体解析失败: 不是一个合法的 json 格式字符串")
	}
	return f, nil
}

// parseCharge validates a create-charge body against API.md §2.1, §2.2 and
// §3 as of now. Errors are *apiError values naming the parameter.
func (e *Emulator) parseCharge(body []byte, now time.Time) (*chargeParams, error) {
	f, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	p := &chargeParams{}
	for _, s := range []struct {
		name string
		dst  *string
	}{
		{"order_no", &p.orderNo}, {"channel", (*string)(&p.channel)}, {"currency", &p.currency},
		{"client_ip", &p.clientIP}, {"subject", &p.subject}, {"body", &p.body},
	} {
		if *s.dst, err = f.required(s.name); err != nil {
			return nil, err
		}
	}
	if p.app, err = appID(f); err != nil {
		return nil, err
	}
	if !e.apps[p.app] {
		return nil, e.unknownApp("app", p.app)
	}
	if !f.present("amount") {
		return nil, missing("amount")
	}
	if p.amount, _, err = f.integer("amount"); err != nil || p.amount <= 0 {
		return nil, invalidParam("amount", "参数 amount 必须是大于 0 的整数（单位：分）。")
	}
	ch := p.channel
	if !ch.Known() {
		return nil, invalidParam("channel", "无效的支付渠道: "+string(ch)+"。")
	}
	if err := checkText(p, ch); err != nil {
		return nil, err
	}
	if p.description, err = description(f); err != nil {
		return nil, err
	}
	if p.timeExpire, err = timeExpire(f, ch, now); err != nil {
		return nil, err
	}
	if p.metadata, err = metadata(f); err != nil {
		return nil, err
	}
	if p.extra, p.extraMap, err = extra(f, ch); err != nil {
		return nil, err
	}
	return p, nil
}

// appID reads app as {"id": "app_…"} (what the SDKs send) or as a string.
func appID(f fields) (string, error) {
	if !f.present("app") {
		return "", missing("app")
	}
	var s string
	if json.Unmarshal(f["app"], &s) == nil && s != "" {
		return s, nil
	}
	var obj struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(f["app"], &obj); err != nil {
		return "", invalidParam("app", "参数 app 格式错误，应为 {\"id\": \"app_…\"}。")
	}
	if obj.ID == "" {
		return "", missing("app[id]")
	}
	return obj.ID, nil
}

// checkText checks currency, client_ip, order_no, subject and body.
func checkText(p *chargeParams, ch channel.Channel) error {
	if !isCurrency(p.currency) {
		return invalidParam("currency", "参数 currency 必须是 3 位小写字母的货币代码，如 cny。")
	}
	if ch == channel.IsvLite && p.currency != "cny" && p.currency != "hkd" {
		return invalidParam("currency", "渠道 isv_lite 只支持 cny 和 hkd。")
	}
	if net.ParseIP(p.clientIP) == nil {
		return invalidParam("client_ip", "参数 client_ip 不是合法的 IP 地址。")
	}
	if ch.ValidateOrderNo(p.orderNo) != nil {
		lo, hi := ch.OrderNoLength()
		return invalidParam("order_no", fmt.Sprintf("渠道 %s 的 order_no 必须是 %d 到 %d 位的字母或数字。", ch, lo, hi))
	}
	if ch.IsUnionPay() {
		if len(p.subject) > maxSubject {
			return invalidParam("subject", fmt.Sprintf("参数 subject 不能超过 %d 个字节。", maxSubject))
		}
	} else if utf8.RuneCountInString(p.subject) > maxSubject {
		return invalidParam("subject", fmt.Sprintf("参数 subject 不能超过 %d 个字符。", maxSubject))
	}
	limit := maxBody
	if ch == channel.YeepayWap {
		limit = maxBodyYeepayWap
	}
	if utf8.RuneCountInString(p.body) > limit {
		return invalidParam("body", fmt.Sprintf("参数 body 不能超过 %d 个字符。", limit))
	}
	return nil
}

func isCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

func description(f fields) (*string, error) {
	if !f.present("description") {
		return nil, nil
	}
	d, err := f.str("description")
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(d) > maxDescription {
		return nil, invalidParam("description", fmt.Sprintf("参数 description 不能超过 %d 个字符。", maxDescription))
	}
	return &d, nil
}

// timeExpire checks the documented range: at least channel.MinExpiry from
// now, at most the channel's MaxExpiry from creation (now).
func timeExpire(f fields, ch channel.Channel, now time.Time) (int64, error) {
	t, ok, err := f.integer("time_expire")
	if err != nil || !ok {
		return 0, err
	}
	if t < now.Add(channel.MinExpiry).Unix() {
		return 0, invalidParam("time_expire", "参数 time_expire 必须晚于当前时间至少 1 分钟。")
	}
	if max := now.Add(ch.MaxExpiry()); t > max.Unix() {
		return 0, invalidParam("time_expire", fmt.Sprintf("参数 time_expire 超出渠道 %s 允许的最长有效期 %s。", ch, ch.MaxExpiry()))
	}
	return t, nil
}

// metadata checks the documented limits: at most 10 keys, at most 1000
// characters of keys and values together, no nested objects or lists.
func metadata(f fields) (json.RawMessage, error) {
	raw, err := f.object("metadata")
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, invalidParam("metadata", "参数 metadata 必须是 JSON 对象。")
	}
	if len(m) > maxMetadataKeys {
		return nil, invalidParam("metadata", fmt.Sprintf("参数 metadata 最多包含 %d 个键值对。", maxMetadataKeys))
	}
	total := 0
	for k, v := range m {
		if len(v) > 0 && (v[0] == '{' || v[0] == '[') {
			return nil, invalidParam("metadata", "参数 metadata 不支持嵌套，键 "+k+" 的值必须是字符串或数字。")
		}
		total += utf8.RuneCountInString(k)
		var s string
		if json.Unmarshal(v, &s) == nil {
			total += utf8.RuneCountInString(s)
		} else {
			total += utf8.RuneCount(v)
		}
	}
	if total > maxMetadataLength {
		return nil, invalidParam("metadata", fmt.Sprintf("参数 metadata 的总长度不能超过 %d 个字符。", maxMetadataLength))
	}
	return raw, nil
}

// extra checks the channel's extra table (channel.ValidateExtra) and names
// the offending key in param as extra[key].
func extra(f fields, ch channel.Channel) (json.RawMessage, map[string]any, error) {
	raw, err := f.object("extra")
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, nil, invalidParam("extra", "参数 extra 必须是 JSON 对象。")
	}
	if ch.ValidateExtra(m) == nil {
		return raw, m, nil
	}
	for _, p := range ch.Params() {
		v, ok := m[p.Key]
		name := "extra[" + p.Key + "]"
		if !ok || v == nil || v == "" {
			if p.Required {
				return nil, nil, invalidParam(name, fmt.Sprintf("渠道 %s 缺少参数 %s。", ch, name))
			}
			continue
		}
		if p.Check != nil && p.Check(v) != nil {
			return nil, nil, invalidParam(name, fmt.Sprintf("渠道 %s 的参数 %s 格式错误。", ch, name))
		}
	}
	return nil, nil, invalidParam("extra", fmt.Sprintf("渠道 %s 的参数 extra 无效。", ch))
}
