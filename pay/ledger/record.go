package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/yianpay/payorder/channel"
)

// Errors of the rules and of every Ledger. Compare with errors.Is.
var (
	// ErrNotFound: the ledger holds no such charge.
	ErrNotFound = errors.New("ledger: not found")
	// ErrNumberTaken: the Ping++ order number of a new attempt is already
	// held by another attempt, of this order or of another. Nothing was saved;
	// derive another number and try again.
	ErrNumberTaken = errors.New("ledger: Ping++ order number already taken")
	// ErrFenced: the caller no longer holds the attempt or fulfilment claim
	// it names: its lease lapsed and another caller took it over, or it was
	// closed. Nothing was saved.
	ErrFenced = errors.New("ledger: lease lost to another holder")
	// ErrPaid: the order is paid; no new attempt begins.
	ErrPaid = errors.New("ledger: order already paid")
	// ErrTooManyCharges: the order has as many live charges as allowed.
	ErrTooManyCharges = errors.New("ledger: too many live charges for the order")
	// ErrFulfilmentBusy: another caller holds the claim to fulfil the order.
	ErrFulfilmentBusy = errors.New("ledger: fulfilment claimed by another caller")
)

// Forever is the DueUntil of an order with open work: later than any time a
// reconciliation asks about, and within what every database stores.
var Forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Record is everything the ledger holds about one order (by the host's order
// number). Attempts, Charges and Refunds only grow: the rules append to them
// and never remove one or change its ID, Ping++ order number or charge JSON,
// so that an implementation can insert what is new after what it loaded
// (numbers and charge JSON in tables of their own, unique across orders)
// and save the rest of the record as it is.
type Record struct {
	OrderNo  string
	Attempts []Attempt // oldest first
	Charges  []Charge  // oldest first
	Payment  *Payment  // the payment that paid the order; nil while unpaid
	Refunds  []Refund  // succeeded refunds, in the order they were recorded
	// RefundAttempts are the refunds payorder asked Ping++ for, oldest
	// first, each written before it was sent.
	RefundAttempts []RefundAttempt
	// Fulfilment is the state of the host's hook for the paid order.
	Fulfilment Fulfilment

	// Anomalies are anomalies to record together with this update; an
	// implementation inserts them (once per ID) in the same transaction.
	// Read and Update return it empty.
	Anomalies []Anomaly

	// Now is the ledger's clock when the record was read (by Read, or in
	// Update before fn runs). It is not stored.
	Now time.Time
}

// AttemptState is where a payment attempt stands.
type AttemptState string

// The states of an attempt. Only AttemptOpen can change, and only to one of
// the others.
const (
	// AttemptOpen: written before Ping++ is asked; the outcome is not yet
	// recorded. Its holder is the caller with its current Fence while
	// HeldUntil is ahead; after that any caller may take it over.
	AttemptOpen AttemptState = "open"
	// AttemptCharged: Ping++ made its charge, recorded as ChargeID.
	AttemptCharged AttemptState = "charged"
	// AttemptFailed: Ping++ refused it (a 4xx answer): no charge exists.
	AttemptFailed AttemptState = "failed"
	// AttemptLost: its outcome was unknown and, once Ping++'s idempotency
	// window was over, no charge of it was found (Evidence says where it
	// was looked for).
	AttemptLost AttemptState = "lost"
	// AttemptMismatched: Ping++ answered with a charge that was not made for
	// it (another extra, amount or order); that charge is kept as an orphan.
	AttemptMismatched AttemptState = "mismatched"
)

// Attempt is one request to Ping++ for a charge, written before it is sent.
type Attempt struct {
	ID string
	// Group is the exclusion group (see Group): one attempt per order and
	// group is open at a time.
	Group    string
	Channel  channel.Channel
	ExtraKey string // canonical JSON of the extra parameters
	// PingppOrderNo is the order_no sent to Ping++: unique across the ledger.
	PingppOrderNo string
	// Params is the create request exactly as sent, so that any instance can
	// repeat it identically while Ping++'s idempotency window lasts.
	Params json.RawMessage
	// StartedAt is when it was written, by the ledger's clock.
	StartedAt time.Time
	// Fence is the fencing token of its holder; a takeover increments it, so
	// that the outcome a former holder reports is refused.
	Fence     int64
	HeldUntil time.Time
	State     AttemptState
	ChargeID  string // the charge it made, once charged
	Evidence  string // why it was closed without a charge
	ClosedAt  time.Time
}

// Charge is the ledger's record of one Ping++ charge of the order.
type Charge struct {
	ID            string // ch_…
	AttemptID     string // the attempt that made it; "" when adopted
	PingppOrderNo string
	Channel       channel.Channel
	Amount        int64 // fen
	Currency      string
	ExtraKey      string
	AppID         string
	Livemode      bool
	CreatedAt     time.Time
	ExpiresAt     time.Time
	// Orphan marks a charge never handed out to a buyer: made by a holder
	// that had lost its attempt, answered for another extra, or first seen
	// in a payment report. Its payment is still this order's.
	Orphan bool
	// PaidAt is when Ping++ reported it paid (whether that paid the order, or
	// was a double payment or a payment after close); zero while unpaid.
	// Reconciliation does not ask Ping++ about a charge known paid.
	PaidAt time.Time
	// JSON is the charge exactly as Ping++ sent it, byte for byte.
	JSON json.RawMessage
}

// Live reports whether c can still be paid at now with at least margin to spare.
func (c *Charge) Live(now time.Time, margin time.Duration) bool {
	return now.Add(margin).Before(c.ExpiresAt)
}

// Payment is a verified report that a charge of the order was paid.
type Payment struct {
	ChargeID      string
	Channel       channel.Channel
	Amount        int64
	Currency      string
	TransactionNo string
	PaidAt        time.Time // by Ping++
	EventID       string    // the webhook event; "" when looked up
	RecordedAt    time.Time // by the ledger's clock
}

// Refund is a refund that succeeded at Ping++.
type Refund struct {
	ID          string // re_…
	ChargeID    string
	Amount      int64
	SucceededAt time.Time
	EventID     string
	// RequestID is the refund request id of the RefundAttempt that made it;
	// "" for a refund made elsewhere (the Ping++ dashboard).
	RequestID string
	// Notice is the state of the host's refund hook for this refund, claimed
	// and finished as a payment's Fulfilment is; its ID is stable.
	Notice Fulfilment
}

// Fulfilment is the state of the host's hook for a paid order.
type Fulfilment struct {
	// ID identifies the fulfilment of one payment: the same for every run of
	// the hook for that payment, so that the host can deduplicate by it.
	ID string
	// Claim is the fencing token of the latest claim; it only grows.
	Claim      int64
	LeaseUntil time.Time // when the claim in force lapses
	Runs       int       // how many claims were taken
	// FulfilledAt is when a run of the hook was recorded as succeeded.
	FulfilledAt time.Time
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
	// AnomalyDoublePayment: a second, different charge paid an already paid
	// order; it needs a refund.
	AnomalyDoublePayment AnomalyKind = "double_payment"
	// AnomalyPaidAfterClose: a charge paid an order that was closed or had
	// expired; it needs a refund.
	AnomalyPaidAfterClose AnomalyKind = "paid_after_close"
	// AnomalyUnknownOrder: a genuine payment or refund for an order the host
	// does not know.
	AnomalyUnknownOrder AnomalyKind = "unknown_order"
	// AnomalyUnreadableEvent: a correctly signed webhook that is not an event
	// payorder can read; kept whole for a person to look at.
	AnomalyUnreadableEvent AnomalyKind = "unreadable_event"
	// AnomalyRefundUnconfirmed: a refund request was sent, got no answer and
	// is not among its charge's refunds long after; it holds its amount
	// until it is found or a person abandons it (pay.Service.AbandonRefund).
	AnomalyRefundUnconfirmed AnomalyKind = "refund_unconfirmed"
)

// Anomaly is a payment event that could not simply be applied. It is kept
// with the report that carried it, so nothing Ping++ said is lost.
type Anomaly struct {
	// ID identifies the anomaly: the same report recorded twice keeps one record.
	ID       string
	Kind     AnomalyKind
	OrderNo  string // "" when nothing names an order
	ChargeID string
	Amount   int64
	Currency string
	Detail   string
	// Event is the Ping++ event or charge JSON that reported it.
	Event     []byte
	CreatedAt time.Time
	// Resolved is when the ledger marked it resolved (the double payment
	// refunded in full); zero while it needs a person.
	Resolved time.Time
}

// AnomalyID is the ID of an anomaly of kind about a charge or refund id.
func AnomalyID(kind AnomalyKind, objectID string) string { return string(kind) + ":" + objectID }

// Group is the exclusion group of ch: WeChat's channels share one merchant
// order number space and so one open attempt per order; every other channel
// is its own group.
func Group(ch channel.Channel) string {
	if ch.IsWeChat() {
		return "wechat"
	}
	return string(ch)
}

// Want is what a caller who needs a charge asks of Begin.
type Want struct {
	Channel  channel.Channel
	ExtraKey string
	Amount   int64
	Currency string
	// Margin is the life a charge must have left to be handed out again.
	Margin time.Duration
	// Lease is how long the attempt is held before another caller may take
	// it over.
	Lease time.Duration
	// MaxLive bounds the order's live charges; a new attempt past it is
	// ErrTooManyCharges.
	MaxLive int
	// New is the attempt to begin when one is needed: ID, Channel, ExtraKey,
	// PingppOrderNo and Params set; Begin fills in the rest.
	New Attempt
}

// Step is what Begin tells its caller to do.
type Step int

// The steps of Begin.
const (
	// StepReuse: hand out the live charge returned.
	StepReuse Step = iota + 1
	// StepCreate: the caller holds the new attempt returned: send it.
	StepCreate
	// StepResolve: the caller took over the open attempt returned, whose
	// holder's lease had lapsed: find out what it made before anything else.
	StepResolve
	// StepWait: another caller holds the attempt returned; wait for its
	// outcome or for its lease to lapse.
	StepWait
)

// Begin decides, at r.Now, what a caller who wants a charge does: reuse a
// live charge, wait for another holder, take over an attempt whose holder's
// lease lapsed, or begin w.New. It returns ErrPaid for a paid order,
// ErrTooManyCharges past w.MaxLive and ErrNumberTaken when w.New's number is
// already used by this order.
func (r *Record) Begin(w Want) (Step, *Attempt, *Charge, error) {
	if r.Payment != nil {
		return 0, nil, nil, ErrPaid
	}
	if c := r.LiveCharge(w.Channel, w.ExtraKey, w.Amount, w.Currency, w.Margin); c != nil {
		return StepReuse, nil, c, nil
	}
	if a := r.OpenAttempt(Group(w.Channel)); a != nil {
		if r.Now.Before(a.HeldUntil) {
			return StepWait, a, nil, nil
		}
		return StepResolve, r.TakeOver(a.ID, w.Lease), nil, nil
	}
	if w.MaxLive > 0 && r.LiveCount(w.Margin) >= w.MaxLive {
		return 0, nil, nil, ErrTooManyCharges
	}
	if r.HasNumber(w.New.PingppOrderNo) {
		return 0, nil, nil, ErrNumberTaken
	}
	a := w.New
	a.Group = Group(a.Channel)
	a.StartedAt = r.Now
	a.Fence = 1
	a.HeldUntil = r.Now.Add(w.Lease)
	a.State = AttemptOpen
	r.Attempts = append(r.Attempts, a)
	return StepCreate, &r.Attempts[len(r.Attempts)-1], nil, nil
}

// LiveCharge returns the newest charge that may be handed out for ch with
// extraKey: made by one of this order's attempts (never an orphan), for
// amount and currency, payable for at least margin more at r.Now. Nil when
// there is none.
func (r *Record) LiveCharge(ch channel.Channel, extraKey string, amount int64, currency string, margin time.Duration) *Charge {
	for i := len(r.Charges) - 1; i >= 0; i-- {
		c := &r.Charges[i]
		if !c.Orphan && c.Channel == ch && c.ExtraKey == extraKey && c.Amount == amount && c.Currency == currency && c.Live(r.Now, margin) {
			return c
		}
	}
	return nil
}

// LiveCount is the number of the order's charges, orphans excepted, still
// payable for margin more at r.Now.
func (r *Record) LiveCount(margin time.Duration) int {
	n := 0
	for i := range r.Charges {
		if !r.Charges[i].Orphan && r.Charges[i].Live(r.Now, margin) {
			n++
		}
	}
	return n
}

// OpenAttempt returns the order's open attempt in group, or nil.
func (r *Record) OpenAttempt(group string) *Attempt {
	for i := range r.Attempts {
		if a := &r.Attempts[i]; a.State == AttemptOpen && a.Group == group {
			return a
		}
	}
	return nil
}

// Attempt returns the attempt with id, or nil.
func (r *Record) Attempt(id string) *Attempt {
	for i := range r.Attempts {
		if r.Attempts[i].ID == id {
			return &r.Attempts[i]
		}
	}
	return nil
}

// Charge returns the charge with id, or nil.
func (r *Record) Charge(id string) *Charge {
	for i := range r.Charges {
		if r.Charges[i].ID == id {
			return &r.Charges[i]
		}
	}
	return nil
}

// HasNumber reports whether one of the order's attempts or charges used the
// Ping++ order number no.
func (r *Record) HasNumber(no string) bool {
	return slices.ContainsFunc(r.Attempts, func(a Attempt) bool { return a.PingppOrderNo == no }) ||
		slices.ContainsFunc(r.Charges, func(c Charge) bool { return c.PingppOrderNo == no })
}

// TakeOver makes the caller the holder of open attempt id, whose lease has
// lapsed at r.Now, until r.Now+lease, under a new fencing token; nil when
// the attempt is not open or still held.
func (r *Record) TakeOver(id string, lease time.Duration) *Attempt {
	a := r.Attempt(id)
	if a == nil || a.State != AttemptOpen || r.Now.Before(a.HeldUntil) {
		return nil
	}
	a.Fence++
	a.HeldUntil = r.Now.Add(lease)
	return a
}

// NumberUsedTwice reports whether two of r's attempts use Ping++ order
// number no: what Update refuses with ErrNumberTaken.
func (r *Record) NumberUsedTwice(no string) bool {
	n := 0
	for _, a := range r.Attempts {
		if a.PingppOrderNo == no {
			n++
		}
	}
	return n > 1
}

// held returns the open attempt id if fence is its current token.
func (r *Record) held(id string, fence int64) (*Attempt, error) {
	a := r.Attempt(id)
	if a == nil || a.State != AttemptOpen || a.Fence != fence {
		return nil, ErrFenced
	}
	return a, nil
}

// Renew extends the lease of attempt id, held with fence, to r.Now+lease.
// ErrFenced when the caller no longer holds it.
func (r *Record) Renew(id string, fence int64, lease time.Duration) error {
	a, err := r.held(id, fence)
	if err != nil {
		return err
	}
	a.HeldUntil = r.Now.Add(lease)
	return nil
}

// Release ends the lease of attempt id, held with fence, leaving it open:
// its outcome is unknown, and the next caller resolves it. ErrFenced when the
// caller no longer holds it.
func (r *Record) Release(id string, fence int64) error {
	a, err := r.held(id, fence)
	if err != nil {
		return err
	}
	a.HeldUntil = r.Now
	return nil
}

// Finish closes attempt id, held with fence, in state: with charge c
// recorded as the attempt's (AttemptCharged), or with evidence of why there
// is none. ErrFenced, and nothing changed, when the caller no longer holds
// it: it must then keep its charge with AddOrphan.
func (r *Record) Finish(id string, fence int64, state AttemptState, c *Charge, evidence string) error {
	a, err := r.held(id, fence)
	if err != nil {
		return err
	}
	if state == AttemptOpen || (state == AttemptCharged) != (c != nil) {
		return fmt.Errorf("ledger: finishing attempt %s as %s with charge %v", id, state, c != nil)
	}
	a.State, a.Evidence, a.ClosedAt, a.HeldUntil = state, evidence, r.Now, r.Now
	if c != nil {
		a.ChargeID = c.ID
		if old := r.Charge(c.ID); old != nil {
			// Kept already, as the orphan of a former holder's identical
			// create: it is this attempt's charge after all.
			old.AttemptID, old.Orphan = id, false
			return nil
		}
		ch := *c
		ch.AttemptID, ch.Orphan = id, false
		r.Charges = append(r.Charges, ch)
	}
	return nil
}

// AddOrphan keeps c as a charge of the order that is never handed out, and
// reports whether it was new; a charge already recorded is left as it is.
func (r *Record) AddOrphan(c Charge) bool {
	if r.Charge(c.ID) != nil {
		return false
	}
	c.Orphan = true
	r.Charges = append(r.Charges, c)
	return true
}

// PaymentOutcome is what applying a payment to an order did.
type PaymentOutcome int

// The outcomes of ApplyPayment.
const (
	// PaymentApplied: the order was unpaid and is now paid.
	PaymentApplied PaymentOutcome = iota + 1
	// PaymentDuplicate: the order was already paid by this very charge.
	PaymentDuplicate
	// PaymentDouble: the order was already paid by another charge; this
	// payment needs a refund.
	PaymentDouble
	// PaymentAfterClose: the order was closed or had expired when it was
	// paid; the money needs a refund.
	PaymentAfterClose
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
	case PaymentAfterClose:
		return "paid_after_close"
	}
	return fmt.Sprintf("PaymentOutcome(%d)", int(o))
}

// ApplyPayment records that charge c paid the order, the one place where an
// order becomes paid; closed says the host's order was closed or expired at
// the time of payment. A charge the ledger has not recorded is kept first
// (as an orphan), so that reconciliation sees it. It does not check amounts:
// the caller does, against the host's order.
func (r *Record) ApplyPayment(p Payment, c Charge, closed bool) PaymentOutcome {
	r.AddOrphan(c)
	if recorded := r.Charge(c.ID); recorded.PaidAt.IsZero() {
		recorded.PaidAt = p.PaidAt
		if recorded.PaidAt.IsZero() {
			recorded.PaidAt = r.Now
		}
	}
	switch {
	case r.Payment != nil && r.Payment.ChargeID == p.ChargeID:
		return PaymentDuplicate
	case r.Payment != nil:
		return PaymentDouble
	case closed:
		return PaymentAfterClose
	}
	p.RecordedAt = r.Now
	r.Payment = &p
	r.Fulfilment = Fulfilment{ID: "ful_" + p.ChargeID}
	return PaymentApplied
}

// ApplyRefund records rf, and reports whether it was new. Refunds may arrive
// before the payment they refund (webhooks come in any order); they are kept
// and counted once the order is paid.
func (r *Record) ApplyRefund(rf Refund) bool {
	if slices.ContainsFunc(r.Refunds, func(x Refund) bool { return x.ID == rf.ID }) {
		return false
	}
	if rf.Notice.ID == "" {
		rf.Notice = Fulfilment{ID: "rfn_" + rf.ID}
	}
	r.Refunds = append(r.Refunds, rf)
	r.settleAttempt(rf)
	return true
}

// AmountRefunded is the total of the succeeded refunds of the paying charge
// (of any charge while the order is unpaid).
func (r *Record) AmountRefunded() int64 {
	var total int64
	for _, rf := range r.Refunds {
		if r.Payment == nil || rf.ChargeID == r.Payment.ChargeID {
			total += rf.Amount
		}
	}
	return total
}

// Status is where an order stands in the ledger.
type Status string

// The statuses of Record.Status.
const (
	StatusUnpaid            Status = "unpaid"
	StatusPaid              Status = "paid"
	StatusPartiallyRefunded Status = "partially_refunded"
	StatusRefunded          Status = "refunded"
)

// Status tells whether the order is unpaid, paid, or partly or wholly refunded.
func (r *Record) Status() Status {
	switch refunded := r.AmountRefunded(); {
	case r.Payment == nil:
		return StatusUnpaid
	case refunded >= r.Payment.Amount:
		return StatusRefunded
	case refunded > 0:
		return StatusPartiallyRefunded
	}
	return StatusPaid
}

// NeedsFulfilment reports whether the host's hook must still run: the order
// is paid, the hook has not succeeded, and the payment was not refunded in
// full before that.
func (r *Record) NeedsFulfilment() bool {
	return r.Payment != nil && r.Fulfilment.FulfilledAt.IsZero() && r.Status() != StatusRefunded
}

// Claim is a caller's right to run the host's hook for one payment.
type Claim struct {
	FulfilmentID string
	Token        int64
}

// ClaimFulfilment takes the claim to run the host's hook until r.Now+lease.
// It returns false when there is nothing to do and ErrFulfilmentBusy while
// another claim is in force.
func (r *Record) ClaimFulfilment(lease time.Duration) (Claim, bool, error) {
	if !r.NeedsFulfilment() {
		return Claim{}, false, nil
	}
	c, err := r.Fulfilment.claim(r.Now, lease)
	return c, err == nil, err
}

// RenewFulfilment extends claim token to r.Now+lease; ErrFenced when it is
// no longer the claim in force.
func (r *Record) RenewFulfilment(token int64, lease time.Duration) error {
	return r.Fulfilment.renew(r.Now, token, lease)
}

// FinishFulfilment ends claim token. succeeded records the hook's success
// whoever holds the claim now (the hook has run, and running it again would
// only repeat it); otherwise the claim is released, unless it is no longer
// the one in force.
func (r *Record) FinishFulfilment(token int64, succeeded bool) {
	r.Fulfilment.finish(r.Now, token, succeeded)
}

// DueUntil is until when reconciliation must look at the order: Forever
// while it has an open attempt, a payment whose hook must still run, a
// refund attempt not yet final or a refund whose hook must still run; the
// latest expiry of its charges not known paid while it is unpaid; zero when nothing can
// change without a new request. An implementation keeps it in an indexed
// column, so that Due finds open work without reading history.
func (r *Record) DueUntil() time.Time {
	if r.NeedsFulfilment() || r.refundWorkOpen() || slices.ContainsFunc(r.Attempts, func(a Attempt) bool { return a.State == AttemptOpen }) {
		return Forever
	}
	var until time.Time
	if r.Payment == nil {
		for _, c := range r.Charges {
			if c.PaidAt.IsZero() && c.ExpiresAt.After(until) {
				until = c.ExpiresAt
			}
		}
	}
	return until
}

// Clone returns a copy of r that shares no slice of records with it. The
// bytes of Charge.JSON, Attempt.Params and Anomaly.Event are shared: they
// are written once and never changed in place, by the rules or by callers.
func (r *Record) Clone() *Record {
	c := *r
	c.Attempts = slices.Clone(r.Attempts)
	c.Charges = slices.Clone(r.Charges)
	c.Refunds = slices.Clone(r.Refunds)
	c.RefundAttempts = slices.Clone(r.RefundAttempts)
	c.Anomalies = slices.Clone(r.Anomalies)
	if r.Payment != nil {
		p := *r.Payment
		c.Payment = &p
	}
	return &c
}
