package order

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yianpay/payorder/channel"
)

// Payment is a verified report that a charge of an order was paid: from a
// Ping++ webhook or from looking the charge up.
type Payment struct {
	ChargeID      string
	Channel       channel.Channel
	Amount        int64
	Currency      string
	TransactionNo string // the channel's transaction number
	PaidAt        time.Time
	EventID       string // the webhook event that reported it; "" when looked up
}

// Refund is a refund that succeeded at Ping++.
type Refund struct {
	ID          string // re_…
	ChargeID    string
	Amount      int64
	SucceededAt time.Time
	EventID     string
}

// PaymentOutcome is what applying a Payment to an order did.
type PaymentOutcome int

// The outcomes of ApplyPayment.
const (
	// PaymentApplied: the order was unpaid and is now paid.
	PaymentApplied PaymentOutcome = iota + 1
	// PaymentDuplicate: the order was already paid by this very charge; nothing changed.
	PaymentDuplicate
	// PaymentDouble: the order was already paid by another charge; this
	// payment needs a refund. Nothing changed on the order.
	PaymentDouble
	// PaymentClosed: the order was closed before this payment arrived; the
	// money needs a refund. Nothing changed on the order.
	PaymentClosed
)

// String returns the outcome's name.
func (o PaymentOutcome) String() string {
	switch o {
	case PaymentApplied:
		return "applied"
	case PaymentDuplicate:
		return "duplicate"
	case PaymentDouble:
		return "double_payment"
	case PaymentClosed:
		return "paid_after_close"
	}
	return fmt.Sprintf("PaymentOutcome(%d)", int(o))
}

// ApplyPayment records p on o, the one place where an order becomes paid. It
// does not check amounts (the caller does, against the charge it trusts); it
// decides what a payment means for the order in its current state. A paid
// order whose refunds already cover it becomes refunded at once.
func (o *Order) ApplyPayment(p Payment) PaymentOutcome {
	switch {
	case o.Paid != nil && o.Paid.ChargeID == p.ChargeID:
		return PaymentDuplicate
	case o.Paid != nil:
		return PaymentDouble
	case o.Status == StatusClosed:
		return PaymentClosed
	}
	paid := p
	o.Paid = &paid
	o.Status = StatusPaid
	o.settleRefunds()
	return PaymentApplied
}

// ApplyRefund records r on o. A refund id already recorded changes nothing
// and returns false. Refunds may arrive before the payment they refund
// (webhooks come in any order); they are kept and counted once the order is paid.
func (o *Order) ApplyRefund(r Refund) bool {
	if slices.ContainsFunc(o.Refunds, func(x Refund) bool { return x.ID == r.ID }) {
		return false
	}
	o.Refunds = append(o.Refunds, r)
	o.settleRefunds()
	return true
}

// AmountRefunded is the total of the refunds of the paying charge.
func (o *Order) AmountRefunded() int64 {
	var total int64
	for _, r := range o.Refunds {
		if o.Paid == nil || r.ChargeID == "" || r.ChargeID == o.Paid.ChargeID {
			total += r.Amount
		}
	}
	return total
}

// settleRefunds moves a paid order to partially refunded or refunded.
func (o *Order) settleRefunds() {
	if o.Paid == nil {
		return
	}
	switch refunded := o.AmountRefunded(); {
	case refunded >= o.Paid.Amount:
		o.Status = StatusRefunded
	case refunded > 0:
		o.Status = StatusPartiallyRefunded
	}
}

// Close closes an unpaid order so that it can no longer be charged. A charge
// already handed out may still be paid; such a payment is reported as
// PaymentClosed.
func (o *Order) Close() error {
	if !o.Status.CanBecome(StatusClosed) {
		return fmt.Errorf("order: %s is %s and cannot be closed", o.No, o.Status)
	}
	o.Status = StatusClosed
	return nil
}

// Fulfilment: after an order is paid, the host's hook runs once. A caller
// claims the right to run it for a lease, runs it, and then marks the order
// fulfilled or releases the claim, so that concurrent deliveries of one
// payment run the hook once and a failed hook runs again later.

// ErrFulfilmentBusy means another caller holds the claim to fulfil the order.
var ErrFulfilmentBusy = errors.New("order: fulfilment claimed by another caller")

// ClaimFulfilment takes the claim, named claim (unique to the caller), to
// run the host's hook for o until the lease ends. It returns false when
// there is nothing to do (unpaid, or fulfilled already) and
// ErrFulfilmentBusy when another claim is in force.
func (o *Order) ClaimFulfilment(now time.Time, lease time.Duration, claim string) (bool, error) {
	if o.Paid == nil || !o.FulfilledAt.IsZero() {
		return false, nil
	}
	if now.Before(o.FulfilmentLeaseUntil) {
		return false, ErrFulfilmentBusy
	}
	o.FulfilmentLeaseUntil, o.FulfilmentClaim = now.Add(lease), claim
	return true, nil
}

// FinishFulfilment ends the claim named claim: fulfilled records that the
// hook succeeded (whoever holds the claim now: the hook has run); otherwise
// the claim is released so that the hook can run again, unless another
// caller has taken it over meanwhile.
func (o *Order) FinishFulfilment(now time.Time, claim string, fulfilled bool) {
	if fulfilled {
		o.FulfilledAt = now
	} else if o.FulfilmentClaim != claim {
		return
	}
	o.FulfilmentLeaseUntil, o.FulfilmentClaim = time.Time{}, ""
}

// AnomalyKind names what went wrong with a payment.
type AnomalyKind string

// The kinds of anomaly. Each needs a person: a refund, or a look at the
// Ping++ dashboard.
const (
	// AnomalyAmountMismatch: a paid charge's amount differs from the order's.
	AnomalyAmountMismatch AnomalyKind = "amount_mismatch"
	// AnomalyCurrencyMismatch: a paid charge's currency differs from the order's.
	AnomalyCurrencyMismatch AnomalyKind = "currency_mismatch"
	// AnomalyDoublePayment: a second, different charge paid an already-paid
	// order; it needs a refund.
	AnomalyDoublePayment AnomalyKind = "double_payment"
	// AnomalyPaidAfterClose: a charge paid an order that was closed; it needs a refund.
	AnomalyPaidAfterClose AnomalyKind = "paid_after_close"
	// AnomalyUnknownOrder: a genuine payment or refund for an order the store
	// does not know.
	AnomalyUnknownOrder AnomalyKind = "unknown_order"
	// AnomalyUnreadableEvent: a correctly signed webhook that is not an event
	// payorder can read; kept whole for a person to look at.
	AnomalyUnreadableEvent AnomalyKind = "unreadable_event"
)

// Anomaly is a payment event that could not simply be applied. It is kept
// with the event that reported it, so nothing Ping++ said is lost.
type Anomaly struct {
	// ID identifies the anomaly: the same report recorded twice keeps one record.
	ID       string
	Kind     AnomalyKind
	OrderNo  string // "" for AnomalyUnknownOrder when nothing names an order
	ChargeID string
	Amount   int64
	Currency string
	Detail   string
	// Event is the Ping++ event or charge JSON that reported it.
	Event     []byte
	CreatedAt time.Time
}

// AnomalyID is the ID of an anomaly of kind about a charge or refund id.
func AnomalyID(kind AnomalyKind, objectID string) string { return string(kind) + ":" + objectID }
