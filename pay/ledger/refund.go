package ledger

import (
	"encoding/json"
	"errors"
	"slices"
	"time"
)

// Errors of the refund rules. Compare with errors.Is.
var (
	// ErrNotPaid: the order, or the charge named, is not paid: there is
	// nothing to refund.
	ErrNotPaid = errors.New("ledger: charge not paid")
	// ErrNothingToRefund: the charge is refunded in full, or the rest is
	// held by refunds whose outcome is not yet known.
	ErrNothingToRefund = errors.New("ledger: nothing left to refund")
	// ErrRefundTooLarge: the amount asked is more than the charge's paid
	// amount minus what is refunded and what is pending.
	ErrRefundTooLarge = errors.New("ledger: refund larger than the refundable amount")
	// ErrRefundConflict: a refund attempt with the same request id asked for
	// something else (another charge, amount or anomaly).
	ErrRefundConflict = errors.New("ledger: refund request id already used for another refund")
	// ErrNotUnconfirmed: the refund attempt a person asked to abandon is not
	// unconfirmed (sent, unanswered, not found since, and held by no one).
	ErrNotUnconfirmed = errors.New("ledger: refund attempt is not unconfirmed")
)

// RefundState is where a refund attempt stands.
type RefundState string

// The states of a refund attempt. Unknown and pending hold their amount:
// no other refund may use it until the attempt fails.
const (
	// RefundUnknown: written before Ping++ is asked, or asked without an
	// answer. Its holder is the caller with its current Fence while
	// HeldUntil is ahead; after that any caller may take it over and find
	// out, by listing the charge's refunds, what it made. One never sent
	// (SentAt zero) is closed as failed instead. One sent and not found
	// stays unknown, holding its amount, until it is found or a person
	// abandons it (UnconfirmedAt, AbandonRefund).
	RefundUnknown RefundState = "unknown"
	// RefundPending: Ping++ made refund RefundID and has not finished it.
	RefundPending RefundState = "pending"
	// RefundSucceeded: the refund succeeded; it is in Record.Refunds.
	RefundSucceeded RefundState = "succeeded"
	// RefundFailed: Ping++ or the channel refused it, it was never sent,
	// or a person abandoned it (Evidence says which): its amount is free.
	RefundFailed RefundState = "failed"
)

// RefundAttempt is one refund payorder asks Ping++ for, written before it
// is sent.
type RefundAttempt struct {
	// ID is the caller's refund request id, unique within the order: the
	// same id never refunds twice.
	ID       string
	ChargeID string
	Amount   int64 // fen
	// AnomalyID is the anomaly (a double payment) the refund is for, if any.
	AnomalyID string
	// Params is the refund request (pingxx.RefundParams as JSON) with the
	// description, metadata and funding source; the amount is Amount.
	Params json.RawMessage
	// StartedAt is when it was written, by the ledger's clock.
	StartedAt time.Time
	// Fence is the fencing token of its holder while it is unknown; a
	// takeover increments it.
	Fence     int64
	HeldUntil time.Time
	// SentAt is when its holder was permitted to send it (PermitRefundSend),
	// by the ledger's clock. Zero: no request of it ever left, and none
	// can any more once its holder has lost it.
	SentAt time.Time
	// UnconfirmedAt is when it was found sent, unanswered and not among its
	// charge's refunds long after (MarkRefundUnconfirmed), and an anomaly
	// was recorded for a person; zero otherwise.
	UnconfirmedAt time.Time
	State         RefundState
	RefundID      string // re_…, once Ping++ has told
	// Evidence says why it failed, or how its outcome was found.
	Evidence string
	ClosedAt time.Time // when it succeeded or failed
}

// Holds reports whether the attempt holds its amount: its outcome is not
// known, or Ping++ has not finished it.
func (a *RefundAttempt) Holds() bool { return a.State == RefundUnknown || a.State == RefundPending }

// RefundWant is what a caller who wants a refund asks of BeginRefund.
type RefundWant struct {
	// ID is the caller's request id.
	ID string
	// ChargeID is the charge to refund; "" means the paying charge.
	ChargeID string
	// Amount is the refund in fen; zero means all that is refundable.
	Amount    int64
	AnomalyID string
	Params    json.RawMessage
	// Lease is how long the new attempt is held before another caller may
	// take it over.
	Lease time.Duration
}

// RefundStep is what BeginRefund tells its caller to do.
type RefundStep int

// The steps of BeginRefund.
const (
	// RefundStepSend: the caller holds the new attempt returned: send it.
	RefundStepSend RefundStep = iota + 1
	// RefundStepResolve: the caller took over the unknown attempt returned,
	// whose holder's lease had lapsed: find out what it made.
	RefundStepResolve
	// RefundStepWait: another caller holds the attempt returned.
	RefundStepWait
	// RefundStepDone: the attempt returned is pending, succeeded or failed.
	RefundStepDone
	// RefundStepClosed: the attempt returned was never sent and its holder
	// is gone: it is closed now, as failed (TakeOverRefund); save it.
	RefundStepClosed
)

// BeginRefund decides, at r.Now, what a caller who wants refund w does:
// begin it (the amount checked against what is refundable, atomically with
// every other refund of the order, since Update excludes them), look at the
// attempt already made with w.ID, take it over, or wait for its holder.
// Errors: ErrRefundConflict, ErrNotPaid, ErrNothingToRefund,
// ErrRefundTooLarge.
func (r *Record) BeginRefund(w RefundWant) (RefundStep, *RefundAttempt, error) {
	if a := r.RefundAttempt(w.ID); a != nil {
		if w.ChargeID != "" && w.ChargeID != a.ChargeID || w.Amount != 0 && w.Amount != a.Amount || w.AnomalyID != a.AnomalyID {
			return 0, nil, ErrRefundConflict
		}
		switch {
		case a.State != RefundUnknown:
			return RefundStepDone, a, nil
		case r.Now.Before(a.HeldUntil):
			return RefundStepWait, a, nil
		}
		if a = r.TakeOverRefund(a.ID, w.Lease); a.State != RefundUnknown {
			return RefundStepClosed, a, nil
		}
		return RefundStepResolve, a, nil
	}
	charge := w.ChargeID
	if charge == "" && r.Payment != nil {
		charge = r.Payment.ChargeID
	}
	refundable, err := r.Refundable(charge)
	switch {
	case err != nil:
		return 0, nil, err
	case refundable <= 0:
		return 0, nil, ErrNothingToRefund
	case w.Amount > refundable:
		return 0, nil, ErrRefundTooLarge
	}
	amount := w.Amount
	if amount <= 0 {
		amount = refundable
	}
	r.RefundAttempts = append(r.RefundAttempts, RefundAttempt{
		ID: w.ID, ChargeID: charge, Amount: amount, AnomalyID: w.AnomalyID, Params: w.Params,
		StartedAt: r.Now, Fence: 1, HeldUntil: r.Now.Add(w.Lease), State: RefundUnknown,
	})
	return RefundStepSend, &r.RefundAttempts[len(r.RefundAttempts)-1], nil
}

// Refundable is what may still be refunded of charge id: its paid amount,
// less its succeeded refunds and the amounts held by refund attempts whose
// outcome is not yet known or final. ErrNotPaid when the ledger does not
// know the charge paid.
func (r *Record) Refundable(id string) (int64, error) {
	var paid int64
	switch c := r.Charge(id); {
	case id == "":
		return 0, ErrNotPaid
	case r.Payment != nil && r.Payment.ChargeID == id:
		paid = r.Payment.Amount
	case c != nil && !c.PaidAt.IsZero():
		paid = c.Amount
	default:
		return 0, ErrNotPaid
	}
	for _, rf := range r.Refunds {
		if rf.ChargeID == id {
			paid -= rf.Amount
		}
	}
	for i := range r.RefundAttempts {
		if a := &r.RefundAttempts[i]; a.ChargeID == id && a.Holds() {
			paid -= a.Amount
		}
	}
	return paid, nil
}

// RefundAttempt returns the refund attempt with request id, or nil.
func (r *Record) RefundAttempt(id string) *RefundAttempt {
	for i := range r.RefundAttempts {
		if r.RefundAttempts[i].ID == id {
			return &r.RefundAttempts[i]
		}
	}
	return nil
}

// heldRefund returns the unknown attempt id if fence is its current token.
func (r *Record) heldRefund(id string, fence int64) (*RefundAttempt, error) {
	a := r.RefundAttempt(id)
	if a == nil || a.State != RefundUnknown || a.Fence != fence {
		return nil, ErrFenced
	}
	return a, nil
}

// PermitRefundSend is the last step before attempt id, held with fence, is
// sent: it records SentAt (the first time) and extends the lease to
// r.Now+lease. ErrFenced when the caller no longer holds it: it must then
// send nothing. Saved before the send, it is what tells an attempt that may
// have reached Ping++ from one that cannot have.
func (r *Record) PermitRefundSend(id string, fence int64, lease time.Duration) error {
	a, err := r.heldRefund(id, fence)
	if err != nil {
		return err
	}
	if a.SentAt.IsZero() {
		a.SentAt = r.Now
	}
	a.HeldUntil = r.Now.Add(lease)
	return nil
}

// MarkRefundUnconfirmed records that attempt id, held with fence, was sent
// and is not among its charge's refunds (detail says since when): the first
// time, it sets UnconfirmedAt and records an AnomalyRefundUnconfirmed for a
// person. Either way it ends the lease, and the attempt stays unknown,
// holding its amount: a request still on its way may yet make the refund.
// ErrFenced when the caller no longer holds it.
func (r *Record) MarkRefundUnconfirmed(id string, fence int64, detail string) error {
	a, err := r.heldRefund(id, fence)
	if err != nil {
		return err
	}
	if a.UnconfirmedAt.IsZero() {
		a.UnconfirmedAt = r.Now
		currency := ""
		if c := r.Charge(a.ChargeID); c != nil {
			currency = c.Currency
		}
		r.Anomalies = append(r.Anomalies, Anomaly{
			ID: RefundUnconfirmedAnomalyID(r.OrderNo, a.ID), Kind: AnomalyRefundUnconfirmed, OrderNo: r.OrderNo,
			ChargeID: a.ChargeID, Amount: a.Amount, Currency: currency, Detail: detail, CreatedAt: r.Now,
		})
	}
	a.HeldUntil = r.Now
	return nil
}

// RefundUnconfirmedAnomalyID is the id of the AnomalyRefundUnconfirmed of
// refund request id of order no.
func RefundUnconfirmedAnomalyID(no, id string) string {
	return AnomalyID(AnomalyRefundUnconfirmed, no+"/"+id)
}

// AbandonRefund closes unconfirmed attempt id as failed with evidence, for
// a person who found no such refund in the Ping++ dashboard: its amount is
// free. Should its request reach Ping++ after all, the refund Ping++ then
// reports is still recorded (ReportRefund). ErrNotUnconfirmed unless the
// attempt is unknown, marked unconfirmed and held by no one.
func (r *Record) AbandonRefund(id, evidence string) error {
	a := r.RefundAttempt(id)
	if a == nil || a.State != RefundUnknown || a.UnconfirmedAt.IsZero() || r.Now.Before(a.HeldUntil) {
		return ErrNotUnconfirmed
	}
	a.State, a.Evidence, a.ClosedAt, a.HeldUntil = RefundFailed, evidence, r.Now, r.Now
	a.Fence++
	return nil
}

// RenewRefund extends the lease of unknown attempt id, held with fence, to
// r.Now+lease. ErrFenced when the caller no longer holds it.
func (r *Record) RenewRefund(id string, fence int64, lease time.Duration) error {
	a, err := r.heldRefund(id, fence)
	if err != nil {
		return err
	}
	a.HeldUntil = r.Now.Add(lease)
	return nil
}

// ReleaseRefund ends the lease of attempt id, held with fence, leaving its
// outcome unknown for the next caller to resolve. ErrFenced when the caller
// no longer holds it.
func (r *Record) ReleaseRefund(id string, fence int64) error {
	a, err := r.heldRefund(id, fence)
	if err != nil {
		return err
	}
	a.HeldUntil = r.Now
	return nil
}

// FailRefund closes attempt id, held with fence, as failed with evidence:
// Ping++ refused it, or no refund of it was found. ErrFenced when the caller
// no longer holds it.
func (r *Record) FailRefund(id string, fence int64, evidence string) error {
	a, err := r.heldRefund(id, fence)
	if err != nil {
		return err
	}
	a.State, a.Evidence, a.ClosedAt, a.HeldUntil = RefundFailed, evidence, r.Now, r.Now
	return nil
}

// RefundReport is what Ping++ said about the refund an attempt made.
type RefundReport struct {
	RefundID string
	// State is pending, succeeded or failed.
	State       RefundState
	Amount      int64
	SucceededAt time.Time // by Ping++
	EventID     string    // the webhook event; "" when answered or looked up
	Evidence    string    // how it was learnt; for a failure, Ping++'s reason
}

// ReportRefund records what Ping++ said about the refund of attempt id,
// whoever holds the attempt: a refund Ping++ made is a fact, never fenced.
// A succeeded refund is applied as ApplyRefund does. A report about an
// attempt already final, or about another refund than the attempt's, is
// ignored. It reports whether anything changed.
func (r *Record) ReportRefund(id string, rep RefundReport) bool {
	a := r.RefundAttempt(id)
	switch {
	case a == nil, a.RefundID != "" && a.RefundID != rep.RefundID:
		return false
	case a.State == RefundSucceeded, a.State == RefundFailed && a.RefundID != "":
		return false
	}
	a.RefundID = rep.RefundID
	switch rep.State {
	case RefundSucceeded:
		a.Evidence = rep.Evidence
		rf := Refund{ID: rep.RefundID, ChargeID: a.ChargeID, Amount: rep.Amount,
			SucceededAt: rep.SucceededAt, EventID: rep.EventID, RequestID: a.ID}
		if !r.ApplyRefund(rf) {
			r.settleAttempt(rf) // recorded already, from a report that did not name the attempt
		}
		return true
	case RefundFailed:
		a.State, a.ClosedAt = RefundFailed, r.Now
	default:
		a.State = RefundPending
	}
	a.Evidence, a.HeldUntil = rep.Evidence, r.Now
	return true
}

// settleAttempt marks the attempt that made rf, by request id or refund
// id, succeeded.
func (r *Record) settleAttempt(rf Refund) {
	for i := range r.RefundAttempts {
		a := &r.RefundAttempts[i]
		if a.RefundID == rf.ID || a.RefundID == "" && rf.RequestID != "" && a.ID == rf.RequestID {
			a.RefundID, a.State, a.ClosedAt, a.HeldUntil = rf.ID, RefundSucceeded, r.Now, r.Now
			if a.Evidence == "" {
				a.Evidence = "succeeded"
			}
			return
		}
	}
}

// refundWorkOpen reports whether a refund of the order needs looking at: an
// attempt whose outcome is not final, or a succeeded refund whose aftercare
// (the host's hook) has not succeeded.
func (r *Record) refundWorkOpen() bool {
	return slices.ContainsFunc(r.RefundAttempts, func(a RefundAttempt) bool { return a.Holds() }) ||
		slices.ContainsFunc(r.Refunds, func(rf Refund) bool { return rf.Notice.FulfilledAt.IsZero() })
}

// RefundedInFull reports whether charge id, known paid, has succeeded
// refunds of its whole amount.
func (r *Record) RefundedInFull(id string) bool {
	c := r.Charge(id)
	if c == nil {
		return false
	}
	var refunded int64
	for _, rf := range r.Refunds {
		if rf.ChargeID == id {
			refunded += rf.Amount
		}
	}
	return refunded >= c.Amount
}

// Refund returns the succeeded refund with id, or nil.
func (r *Record) Refund(id string) *Refund {
	for i := range r.Refunds {
		if r.Refunds[i].ID == id {
			return &r.Refunds[i]
		}
	}
	return nil
}

// ClaimRefundNotice takes the claim to run the host's refund hook for
// refund id until r.Now+lease. It returns false when there is nothing to do
// and ErrFulfilmentBusy while another claim is in force.
func (r *Record) ClaimRefundNotice(id string, lease time.Duration) (Claim, bool, error) {
	rf := r.Refund(id)
	if rf == nil || !rf.Notice.FulfilledAt.IsZero() {
		return Claim{}, false, nil
	}
	c, err := rf.Notice.claim(r.Now, lease)
	return c, err == nil, err
}

// RenewRefundNotice extends claim token of refund id's hook to
// r.Now+lease; ErrFenced when it is no longer the claim in force.
func (r *Record) RenewRefundNotice(id string, token int64, lease time.Duration) error {
	rf := r.Refund(id)
	if rf == nil {
		return ErrFenced
	}
	return rf.Notice.renew(r.Now, token, lease)
}

// FinishRefundNotice ends claim token of refund id's hook, as
// FinishFulfilment does for a payment's.
func (r *Record) FinishRefundNotice(id string, token int64, succeeded bool) {
	if rf := r.Refund(id); rf != nil {
		rf.Notice.finish(r.Now, token, succeeded)
	}
}

// claim takes the claim of f until now+lease; ErrFulfilmentBusy while
// another claim is in force.
func (f *Fulfilment) claim(now time.Time, lease time.Duration) (Claim, error) {
	if now.Before(f.LeaseUntil) {
		return Claim{}, ErrFulfilmentBusy
	}
	f.Claim++
	f.Runs++
	f.LeaseUntil = now.Add(lease)
	return Claim{FulfilmentID: f.ID, Token: f.Claim}, nil
}

// renew extends claim token to now+lease; ErrFenced when it is no longer
// the claim in force.
func (f *Fulfilment) renew(now time.Time, token int64, lease time.Duration) error {
	if f.Claim != token || !f.FulfilledAt.IsZero() || !now.Before(f.LeaseUntil) {
		return ErrFenced
	}
	f.LeaseUntil = now.Add(lease)
	return nil
}

// finish ends claim token: succeeded records the hook's success whoever
// holds the claim now; otherwise the claim is released, unless it is no
// longer the one in force.
func (f *Fulfilment) finish(now time.Time, token int64, succeeded bool) {
	switch {
	case !f.FulfilledAt.IsZero():
	case succeeded:
		f.FulfilledAt, f.LeaseUntil = now, time.Time{}
	case f.Claim == token:
		f.LeaseUntil = time.Time{}
	}
}

// TakeOverRefund makes the caller the holder of refund attempt id, unknown
// and no longer held at r.Now, until r.Now+lease, under a new fencing
// token; nil when it is settled or still held. An attempt never sent
// (SentAt zero) is closed as failed instead and returned so: the new token
// leaves its former holder no way to send it.
func (r *Record) TakeOverRefund(id string, lease time.Duration) *RefundAttempt {
	a := r.RefundAttempt(id)
	if a == nil || a.State != RefundUnknown || r.Now.Before(a.HeldUntil) {
		return nil
	}
	a.Fence++
	if a.SentAt.IsZero() {
		a.State, a.ClosedAt, a.HeldUntil = RefundFailed, r.Now, r.Now
		a.Evidence = "never sent: its caller stopped before sending it"
		return a
	}
	a.HeldUntil = r.Now.Add(lease)
	return a
}
