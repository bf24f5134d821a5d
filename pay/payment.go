package pay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Event types the Service acts on; every other type is acknowledged and ignored.
const (
	EventChargeSucceeded = "charge.succeeded"
	EventRefundSucceeded = "refund.succeeded"
)

// Fulfilment is what OnPaid and OnPaidTx are told about a paid order.
type Fulfilment struct {
	// ID is the same for every call about the same payment: a host whose
	// effect must not repeat keeps it with the effect and skips a call whose
	// ID it has seen.
	ID      string
	Order   order.Order
	Payment ledger.Payment
	// Charge is the paying charge as Ping++ reported it.
	Charge *pingxx.Charge
}

// HandleEvent applies a verified Ping++ event: charge.succeeded marks the
// order paid (once, whatever the number of deliveries) and runs the
// fulfilment hook; refund.succeeded records the refund. Anything that cannot
// simply be applied (amount or currency mismatch, a second charge paying a
// paid order, a payment of a closed or expired order, an unknown order) is
// recorded as an anomaly and reported to OnAnomaly. Events of another Ping++
// app or mode change nothing.
//
// A nil error means the event is durably handled and may be acknowledged; an
// error means it must be delivered again (the ledger or a hook failed, or
// another delivery of the same payment is running its hook right now).
func (s *Service) HandleEvent(ctx context.Context, ev *pingxx.Event) (err error) {
	ctx, call := s.tel.startEvent(ctx, ev.Type)
	defer func() { call.end(ctx, err) }()
	if ev.Livemode != s.cfg.Livemode {
		s.cfg.Logger.WarnContext(ctx, "pay: event of the other mode ignored", "event_id", ev.ID, "livemode", ev.Livemode)
		noteEvent(ctx, eventIgnored)
		return nil
	}
	switch ev.Type {
	case EventChargeSucceeded:
		c, err := ev.Charge()
		if err != nil {
			return s.KeepUnreadable(ctx, ev.Raw(), err)
		}
		return s.applyPaidCharge(ctx, c, ev.ID, ev.Raw())
	case EventRefundSucceeded:
		r, err := ev.Refund()
		if err != nil {
			return s.KeepUnreadable(ctx, ev.Raw(), err)
		}
		return s.applyRefund(ctx, r, ev)
	}
	s.cfg.Logger.DebugContext(ctx, "pay: event ignored", "event_id", ev.ID, "type", ev.Type)
	noteEvent(ctx, eventIgnored)
	return nil
}

// KeepUnreadable records a correctly signed webhook payload that cannot be
// read as the event it claims to be, as an AnomalyUnreadableEvent holding the
// payload, so that nothing Ping++ said is lost. Ping++ would send it again
// unchanged, so once it is recorded the delivery may be acknowledged.
func (s *Service) KeepUnreadable(ctx context.Context, payload []byte, cause error) error {
	sum := sha256.Sum256(payload)
	return s.anomaly(ctx, ledger.Anomaly{
		Kind: ledger.AnomalyUnreadableEvent, Event: payload,
		Detail: "signed webhook that payorder cannot read: " + cause.Error(),
	}, hex.EncodeToString(sum[:16]))
}

// foreign reports why a charge does not concern this service: another app
// or another mode.
func (s *Service) foreign(app string, livemode bool) string {
	if app != s.cfg.AppID {
		return "app " + app
	}
	if livemode != s.cfg.Livemode {
		return "livemode " + strconv.FormatBool(livemode)
	}
	return ""
}

// applyPaidCharge applies a paid charge reported by event eventID (empty when
// looked up), whose JSON is report.
func (s *Service) applyPaidCharge(ctx context.Context, c *pingxx.Charge, eventID string, report []byte) error {
	if !c.Paid {
		s.cfg.Logger.WarnContext(ctx, "pay: report of an unpaid charge ignored", "charge_id", c.ID, "event_id", eventID)
		noteEvent(ctx, eventIgnored)
		return nil
	}
	if why := s.foreign(c.App, c.Livemode); why != "" {
		s.cfg.Logger.WarnContext(ctx, "pay: payment of a foreign charge ignored", "charge_id", c.ID, "event_id", eventID, "foreign", why)
		noteEvent(ctx, eventIgnored)
		return nil
	}
	o, err := s.orderOfCharge(ctx, c.ID, metadataOrderNo(c), c.OrderNo)
	if errors.Is(err, payorder.ErrOrderNotFound) {
		return s.anomaly(ctx, ledger.Anomaly{
			Kind: ledger.AnomalyUnknownOrder, OrderNo: metadataOrderNo(c), ChargeID: c.ID,
			Amount: c.Amount, Currency: c.Currency, Event: report,
			Detail: fmt.Sprintf("charge %s (order_no %s) was paid but no order matches it", c.ID, c.OrderNo),
		}, c.ID)
	}
	if err != nil {
		return err
	}
	if a, ok := mismatch(o, c); ok {
		a.Event = report
		return s.anomaly(ctx, a, c.ID)
	}
	paidAt := time.Unix(c.TimePaid, 0).UTC()
	payment := ledger.Payment{
		ChargeID: c.ID, Channel: c.Channel, Amount: c.Amount, Currency: c.Currency,
		TransactionNo: c.TransactionNo, PaidAt: paidAt, EventID: eventID,
	}
	// Paid after the host closed the order, or after it expired: money to
	// give back, not an order to fulfil.
	closed := o.Closed || c.TimePaid != 0 && !o.Open(paidAt)
	var outcome ledger.PaymentOutcome
	var a ledger.Anomaly
	var seen bool // reported paid before: a redelivery
	rec, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
		seen = r.Charge(c.ID) != nil && !r.Charge(c.ID).PaidAt.IsZero()
		outcome = r.ApplyPayment(payment, chargeRecord(c, ledger.Attempt{}), closed)
		a = paymentAnomaly(o, r, c, outcome, report)
		if a.ID != "" {
			r.Anomalies = append(r.Anomalies, a)
		}
		return nil
	})
	if err != nil {
		return internal("recording the payment of order "+o.No, err)
	}
	s.cfg.Logger.InfoContext(ctx, "pay: payment", "order_no", o.No, "charge_id", c.ID, "event_id", eventID, "outcome", outcome)
	s.tel.payment(ctx, outcome, a, seen)
	if a.ID != "" {
		s.cfg.Logger.ErrorContext(ctx, "pay: payment anomaly", "id", a.ID, "kind", a.Kind, "order_no", a.OrderNo, "detail", a.Detail)
		if err := s.tellAnomaly(ctx, a); err != nil {
			return err
		}
	}
	return s.fulfil(ctx, o, rec)
}

// paymentAnomaly is the anomaly of a payment of o with outcome, if any.
func paymentAnomaly(o order.Order, r *ledger.Record, c *pingxx.Charge, outcome ledger.PaymentOutcome, report []byte) ledger.Anomaly {
	a := ledger.Anomaly{OrderNo: o.No, ChargeID: c.ID, Amount: c.Amount, Currency: c.Currency, Event: report, CreatedAt: r.Now}
	switch outcome {
	case ledger.PaymentDouble:
		a.Kind = ledger.AnomalyDoublePayment
		a.Detail = fmt.Sprintf("order %s, paid by %s, was paid again by %s through %s: refund it", o.No, r.Payment.ChargeID, c.ID, c.Channel)
	case ledger.PaymentAfterClose:
		a.Kind = ledger.AnomalyPaidAfterClose
		a.Detail = fmt.Sprintf("order %s was closed or expired when charge %s paid it: refund it", o.No, c.ID)
	default:
		return ledger.Anomaly{}
	}
	a.ID = ledger.AnomalyID(a.Kind, c.ID)
	return a
}

// mismatch checks a paid charge against its order.
func mismatch(o order.Order, c *pingxx.Charge) (ledger.Anomaly, bool) {
	a := ledger.Anomaly{OrderNo: o.No, ChargeID: c.ID, Amount: c.Amount, Currency: c.Currency}
	switch {
	case c.Amount != o.Amount:
		a.Kind = ledger.AnomalyAmountMismatch
		a.Detail = fmt.Sprintf("charge %s paid %d fen for order %s of %d fen", c.ID, c.Amount, o.No, o.Amount)
	case c.Currency != o.CurrencyOrDefault():
		a.Kind = ledger.AnomalyCurrencyMismatch
		a.Detail = fmt.Sprintf("charge %s paid in %s for order %s in %s", c.ID, c.Currency, o.No, o.CurrencyOrDefault())
	default:
		return a, false
	}
	return a, true
}

// anomaly records a durably, then tells the host. The hook may see the same
// anomaly again when Ping++ redelivers; Anomaly.ID tells them apart.
func (s *Service) anomaly(ctx context.Context, a ledger.Anomaly, objectID string) error {
	a.ID = ledger.AnomalyID(a.Kind, objectID)
	a.CreatedAt = s.cfg.Now().UTC()
	created, err := s.ledger.RecordAnomaly(ctx, a)
	if err != nil {
		return internal("recording anomaly "+a.ID, err)
	}
	if created {
		s.cfg.Logger.ErrorContext(ctx, "pay: payment anomaly", "id", a.ID, "kind", a.Kind, "order_no", a.OrderNo, "detail", a.Detail)
		s.tel.anomaly(ctx, a.Kind)
	} else {
		noteEvent(ctx, eventDuplicate)
	}
	return s.tellAnomaly(ctx, a)
}

func (s *Service) tellAnomaly(ctx context.Context, a ledger.Anomaly) error {
	if s.cfg.OnAnomaly == nil {
		return nil
	}
	if err := s.tel.runHook(ctx, hookOnAnomaly, func(ctx context.Context) error { return s.cfg.OnAnomaly(ctx, a) }); err != nil {
		return fmt.Errorf("pay: OnAnomaly %s: %w", a.ID, err)
	}
	return nil
}

// fulfil runs the host's hook for the paid order o, whose ledger record is
// rec, unless it has run already: OnPaidTx inside the ledger transaction
// that records it, or OnPaid under a claim. Another caller holding the claim
// makes it return an error, so that this report is retried later.
func (s *Service) fulfil(ctx context.Context, o order.Order, rec *ledger.Record) error {
	if !rec.NeedsFulfilment() || s.cfg.OnPaid == nil && s.cfg.OnPaidTx == nil {
		return s.markFulfilled(ctx, o, rec)
	}
	f, err := fulfilment(o, rec)
	if err != nil {
		return err
	}
	if s.cfg.OnPaidTx != nil {
		_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, db any) error {
			if !r.NeedsFulfilment() {
				return errUnchanged
			}
			if err := s.tel.runHook(ctx, hookOnPaidTx, func(ctx context.Context) error { return s.cfg.OnPaidTx(ctx, db, f) }); err != nil {
				return &hookError{err}
			}
			r.FinishFulfilment(r.Fulfilment.Claim, true)
			return nil
		})
		return s.hookOutcome(o.No, err)
	}
	var claim ledger.Claim
	_, err = s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
		c, ok, err := r.ClaimFulfilment(s.cfg.FulfilmentLease)
		if err == nil && !ok {
			return errUnchanged
		}
		claim = c
		return err
	})
	switch {
	case errors.Is(err, errUnchanged):
		return nil
	case errors.Is(err, ledger.ErrFulfilmentBusy):
		return fmt.Errorf("pay: order %s: %w", o.No, err)
	case err != nil:
		return internal("claiming the fulfilment of order "+o.No, err)
	}
	hookErr := s.runClaimed(ctx, o.No, claim, f)
	// Record the result even if the caller has gone: the hook has run. A
	// ledger that is briefly away (a database restart) is waited for, so
	// that a run that succeeded is not run again.
	err = retryLedger(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
			r.FinishFulfilment(claim.Token, hookErr == nil)
			return nil
		})
		return err
	})
	if err != nil {
		return internal("recording the fulfilment of order "+o.No, err)
	}
	if hookErr != nil {
		return s.hookOutcome(o.No, &hookError{hookErr})
	}
	return nil
}

// markFulfilled records a paid order as fulfilled when there is no hook to run.
func (s *Service) markFulfilled(ctx context.Context, o order.Order, rec *ledger.Record) error {
	if !rec.NeedsFulfilment() {
		return nil
	}
	_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
		r.FinishFulfilment(r.Fulfilment.Claim, true)
		return nil
	})
	if err != nil {
		return internal("recording the fulfilment of order "+o.No, err)
	}
	return nil
}

// hookError marks the failure of a host's hook inside a ledger update.
type hookError struct{ err error }

func (e *hookError) Error() string { return e.err.Error() }
func (e *hookError) Unwrap() error { return e.err }

// hookOutcome converts the outcome of a fulfilment run: the hook's own
// failure (a *hookError), or the ledger's.
func (s *Service) hookOutcome(no string, err error) error {
	var he *hookError
	switch {
	case err == nil, errors.Is(err, errUnchanged):
		return nil
	case errors.As(err, &he):
		return fmt.Errorf("pay: fulfilment hook for order %s (it runs again on the next report or reconciliation): %w", no, he.err)
	}
	return internal("recording the fulfilment of order "+no, err)
}

// runClaimed runs OnPaid while it holds claim, renewing the claim every
// third of its lease; the hook's context is cancelled when the claim is lost.
func (s *Service) runClaimed(ctx context.Context, no string, claim ledger.Claim, f Fulfilment) error {
	return s.runLeased(ctx, no, func(r *ledger.Record) error { return r.RenewFulfilment(claim.Token, s.cfg.FulfilmentLease) },
		func(ctx context.Context) error {
			return s.tel.runHook(ctx, hookOnPaid, func(ctx context.Context) error { return s.cfg.OnPaid(ctx, f) })
		})
}

// runLeased runs hook while renew keeps its claim on order no's record,
// every third of FulfilmentLease; the hook's context is cancelled when the
// claim is lost.
func (s *Service) runLeased(ctx context.Context, no string, renew func(r *ledger.Record) error, hook func(ctx context.Context) error) error {
	hookCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := s.renewWhile(hookCtx, no, s.cfg.FulfilmentLease, renew, func() {
		cancel(fmt.Errorf("pay: the claim to run a hook for order %s was lost", no))
	})
	defer stop()
	err := hook(hookCtx)
	stop()
	return err
}

// retryLedger runs fn until it succeeds, for up to a minute, so that a
// ledger restarting under it does not lose an outcome.
func retryLedger(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if sleep(ctx, wait) != nil {
			return err
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// fulfilment is what the hook is told about paid order o.
func fulfilment(o order.Order, rec *ledger.Record) (Fulfilment, error) {
	f := Fulfilment{ID: rec.Fulfilment.ID, Order: o, Payment: *rec.Payment}
	c := rec.Charge(rec.Payment.ChargeID)
	if c == nil {
		return Fulfilment{}, internal("order "+o.No, fmt.Errorf("paying charge %s is not recorded", rec.Payment.ChargeID))
	}
	ch, err := decodeCharge(c)
	if err != nil {
		return Fulfilment{}, err
	}
	f.Charge = ch
	return f, nil
}

// applyRefund records a succeeded refund on its order.
func (s *Service) applyRefund(ctx context.Context, r *pingxx.Refund, ev *pingxx.Event) error {
	if r.Status != "succeeded" && !r.Succeed && r.Status != "failed" {
		s.cfg.Logger.WarnContext(ctx, "pay: refund.succeeded for a refund that has not succeeded ignored", "refund_id", r.ID, "status", r.Status)
		noteEvent(ctx, eventIgnored)
		return nil
	}
	o, err := s.orderOfCharge(ctx, r.ChargeID, metadataString(r.Metadata, "order_no"), r.ChargeOrderNo)
	if errors.Is(err, payorder.ErrOrderNotFound) {
		return s.anomaly(ctx, ledger.Anomaly{
			Kind: ledger.AnomalyUnknownOrder, ChargeID: r.ChargeID, Amount: r.Amount, Event: ev.Raw(),
			Detail: fmt.Sprintf("refund %s of charge %s (order_no %s) succeeded but no order matches it", r.ID, r.ChargeID, r.ChargeOrderNo),
		}, r.ID)
	}
	if err != nil {
		return err
	}
	if why, err := s.foreignRefund(ctx, o.No, r.ChargeID); err != nil || why != "" {
		if why != "" {
			s.cfg.Logger.WarnContext(ctx, "pay: refund of a foreign charge ignored", "refund_id", r.ID, "charge_id", r.ChargeID, "foreign", why)
			noteEvent(ctx, eventIgnored)
		}
		return err
	}
	if r.Status == "failed" {
		return s.refundFailedEvent(ctx, o, r)
	}
	refund := ledger.Refund{ID: r.ID, ChargeID: r.ChargeID, Amount: r.Amount, SucceededAt: time.Unix(r.TimeSucceed, 0).UTC(), EventID: ev.ID,
		RequestID: metadataString(r.Metadata, MetadataRefundRequestID)}
	rec, err := s.ledger.Update(ctx, o.No, func(rec *ledger.Record, _ any) error {
		if !rec.ApplyRefund(refund) {
			return errUnchanged
		}
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		noteEvent(ctx, eventDuplicate)
	case err != nil:
		return internal("recording refund "+r.ID, err)
	default:
		s.cfg.Logger.InfoContext(ctx, "pay: refund", "order_no", o.No, "refund_id", r.ID, "amount", r.Amount, "status", rec.Status())
	}
	// Also after a redelivery: the aftercare of the first may have failed.
	return s.afterRefunds(ctx, o)
}

// foreignRefund reports why a refund of charge chargeID of order no does
// not concern this service: its charge is of another app or mode. A charge
// the ledger does not know (the refund came before its payment) is asked of
// Ping++.
func (s *Service) foreignRefund(ctx context.Context, no, chargeID string) (string, error) {
	rec, err := s.ledger.Read(ctx, no)
	if err != nil {
		return "", internal("reading the ledger of order "+no, err)
	}
	if c := rec.Charge(chargeID); c != nil {
		return s.foreign(c.AppID, c.Livemode), nil
	}
	c, err := s.gw.RetrieveCharge(ctx, chargeID)
	if err != nil {
		return "", payorder.NewError(payorder.CodePaymentFailed, "asking Ping++ for refunded charge "+chargeID, err)
	}
	return s.foreign(c.App, c.Livemode), nil
}

// orderOfCharge finds the host's order a charge belongs to: the order the
// ledger recorded it for, else the merchant order number in its metadata,
// else (a charge made without payorder's metadata) the number it was made
// with.
func (s *Service) orderOfCharge(ctx context.Context, chargeID, metadataNo, pingppNo string) (order.Order, error) {
	no, err := s.ledger.OrderOfCharge(ctx, chargeID)
	switch {
	case errors.Is(err, ledger.ErrNotFound) && metadataNo != "":
		no = metadataNo
	case errors.Is(err, ledger.ErrNotFound):
		no = pingppNo
	case err != nil:
		return order.Order{}, internal("finding the order of charge "+chargeID, err)
	}
	if !order.ValidNo(no) {
		return order.Order{}, payorder.NewError(payorder.CodeOrderNotFound, "charge "+chargeID, nil)
	}
	o, err := s.orders.Order(ctx, no)
	if err != nil {
		return order.Order{}, orderLoadFailed(no, err)
	}
	return o, nil
}

func metadataOrderNo(c *pingxx.Charge) string { return metadataString(c.Metadata, "order_no") }

func metadataString(m map[string]any, key string) string {
	if v, ok := m[key]; ok {
		return fmt.Sprint(v)
	}
	return ""
}

// SyncOrder brings the ledger of order no up to date with Ping++: it
// resolves an open attempt whose holder is gone, asks Ping++ for each of the
// order's charges not known paid while it is unpaid, applies a paid one exactly as its
// webhook would, and runs the fulfilment hook if it has not yet succeeded:
// the repair for a webhook that never arrived and a process that died. It
// returns the record as it stands afterwards.
func (s *Service) SyncOrder(ctx context.Context, no string) (*ledger.Record, error) {
	o, err := s.orders.Order(ctx, no)
	if err != nil {
		return nil, orderLoadFailed(no, err)
	}
	rec, err := s.ledger.Read(ctx, no)
	if err != nil {
		return nil, internal("reading the ledger of order "+no, err)
	}
	var errs []error
	for _, a := range rec.Attempts {
		if a.State == ledger.AttemptOpen && !rec.Now.Before(a.HeldUntil) {
			errs = append(errs, s.takeOver(ctx, o, a.ID))
		}
	}
	applied := false // a payment found here runs the hook as its webhook would
	if rec.Payment == nil {
		for _, c := range rec.Charges {
			if !c.PaidAt.IsZero() {
				continue // reported paid already: a payment after close, kept as an anomaly
			}
			ch, err := s.gw.RetrieveCharge(ctx, c.ID)
			if err != nil {
				errs = append(errs, payorder.NewError(payorder.CodePaymentFailed, "asking Ping++ for charge "+c.ID, err))
				continue
			}
			if ch.Paid {
				applied = true
				errs = append(errs, s.applyPaidCharge(ctx, ch, "", chargeJSON(ch)))
			}
		}
	}
	if rec, err = s.ledger.Read(ctx, no); err != nil {
		return nil, internal("reading the ledger of order "+no, err)
	}
	if !applied {
		errs = append(errs, s.fulfil(ctx, o, rec))
	}
	errs = append(errs, s.syncRefunds(ctx, o, rec))
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s.Record(ctx, no)
}

// takeOver takes over open attempt id of o, if its lease has lapsed, and
// resolves it.
func (s *Service) takeOver(ctx context.Context, o order.Order, id string) error {
	var att ledger.Attempt
	var now time.Time
	_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
		a := r.TakeOver(id, s.cfg.LockTTL)
		if a == nil {
			return errUnchanged
		}
		att, now = *a, r.Now
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return nil
	}
	if err != nil {
		return internal("taking over attempt "+id, err)
	}
	return s.resolve(ctx, o, att, now)
}

// Record returns what the ledger holds about order no.
func (s *Service) Record(ctx context.Context, no string) (*ledger.Record, error) {
	rec, err := s.ledger.Read(ctx, no)
	if err != nil {
		return nil, internal("reading the ledger of order "+no, err)
	}
	return rec, nil
}

// Reconcile runs SyncOrder for every order with open work: an open attempt,
// a refund whose outcome is unknown or pending, a paid order or succeeded
// refund whose hook has not yet succeeded, an unpaid charge live or expired
// within lookback. It is the job for a host's cron (the example
// server runs it every minute); its cost follows the open work, never the
// ledger's history. It goes on past failures and returns them joined.
func (s *Service) Reconcile(ctx context.Context, lookback time.Duration) error {
	due, err := s.ledger.Due(ctx, s.cfg.Now().Add(-lookback))
	if err != nil {
		s.tel.reconciled(ctx, 0, 0, false)
		return internal("listing orders with open work", err)
	}
	var errs []error
	for _, no := range due {
		if _, err := s.SyncOrder(ctx, no); err != nil {
			errs = append(errs, fmt.Errorf("order %s: %w", no, err))
		}
	}
	s.tel.reconciled(ctx, len(due), len(errs), true)
	return errors.Join(errs...)
}

// Anomalies returns the payment anomalies recorded so far, oldest first:
// double payments and payments of closed orders to refund, mismatches and
// payments for unknown orders to look into.
func (s *Service) Anomalies(ctx context.Context) ([]ledger.Anomaly, error) {
	return s.ledger.Anomalies(ctx)
}
