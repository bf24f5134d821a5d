package order

import (
	"fmt"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/yianpay/payorder"
)

// Order is an order of the host application as payorder reads it. The
// amount, currency, subject, body and metadata of every charge come from
// here, never from a request.
type Order struct {
	No       string // merchant order number: 1 to 64 letters and digits
	Buyer    string // the owner: only this buyer may pay the order
	Amount   int64  // fen
	Currency string // ISO code in lower case; "cny" when empty (see CurrencyOrDefault)
	Subject  string // charge subject; the order number when empty
	Body     string // charge body; the order number when empty
	// Metadata is sent to Ping++ with every charge (at most 10 flat keys);
	// "order_no" is always set to No.
	Metadata  map[string]any
	CreatedAt time.Time
	// ExpiresAt is when the order stops accepting payment; zero means never.
	// A payment made after it is an anomaly to refund, not a fulfilment.
	ExpiresAt time.Time
	// Closed means the host no longer sells it (cancelled, withdrawn): it
	// cannot be charged, and a payment of a charge handed out before is an
	// anomaly to refund.
	Closed bool
}

// DefaultCurrency is the currency of an order that names none.
const DefaultCurrency = "cny"

// CurrencyOrDefault is the order's currency, DefaultCurrency when empty.
func (o *Order) CurrencyOrDefault() string {
	if o.Currency == "" {
		return DefaultCurrency
	}
	return o.Currency
}

// MaxNoLength is the longest order number payorder takes.
const MaxNoLength = 64

// ValidNo reports whether no can be an order number: 1 to MaxNoLength ASCII
// letters or digits. Callers check it before any store read, so that a
// request's garbage never reaches a database or a log line.
func ValidNo(no string) bool {
	if no == "" || len(no) > MaxNoLength {
		return false
	}
	for i := 0; i < len(no); i++ {
		c := no[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Validate checks that o can be charged: a valid number (ValidNo), a
// positive amount, and metadata that Ping++ takes once "order_no" is added
// (at most 10 keys, no nesting, at most 1000 characters). It returns
// payorder.ErrInvalidRequest naming the fault.
func (o *Order) Validate() error {
	switch {
	case !ValidNo(o.No):
		return payorder.NewError(payorder.CodeInvalidRequest, "order: number must be 1 to 64 letters or digits", nil)
	case o.Amount <= 0:
		return payorder.NewError(payorder.CodeInvalidRequest, "order: amount must be positive", nil)
	}
	return validateMetadata(o.Metadata)
}

// Ping++'s metadata limits.
const (
	maxMetadataKeys  = 10
	maxMetadataRunes = 1000
)

// validateMetadata checks m against Ping++'s limits, counting the
// "order_no" key that every charge carries.
func validateMetadata(m map[string]any) error {
	keys, runes := len(m), 0
	if _, ok := m["order_no"]; !ok {
		keys++
	}
	for k, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			return payorder.NewError(payorder.CodeInvalidRequest, "order: metadata."+k+" is nested; Ping++ takes flat values only", nil)
		}
		runes += utf8.RuneCountInString(k) + utf8.RuneCountInString(fmt.Sprint(v))
	}
	switch {
	case keys > maxMetadataKeys:
		return payorder.NewError(payorder.CodeInvalidRequest, fmt.Sprintf("order: metadata has %d keys with order_no; Ping++ takes at most %d", keys, maxMetadataKeys), nil)
	case runes > maxMetadataRunes:
		return payorder.NewError(payorder.CodeInvalidRequest, fmt.Sprintf("order: metadata is %d characters long; Ping++ takes at most %d", runes, maxMetadataRunes), nil)
	}
	return nil
}

// Open reports whether o accepts payment at t: not closed, not expired.
func (o *Order) Open(t time.Time) bool {
	return !o.Closed && (o.ExpiresAt.IsZero() || t.Before(o.ExpiresAt))
}

// Chargeable returns nil when the host's order can be charged at now, and
// payorder.ErrOrderNotPayable with the client message 订单已关闭 when it is
// closed or expired. (Whether it is paid is the ledger's to say.)
func (o *Order) Chargeable(now time.Time) error {
	switch {
	case o.Closed:
		return NotPayable(MessageClosed, "order "+o.No+" is closed")
	case !o.Open(now):
		return NotPayable(MessageClosed, "order "+o.No+" expired at "+o.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// The client messages of payorder.ErrOrderNotPayable.
const (
	MessagePaid   = "订单已支付"
	MessageClosed = "订单已关闭"
)

// NotPayable returns payorder.ErrOrderNotPayable with the client message
// msg (MessagePaid or MessageClosed) and detail.
func NotPayable(msg, detail string) error {
	return payorder.NewError(payorder.CodeOrderNotPayable, detail, nil).WithMessage(msg)
}

// Clone returns a copy of o that shares no map with it.
func (o Order) Clone() Order {
	o.Metadata = maps.Clone(o.Metadata)
	return o
}
