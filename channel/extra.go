package channel

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Param describes one key of a channel's extra object.
type Param struct {
	Key      string
	Required bool
	// Check validates the value; nil accepts anything.
	Check func(v any) error
}

// The kinds of value a key may hold. Values arrive as decoded JSON (string,
// bool, float64, json.Number, []any, map[string]any) or as form strings, so
// every check accepts the textual form too.

func absoluteURL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("must be a string URL")
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("must be an absolute http or https URL")
	}
	return nil
}

func text(minLen, maxLen int) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be a string")
		}
		if n := utf8.RuneCountInString(s); n < minLen || n > maxLen {
			return fmt.Errorf("must be %d to %d characters", minLen, maxLen)
		}
		return nil
	}
}

func digits(minLen, maxLen int) func(any) error {
	check := text(minLen, maxLen)
	return func(v any) error {
		if err := check(scalarText(v)); err != nil {
			return fmt.Errorf("must be %d to %d digits", minLen, maxLen)
		}
		for _, r := range scalarText(v).(string) {
			if r < '0' || r > '9' {
				return fmt.Errorf("must be %d to %d digits", minLen, maxLen)
			}
		}
		return nil
	}
}

func oneOf(values ...string) func(any) error {
	return func(v any) error {
		s, _ := scalarText(v).(string)
		if !slices.Contains(values, s) {
			return fmt.Errorf("must be one of %s", strings.Join(values, ", "))
		}
		return nil
	}
}

func boolean(v any) error {
	switch t := v.(type) {
	case bool:
		return nil
	case string:
		if t == "true" || t == "false" {
			return nil
		}
	}
	return fmt.Errorf("must be true or false")
}

func integer(v any) error {
	s, _ := scalarText(v).(string)
	if s == "" {
		return fmt.Errorf("must be an integer")
	}
	for i, r := range s {
		if (r < '0' || r > '9') && !(i == 0 && r == '-') {
			return fmt.Errorf("must be an integer")
		}
	}
	return nil
}

func list(v any) error {
	if _, ok := v.([]any); !ok {
		return fmt.Errorf("must be a list")
	}
	return nil
}

// scalarText turns a JSON number into its text so that "123" and 123 check alike.
func scalarText(v any) any {
	switch t := v.(type) {
	case json.Number:
		return t.String()
	case float64:
		return fmt.Sprint(t)
	case int:
		return fmt.Sprint(t)
	case int64:
		return fmt.Sprint(t)
	}
	return v
}

// Parameter tables per channel (API.md §3).
var (
	alipayExtra = []Param{
		{Key: "extern_token", Check: text(1, 32)},
		{Key: "rn_check", Check: oneOf("T", "F")},
	}
	alipayWapExtra = []Param{
		{Key: "success_url", Required: true, Check: absoluteURL},
		{Key: "cancel_url", Check: absoluteURL},
		{Key: "new_version", Check: boolean},
		{Key: "app_pay", Check: boolean},
	}
	alipayPCDirectExtra = []Param{
		{Key: "success_url", Required: true, Check: absoluteURL},
		{Key: "enable_anti_phishing_key", Check: boolean},
		{Key: "exter_invoke_ip", Check: text(1, 64)},
	}
	alipayScanExtra = []Param{
		{Key: "scan_code", Required: true, Check: text(1, 64)},
		{Key: "terminal_id", Required: true, Check: text(1, 64)},
		{Key: "goods_list", Check: list},
		{Key: "operator_id"}, {Key: "store_id"}, {Key: "sys_service_provider_id"},
	}
	openIDOptional = []Param{{Key: "open_id", Check: text(1, 128)}}
	wxCommon       = []Param{
		{Key: "limit_pay", Check: oneOf("no_credit")},
		{Key: "goods_tag", Check: text(1, 32)},
	}
	wxExtra          = wxCommon
	wxPubExtra       = with(wxCommon, Param{Key: "open_id", Required: true, Check: text(1, 128)})
	wxPubQRExtra     = with(wxCommon, Param{Key: "product_id", Required: true, Check: text(1, 32)})
	wxPubScanExtra   = with(wxCommon, Param{Key: "scan_code", Required: true, Check: text(1, 64)}, Param{Key: "terminal_id", Check: text(1, 64)})
	wxWapExtra       = with(wxCommon, Param{Key: "result_url", Check: absoluteURL})
	goodsListReq     = Param{Key: "goods_list", Required: true, Check: list}
	cbWxExtra        = with(wxCommon, goodsListReq, Param{Key: "terminal_id"})
	cbWxPubExtra     = with(cbWxExtra, Param{Key: "open_id", Required: true, Check: text(1, 128)})
	cbWxPubQRExtra   = with(cbWxExtra, Param{Key: "product_id", Required: true, Check: text(1, 32)})
	cbWxPubScanExtra = with(cbWxExtra, Param{Key: "scan_code", Required: true, Check: text(1, 64)})
	cbAlipayExtra    = []Param{
		{Key: "payment_type", Check: text(1, 8)},
		{Key: "split_fund_info", Check: list},
	}
	resultURLRequired = []Param{{Key: "result_url", Required: true, Check: absoluteURL}}
	bfbWapExtra       = []Param{
		{Key: "result_url", Required: true, Check: absoluteURL},
		{Key: "bfb_login", Required: true, Check: boolean},
	}
	yeepayWapExtra = []Param{
		{Key: "product_category", Required: true},
		{Key: "identity_id", Required: true, Check: text(1, 50)},
		{Key: "identity_type", Required: true, Check: integer},
		{Key: "terminal_type", Required: true, Check: oneOf("0", "1", "2", "3")},
		{Key: "terminal_id", Required: true},
		{Key: "user_ua", Required: true},
		{Key: "result_url", Required: true, Check: absoluteURL},
	}
	jdpayWapExtra = []Param{
		{Key: "success_url", Required: true, Check: absoluteURL},
		{Key: "fail_url", Required: true, Check: absoluteURL},
		{Key: "token", Check: text(32, 32)},
		{Key: "order_type", Check: oneOf("0", "1")},
		{Key: "is_mobile", Check: boolean},
		{Key: "user_type", Check: oneOf("BIZ")},
		{Key: "user_id"},
	}
	qpayExtra      = []Param{{Key: "device", Required: true, Check: oneOf("ios", "android")}}
	cmbWalletExtra = []Param{
		{Key: "result_url", Required: true, Check: absoluteURL},
		{Key: "p_no", Required: true, Check: digits(1, 30)},
		{Key: "seq", Required: true, Check: digits(1, 20)},
		{Key: "m_uid", Required: true, Check: digits(1, 20)},
		{Key: "mobile", Required: true, Check: digits(11, 11)},
	}
	fqlpayWapExtra = []Param{
		{Key: "c_merch_id", Required: true},
		{Key: "return_url", Check: absoluteURL},
	}
	qgbcWapExtra = []Param{
		{Key: "phone", Required: true, Check: digits(11, 11)},
		{Key: "return_url", Check: absoluteURL},
		{Key: "term", Check: oneOf("0", "1", "2", "3", "4")},
		{Key: "activate_url", Check: absoluteURL},
		{Key: "has_header", Check: boolean},
	}
	mmdpayWapExtra = []Param{
		{Key: "phone", Required: true, Check: digits(11, 11)},
		{Key: "id_no", Required: true, Check: text(15, 18)},
		{Key: "name", Required: true, Check: text(1, 64)},
	}
	isvQRExtra = []Param{
		{Key: "pay_channel", Required: true, Check: oneOf("alipay", "wx", "bfb")},
		{Key: "terminal_id", Required: true, Check: text(1, 32)},
		{Key: "goods_list", Check: list},
	}
	isvScanExtra = []Param{
		{Key: "scan_code", Required: true, Check: text(1, 64)},
		{Key: "terminal_id", Required: true, Check: text(1, 32)},
		{Key: "goods_list", Check: list},
	}
	isvWapExtra = []Param{
		{Key: "pay_channel", Required: true, Check: oneOf("alipay", "wx")},
		{Key: "result_url", Required: true, Check: absoluteURL},
		{Key: "terminal_id", Required: true, Check: text(1, 32)},
		{Key: "goods_list", Check: list},
	}
	balanceExtra = []Param{{Key: "user", Required: true, Check: text(1, 64)}}
	cnpExtra     = []Param{{Key: "source", Required: true}, {Key: "sms_code"}}
)

// with returns base followed by more, as a new slice.
func with(base []Param, more ...Param) []Param {
	return append(slices.Clone(base), more...)
}

// Params returns the extra keys c accepts, required ones included.
func (c Channel) Params() []Param { return slices.Clone(specs[c].extra) }

// RequiredExtra returns the keys of extra that c requires.
func (c Channel) RequiredExtra() []string {
	var keys []string
	for _, p := range specs[c].extra {
		if p.Required {
			keys = append(keys, p.Key)
		}
	}
	return keys
}

// ValidateExtra checks extra against c's parameter table: every required key
// present and non-empty, every known key well formed. Keys the table does not
// know are passed through to Ping++ untouched, since Ping++ adds keys over time.
// It returns payorder.ErrInvalidChannel naming the channel and the key at fault.
func (c Channel) ValidateExtra(extra map[string]any) error {
	s, ok := specs[c]
	if !ok {
		return invalid("unknown channel %q", string(c))
	}
	for _, p := range s.extra {
		v, present := extra[p.Key]
		if !present || v == nil || v == "" {
			if p.Required {
				return invalid("channel %s: extra.%s is required", c, p.Key)
			}
			continue
		}
		if p.Check != nil {
			if err := p.Check(v); err != nil {
				return invalid("channel %s: extra.%s %v", c, p.Key, err)
			}
		}
	}
	return nil
}
