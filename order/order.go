package order

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
)

// Status is where an order stands.
type Status string

// The statuses of an order. An order is created Unpaid; a verified payment
// makes it Paid; the host may close an unpaid order; refunds move a paid order
// to PartiallyRefunded and Refunded.
const (
	StatusUnpaid            Status = "unpaid"
	StatusPaid              Status = "paid"
	StatusClosed            Status = "closed"
	StatusPartiallyRefunded Status = "partially_refunded"
	StatusRefunded          Status = "refunded"
)

// transitions lists, for each status, the statuses it may move to.
var transitions = map[Status][]Status{
	StatusUnpaid:            {StatusPaid, StatusClosed},
	StatusPaid:              {StatusPartiallyRefunded, StatusRefunded},
	StatusPartiallyRefunded: {StatusPartiallyRefunded, StatusRefunded},
}

// CanBecome reports whether an order in status s may move to next.
func (s Status) CanBecome(next Status) bool {
	for _, t := range transitions[s] {
		if t == next {
			return true
		}
	}
	return false
}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusUnpaid, StatusPaid, StatusClosed, StatusPartiallyRefunded, StatusRefunded:
		return true
	}
	return false
}

// Order is an order of the host application as payorder sees it. The amount,
// currency, subject, body and metadata of every charge come from here, never
// from a request.
type Order struct {
	No       string // merchant order number, letters and digits
	Buyer    string // the owner: only this buyer may pay the order
	Amount   int64  // fen
	Currency string // ISO code in lower case, "cny" when empty
	Subject  string // charge subject; the order number when empty
	Body     string // charge body; the order number when empty
	// Metadata is sent to Ping++ with every charge (at most 10 flat keys);
	// "order_no" is always set to No.
	Metadata  map[string]any
	Status    Status
	CreatedAt time.Time
	// ExpiresAt is when the order stops accepting payment; zero means never.
	ExpiresAt time.Time

	// Payment state, owned by the store once the order exists (Put keeps it).

	// Paid is the payment that paid the order; nil while unpaid.
	Paid *Payment
	// Refunds are the succeeded refunds, in the order they were recorded.
	Refunds []Refund
	// FulfilledAt is when the host's hook for the paid order succeeded.
	FulfilledAt time.Time
	// FulfilmentLeaseUntil is when a claim to run the hook lapses.
	FulfilmentLeaseUntil time.Time
	// FulfilmentClaim identifies the claim in force, so that only its holder
	// releases it.
	FulfilmentClaim string
}

// Validate checks that o can be stored and charged: a number of letters and
// digits, a positive amount, a known status, and metadata that Ping++ takes
// once "order_no" is added (at most 10 keys, no nesting, at most 1000
// characters). It returns payorder.ErrInvalidRequest naming the fault.
func (o *Order) Validate() error {
	switch {
	case o.No == "" || len(o.No) > 64 || !alnum(o.No):
		return payorder.NewError(payorder.CodeInvalidRequest, "order: number must be 1 to 64 letters or digits", nil)
	case o.Amount <= 0:
		return payorder.NewError(payorder.CodeInvalidRequest, "order: amount must be positive", nil)
	case o.Status != "" && !o.Status.Valid():
		return payorder.NewError(payorder.CodeInvalidRequest, "order: unknown status "+string(o.Status), nil)
	}
	return validateMetadata(o.Metadata)
}

// Ping++'s metadata limits (API.md §2.1).
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

// Payable returns nil when o can be charged at now, and
// payorder.ErrOrderNotPayable otherwise, with the client message 订单已支付
// for a paid or refunded order and 订单已关闭 for a closed or expired one.
func (o *Order) Payable(now time.Time) error {
	switch o.Status {
	case StatusUnpaid, "":
	case StatusClosed:
		return notPayable("订单已关闭", "order "+o.No+" is closed")
	default:
		return notPayable("订单已支付", "order "+o.No+" is "+string(o.Status))
	}
	if !o.ExpiresAt.IsZero() && !now.Before(o.ExpiresAt) {
		return notPayable("订单已关闭", "order "+o.No+" expired at "+o.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func notPayable(message, detail string) error {
	return payorder.NewError(payorder.CodeOrderNotPayable, detail, nil).WithMessage(message)
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Charge is the record of one Ping++ charge made for an order.
type Charge struct {
	ID      string // ch_…
	OrderNo string // the merchant's order number
	// PingppOrderNo is the order_no sent to Ping++: the merchant's, or one
	// derived from it where WeChat refuses a reused number.
	PingppOrderNo string
	Channel       channel.Channel
	Amount        int64
	Currency      string
	// ExtraKey identifies the extra parameters the charge was made with
	// (canonical JSON), so a charge is reused only for the same extra.
	ExtraKey  string
	AppID     string
	Livemode  bool
	CreatedAt time.Time
	ExpiresAt time.Time
	// JSON is the charge exactly as Ping++ returned it.
	JSON json.RawMessage
}

// Live reports whether c can still be paid at now with at least margin to spare.
func (c *Charge) Live(now time.Time, margin time.Duration) bool {
	return now.Add(margin).Before(c.ExpiresAt)
}

// clone returns a copy of o that shares no maps or slices with it.
func (o Order) clone() Order {
	o.Metadata = maps.Clone(o.Metadata)
	o.Refunds = slices.Clone(o.Refunds)
	if o.Paid != nil {
		p := *o.Paid
		o.Paid = &p
	}
	return o
}
