package channel

import (
	"fmt"
	"slices"
	"time"

	"github.com/yianpay/payorder"
)

// Channel is a Ping++ charge channel code, such as "alipay" or "wx".
type Channel string

// Every charge channel named in Ping++'s documentation and SDKs.
const (
	Alipay         Channel = "alipay"           // Alipay in-app (App SDK)
	AlipayWap      Channel = "alipay_wap"       // Alipay mobile web
	AlipayPCDirect Channel = "alipay_pc_direct" // Alipay desktop web
	AlipayQR       Channel = "alipay_qr"        // Alipay QR shown by the merchant
	AlipayScan     Channel = "alipay_scan"      // Alipay barcode scanned by the merchant
	AlipayLite     Channel = "alipay_lite"      // Alipay mini-program
	Wx             Channel = "wx"               // WeChat Pay in-app
	WxPub          Channel = "wx_pub"           // WeChat official account (JSAPI)
	WxPubQR        Channel = "wx_pub_qr"        // WeChat Native QR
	WxPubScan      Channel = "wx_pub_scan"      // WeChat barcode scanned by the merchant
	WxWap          Channel = "wx_wap"           // WeChat H5
	WxLite         Channel = "wx_lite"          // WeChat mini-program
	CbAlipay       Channel = "cb_alipay"        // cross-border Alipay
	CbWx           Channel = "cb_wx"            // cross-border WeChat in-app
	CbWxPub        Channel = "cb_wx_pub"        // cross-border WeChat official account
	CbWxPubQR      Channel = "cb_wx_pub_qr"     // cross-border WeChat Native QR
	CbWxPubScan    Channel = "cb_wx_pub_scan"   // cross-border WeChat barcode
	Upacp          Channel = "upacp"            // UnionPay in-app
	UpacpWap       Channel = "upacp_wap"        // UnionPay mobile web
	UpacpPC        Channel = "upacp_pc"         // UnionPay desktop gateway
	CpB2B          Channel = "cp_b2b"           // UnionPay corporate e-banking
	ApplepayUpacp  Channel = "applepay_upacp"   // Apple Pay through UnionPay
	Upmp           Channel = "upmp"             // legacy UnionPay
	UpmpWap        Channel = "upmp_wap"         // legacy UnionPay mobile web
	Bfb            Channel = "bfb"              // Baidu Wallet in-app
	BfbWap         Channel = "bfb_wap"          // Baidu Wallet mobile web
	YeepayWap      Channel = "yeepay_wap"       // YeePay mobile web
	JdpayWap       Channel = "jdpay_wap"        // JD Pay mobile web
	Qpay           Channel = "qpay"             // QQ Wallet in-app
	QpayPub        Channel = "qpay_pub"         // QQ Wallet official account
	CmbWallet      Channel = "cmb_wallet"       // China Merchants Bank 一网通
	FqlpayWap      Channel = "fqlpay_wap"       // Fenqile instalments
	QgbcWap        Channel = "qgbc_wap"         // Lianghuapai instalments
	MmdpayWap      Channel = "mmdpay_wap"       // Memedai loans
	IsvQR          Channel = "isv_qr"           // offline QR (merchant code)
	IsvScan        Channel = "isv_scan"         // offline barcode
	IsvWap         Channel = "isv_wap"          // offline fixed code
	IsvLite        Channel = "isv_lite"         // offline mini-program
	Balance        Channel = "balance"          // Ping++ account-system balance
	CcbPay         Channel = "ccb_pay"          // China Construction Bank in-app
	CcbQR          Channel = "ccb_qr"           // China Construction Bank QR
	Cmpay          Channel = "cmpay"            // China Mobile Pay
	Paypal         Channel = "paypal"           // PayPal
	Coolcredit     Channel = "coolcredit"       // Coolcredit instalments
	CnpU           Channel = "cnp_u"            // in-app UnionPay card payment (retired by Ping++)
	CnpF           Channel = "cnp_f"            // in-app foreign card payment (retired by Ping++)
)

// family groups channels that share one upstream provider's rules.
type family int

const (
	familyOther family = iota
	familyAlipay
	familyWeChat
	familyUnionPay
)

// spec is everything known about one channel.
type spec struct {
	family     family
	orderNoMin int
	orderNoMax int
	extra      []Param
}

// Maximum charge lifetimes per family (API.md §2.1 time_expire).
const (
	maxExpiryWeChat   = 2 * time.Hour
	maxExpiryUnionPay = time.Hour
	maxExpiryOther    = 15 * 24 * time.Hour
	// defaultExpiry is what Ping++ applies when time_expire is omitted, capped by
	// the channel's maximum.
	defaultExpiry = 24 * time.Hour
	// MinExpiry is the shortest lifetime Ping++ accepts for a charge.
	MinExpiry = time.Minute
)

var specs = map[Channel]spec{
	Alipay:         {family: familyAlipay, orderNoMin: 1, orderNoMax: 64, extra: alipayExtra},
	AlipayWap:      {family: familyAlipay, orderNoMin: 1, orderNoMax: 64, extra: alipayWapExtra},
	AlipayPCDirect: {family: familyAlipay, orderNoMin: 1, orderNoMax: 64, extra: alipayPCDirectExtra},
	AlipayQR:       {family: familyAlipay, orderNoMin: 1, orderNoMax: 64},
	AlipayScan:     {family: familyAlipay, orderNoMin: 1, orderNoMax: 64, extra: alipayScanExtra},
	AlipayLite:     {family: familyAlipay, orderNoMin: 1, orderNoMax: 64, extra: openIDOptional},
	Wx:             {family: familyWeChat, orderNoMin: 2, orderNoMax: 32, extra: wxExtra},
	WxPub:          {family: familyWeChat, orderNoMin: 2, orderNoMax: 32, extra: wxPubExtra},
	WxPubQR:        {family: familyWeChat, orderNoMin: 2, orderNoMax: 32, extra: wxPubQRExtra},
	WxPubScan:      {family: familyWeChat, orderNoMin: 1, orderNoMax: 32, extra: wxPubScanExtra},
	WxWap:          {family: familyWeChat, orderNoMin: 2, orderNoMax: 32, extra: wxWapExtra},
	WxLite:         {family: familyWeChat, orderNoMin: 2, orderNoMax: 32, extra: wxPubExtra},
	CbAlipay:       {family: familyAlipay, orderNoMin: 1, orderNoMax: 64, extra: cbAlipayExtra},
	CbWx:           {family: familyWeChat, orderNoMin: 1, orderNoMax: 32, extra: cbWxExtra},
	CbWxPub:        {family: familyWeChat, orderNoMin: 1, orderNoMax: 32, extra: cbWxPubExtra},
	CbWxPubQR:      {family: familyWeChat, orderNoMin: 1, orderNoMax: 32, extra: cbWxPubQRExtra},
	CbWxPubScan:    {family: familyWeChat, orderNoMin: 1, orderNoMax: 32, extra: cbWxPubScanExtra},
	Upacp:          {family: familyUnionPay, orderNoMin: 8, orderNoMax: 40},
	UpacpWap:       {family: familyUnionPay, orderNoMin: 8, orderNoMax: 40, extra: resultURLRequired},
	UpacpPC:        {family: familyUnionPay, orderNoMin: 8, orderNoMax: 40, extra: resultURLRequired},
	CpB2B:          {family: familyUnionPay, orderNoMin: 8, orderNoMax: 40},
	ApplepayUpacp:  {family: familyUnionPay, orderNoMin: 8, orderNoMax: 40},
	Upmp:           {family: familyUnionPay, orderNoMin: 8, orderNoMax: 40},
	UpmpWap:        {family: familyUnionPay, orderNoMin: 8, orderNoMax: 40, extra: resultURLRequired},
	Bfb:            {orderNoMin: 1, orderNoMax: 20},
	BfbWap:         {orderNoMin: 1, orderNoMax: 20, extra: bfbWapExtra},
	YeepayWap:      {orderNoMin: 1, orderNoMax: 50, extra: yeepayWapExtra},
	JdpayWap:       {orderNoMin: 1, orderNoMax: 30, extra: jdpayWapExtra},
	Qpay:           {orderNoMin: 1, orderNoMax: 30, extra: qpayExtra},
	QpayPub:        {orderNoMin: 1, orderNoMax: 30},
	CmbWallet:      {orderNoMin: 6, orderNoMax: 32, extra: cmbWalletExtra},
	FqlpayWap:      {orderNoMin: 1, orderNoMax: 64, extra: fqlpayWapExtra},
	QgbcWap:        {orderNoMin: 1, orderNoMax: 64, extra: qgbcWapExtra},
	MmdpayWap:      {orderNoMin: 1, orderNoMax: 64, extra: mmdpayWapExtra},
	IsvQR:          {orderNoMin: 8, orderNoMax: 32, extra: isvQRExtra},
	IsvScan:        {orderNoMin: 8, orderNoMax: 32, extra: isvScanExtra},
	IsvWap:         {orderNoMin: 8, orderNoMax: 32, extra: isvWapExtra},
	IsvLite:        {orderNoMin: 8, orderNoMax: 32},
	Balance:        {orderNoMin: 1, orderNoMax: 64, extra: balanceExtra},
	CcbPay:         {orderNoMin: 1, orderNoMax: 30},
	CcbQR:          {orderNoMin: 1, orderNoMax: 30},
	Cmpay:          {orderNoMin: 1, orderNoMax: 50},
	Paypal:         {orderNoMin: 1, orderNoMax: 32},
	Coolcredit:     {orderNoMin: 1, orderNoMax: 32},
	CnpU:           {orderNoMin: 8, orderNoMax: 20, extra: cnpExtra},
	CnpF:           {orderNoMin: 8, orderNoMax: 20, extra: cnpExtra},
}

// All returns every known channel, sorted by name.
func All() []Channel {
	all := make([]Channel, 0, len(specs))
	for c := range specs {
		all = append(all, c)
	}
	slices.Sort(all)
	return all
}

// Parse returns the channel named s, or payorder.ErrInvalidChannel naming s
// when Ping++ has no such channel.
func Parse(s string) (Channel, error) {
	c := Channel(s)
	if !c.Known() {
		return "", invalid("unknown channel %q", s)
	}
	return c, nil
}

// Known reports whether c is a Ping++ charge channel.
func (c Channel) Known() bool {
	_, ok := specs[c]
	return ok
}

// String returns the channel code.
func (c Channel) String() string { return string(c) }

// IsWeChat reports whether c is paid through WeChat Pay (wx, wx_pub, cb_wx, ...).
func (c Channel) IsWeChat() bool { return specs[c].family == familyWeChat }

// IsAlipay reports whether c is paid through Alipay.
func (c Channel) IsAlipay() bool { return specs[c].family == familyAlipay }

// IsUnionPay reports whether c is paid through UnionPay.
func (c Channel) IsUnionPay() bool { return specs[c].family == familyUnionPay }

// MaxExpiry is the longest time_expire Ping++ accepts for c, counted from the
// charge's creation: 2 hours for WeChat, 1 hour for UnionPay, 15 days otherwise.
func (c Channel) MaxExpiry() time.Duration {
	switch specs[c].family {
	case familyWeChat:
		return maxExpiryWeChat
	case familyUnionPay:
		return maxExpiryUnionPay
	}
	return maxExpiryOther
}

// DefaultExpiry is the lifetime Ping++ gives a charge of c created without
// time_expire: one day, capped at MaxExpiry.
func (c Channel) DefaultExpiry() time.Duration { return min(defaultExpiry, c.MaxExpiry()) }

// OrderNoLength returns the shortest and longest order_no Ping++ accepts on c.
func (c Channel) OrderNoLength() (minLen, maxLen int) {
	s := specs[c]
	return s.orderNoMin, s.orderNoMax
}

// ValidateOrderNo checks Ping++'s order_no rule for c: letters and digits only,
// of the channel's length. It returns payorder.ErrInvalidRequest naming the fault.
func (c Channel) ValidateOrderNo(orderNo string) error {
	if !c.Known() {
		return invalid("unknown channel %q", string(c))
	}
	lo, hi := c.OrderNoLength()
	if n := len(orderNo); n < lo || n > hi {
		return payorder.NewError(payorder.CodeInvalidRequest,
			fmt.Sprintf("channel %s: order_no must be %d to %d characters, got %d", c, lo, hi, n), nil)
	}
	for i := 0; i < len(orderNo); i++ {
		if !isAlnum(orderNo[i]) {
			return payorder.NewError(payorder.CodeInvalidRequest,
				fmt.Sprintf("channel %s: order_no may hold only letters and digits, found %q", c, orderNo[i]), nil)
		}
	}
	return nil
}

// Idempotency describes what Ping++ does with a repeated create request that
// carries the same order_no, channel, amount, subject, body and app id
// (API.md §2.3): inside Window it returns the first charge; after it, it
// creates a new charge when NewAfter is true and refuses the request when
// false (WeChat rejects a reused out_trade_no).
type Idempotency struct {
	Window   time.Duration
	NewAfter bool
}

// Idempotency returns Ping++'s repeated-order_no behaviour on c.
func (c Channel) Idempotency() Idempotency {
	switch c {
	case WxPubScan, CbWxPubScan:
		return Idempotency{Window: time.Minute, NewAfter: true}
	case WxWap:
		return Idempotency{Window: 5 * time.Minute}
	case IsvQR, IsvScan, IsvWap:
		return Idempotency{Window: time.Minute}
	}
	if c.IsWeChat() {
		return Idempotency{Window: 2 * time.Hour}
	}
	return Idempotency{Window: time.Minute, NewAfter: true}
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// invalid returns payorder.ErrInvalidChannel with a detail saying what is wrong.
func invalid(format string, args ...any) error {
	return payorder.NewError(payorder.CodeInvalidChannel, fmt.Sprintf(format, args...), nil)
}
