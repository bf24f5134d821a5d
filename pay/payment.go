package pay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Event types the Service acts on; every other type is acknowledged and ignored.
const (
	EventChargeSucceeded = "charge.succeeded"
	EventRefundSucceeded = "refund.succeeded"
)

// Errors of the payment methods (HandleEvent, SyncOrder, Reconcile,
// Anomalies, NewWebhookHandler) of a Service that cannot handle payments.
var (
	// ErrNoPaymentStore: the order store does not implement PaymentStore.
	ErrNoPaymentStore = errors.New("pay: the order store does not implement PaymentStore")
	// ErrModeUnknown: neither Config.Livemode nor the Gateway tells whether
	// the service works in live or test mode.
	ErrModeUnknown = errors.New("pay: Ping++ mode unknown: set Config.Livemode or use a Gateway with a Livemode method")
)

// HandleEvent applies a verified Ping++ event: charge.succeeded marks the
// order paid (once, whatever the number of deliveries) and runs the OnPaid
// hook once; refund.succeeded records the refund. Anything that cannot simply
// be applied (amount or currency mismatch, a second charge paying a paid
// order, an unknown order) is recorded as an anomaly and reported to
// OnAnomaly. Events for another Ping++ app or mode change nothing.
//
// A nil error means the event is durably handled and may be acknowledged; an
// error means it must be delivered again (the store or the hook failed, or
// another delivery of the same payment is running its hook right now).
func (s *Service) HandleEvent(ctx context.Context, ev *pingxx.Event) error {
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
	return nil
}

// KeepUnreadable records a correctly signed webhook payload that cannot be
// read as the event it claims to be, as an AnomalyUnreadableEvent holding the
// payload, so that nothing Ping++ said is lost. Ping++ would send it again
// unchanged, so once it is recorded the delivery may be acknowledged.
func (s *Service) KeepUnreadable(ctx context.Context, payload []byte, cause error) error {
	ps, err := s.paymentStore()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	return s.anomaly(ctx, ps, order.Anomaly{
		Kind: order.AnomalyUnreadableEvent, Event: payload,
		Detail: "signed webhook that payorder cannot read: " + cause.Error(),
	}, hex.EncodeToString(sum[:16]))
}

// paymentStore returns the store for payment handling, which also needs the
// service's mode.
func (s *Service) paymentStore() (PaymentStore, error) {
	ps, ok := s.store.(PaymentStore)
	switch {
	case !ok:
		return nil, ErrNoPaymentStore
	case s.cfg.Livemode == nil:
		return nil, ErrModeUnknown
	}
	return ps, nil
}

// foreign reports why a charge or refund does not concern this service:
// another app or another mode.
func (s *Service) foreign(app string, livemode bool) string {
	if s.cfg.AppID != "" && app != "" && app != s.cfg.AppID {
		return "app " + app
	}
	if livemode != *s.cfg.Livemode {
		return "livemode " + strconv.FormatBool(livemode)
	}
	return ""
}

// applyPaidCharge applies a paid charge reported by event eventID (empty when
// looked up), whose JSON is report.
func (s *Service) applyPaidCharge(ctx context.Context, c *pingxx.Charge, eventID string, report []byte) error {
	ps, err := s.paymentStore()
	if err != nil {
		return err
	}
	if !c.Paid {
		s.cfg.Logger.WarnContext(ctx, "pay: charge.succeeded for an unpaid charge ignored", "charge_id", c.ID, "event_id", eventID)
		return nil
	}
	if why := s.foreign(c.App, c.Livemode); why != "" {
		s.cfg.Logger.WarnContext(ctx, "pay: payment of a foreign charge ignored", "charge_id", c.ID, "event_id", eventID, "foreign", why)
		return nil
	}
	o, err := s.orderOfCharge(ctx, ps, c.ID, metadataOrderNo(c), c.OrderNo)
	if errors.Is(err, payorder.ErrOrderNotFound) {
		return s.anomaly(ctx, ps, order.Anomaly{
			Kind: order.AnomalyUnknownOrder, OrderNo: metadataOrderNo(c), ChargeID: c.ID,
			Amount: c.Amount, Currency: c.Currency, Event: report,
			Detail: fmt.Sprintf("charge %s (order_no %s) was paid but no order matches it", c.ID, c.OrderNo),
		}, c.ID)
	}
	if err != nil {
		return s.internal(ctx, "finding the order of charge "+c.ID, err)
	}
	if a, ok := mismatch(o, c); ok {
		a.Event = report
		return s.anomaly(ctx, ps, a, c.ID)
	}
	payment := order.Payment{
		ChargeID: c.ID, Channel: c.Channel, Amount: c.Amount, Currency: c.Currency,
		TransactionNo: c.TransactionNo, PaidAt: time.Unix(c.TimePaid, 0), EventID: eventID,
	}
	var outcome order.PaymentOutcome
	o, err = ps.UpdateOrder(ctx, o.No, func(o *order.Order) error {
		outcome = o.ApplyPayment(payment)
		return nil
	})
	if err != nil {
		return s.internal(ctx, "marking order "+o.No+" paid", err)
	}
	s.cfg.Logger.InfoContext(ctx, "pay: payment", "order_no", o.No, "charge_id", c.ID, "event_id", eventID, "outcome", outcome)
	switch outcome {
	case order.PaymentDouble:
		return s.anomaly(ctx, ps, order.Anomaly{
			Kind: order.AnomalyDoublePayment, OrderNo: o.No, ChargeID: c.ID, Amount: c.Amount, Currency: c.Currency, Event: report,
			Detail: fmt.Sprintf("order %s, paid by %s, was paid again by %s through %s: refund it", o.No, o.Paid.ChargeID, c.ID, c.Channel),
		}, c.ID)
	case order.PaymentClosed:
		return s.anomaly(ctx, ps, order.Anomaly{
			Kind: order.AnomalyPaidAfterClose, OrderNo: o.No, ChargeID: c.ID, Amount: c.Amount, Currency: c.Currency, Event: report,
			Detail: fmt.Sprintf("order %s was closed before charge %s paid it: refund it", o.No, c.ID),
		}, c.ID)
	}
	return s.fulfil(ctx, ps, o, c)
}

// mismatch checks a paid charge against its order.
func mismatch(o order.Order, c *pingxx.Charge) (order.Anomaly, bool) {
	a := order.Anomaly{OrderNo: o.No, ChargeID: c.ID, Amount: c.Amount, Currency: c.Currency}
	switch {
	case c.Amount != o.Amount:
		a.Kind = order.AnomalyAmountMismatch
		a.Detail = fmt.Sprintf("charge %s paid %d fen for order %s of %d fen", c.ID, c.Amount, o.No, o.Amount)
	case c.Currency != currency(o):
		a.Kind = order.AnomalyCurrencyMismatch
		a.Detail = fmt.Sprintf("charge %s paid in %s for order %s in %s", c.ID, c.Currency, o.No, currency(o))
	default:
		return a, false
	}
	return a, true
}

// fulfil runs the OnPaid hook for a paid order once: it claims the order,
// runs the hook and records the result. Another delivery holding the claim
// makes it return an error, so that this delivery is retried later.
func (s *Service) fulfil(ctx context.Context, ps PaymentStore, o order.Order, c *pingxx.Charge) error {
	if o.Paid == nil || !o.FulfilledAt.IsZero() {
		return nil
	}
	claim := randomID()
	claimed := false
	claimedOrder, err := ps.UpdateOrder(ctx, o.No, func(o *order.Order) error {
		var err error
		claimed, err = o.ClaimFulfilment(s.cfg.Now(), s.cfg.FulfilmentLease, claim)
		return err
	})
	if errors.Is(err, order.ErrFulfilmentBusy) {
		return fmt.Errorf("pay: order %s: %w", o.No, err)
	}
	if err != nil {
		return s.internal(ctx, "claiming the fulfilment of order "+o.No, err)
	}
	o = claimedOrder
	if !claimed {
		return nil
	}
	var hookErr error
	if s.cfg.OnPaid != nil {
		// The claim lapses after the lease: the hook must be done by then,
		// or another report may run it too.
		hookCtx, cancel := context.WithTimeout(ctx, s.cfg.FulfilmentLease*9/10)
		hookErr = s.cfg.OnPaid(hookCtx, o, c)
		cancel()
	}
	// Record the result even if the caller has gone: the hook has run.
	if _, err := ps.UpdateOrder(context.WithoutCancel(ctx), o.No, func(o *order.Order) error {
		o.FinishFulfilment(s.cfg.Now(), claim, hookErr == nil)
		return nil
	}); err != nil {
		return s.internal(ctx, "recording the fulfilment of order "+o.No, err)
	}
	if hookErr != nil {
		s.cfg.Logger.ErrorContext(ctx, "pay: OnPaid failed; it runs again on the next delivery", "order_no", o.No, "err", hookErr)
		return fmt.Errorf("pay: OnPaid for order %s: %w", o.No, hookErr)
	}
	return nil
}

// anomaly records a durably, then tells the host. The hook may see the same
// anomaly again when Ping++ redelivers; Anomaly.ID tells them apart.
func (s *Service) anomaly(ctx context.Context, ps PaymentStore, a order.Anomaly, objectID string) error {
	a.ID = order.AnomalyID(a.Kind, objectID)
	a.CreatedAt = s.cfg.Now()
	created, err := ps.RecordAnomaly(ctx, a)
	if err != nil {
		return s.internal(ctx, "recording anomaly "+a.ID, err)
	}
	if created {
		s.cfg.Logger.ErrorContext(ctx, "pay: payment anomaly", "id", a.ID, "kind", a.Kind, "order_no", a.OrderNo, "detail", a.Detail)
	}
	if s.cfg.OnAnomaly != nil {
		if err := s.cfg.OnAnomaly(ctx, a); err != nil {
			return fmt.Errorf("pay: OnAnomaly %s: %w", a.ID, err)
		}
	}
	return nil
}

// applyRefund records a succeeded refund on its order.
func (s *Service) applyRefund(ctx context.Context, r *pingxx.Refund, ev *pingxx.Event) error {
	ps, err := s.paymentStore()
	if err != nil {
		return err
	}
	if r.Status != "succeeded" && !r.Succeed {
		s.cfg.Logger.WarnContext(ctx, "pay: refund.succeeded for a refund that has not succeeded ignored", "refund_id", r.ID, "status", r.Status)
		return nil
	}
	if why := s.foreign("", ev.Livemode); why != "" {
		s.cfg.Logger.WarnContext(ctx, "pay: foreign refund ignored", "refund_id", r.ID, "foreign", why)
		return nil
	}
	o, err := s.orderOfCharge(ctx, ps, r.ChargeID, metadataString(r.Metadata, "order_no"), r.ChargeOrderNo)
	if errors.Is(err, payorder.ErrOrderNotFound) {
		return s.anomaly(ctx, ps, order.Anomaly{
			Kind: order.AnomalyUnknownOrder, ChargeID: r.ChargeID, Amount: r.Amount, Event: ev.Raw(),
			Detail: fmt.Sprintf("refund %s of charge %s (order_no %s) succeeded but no order matches it", r.ID, r.ChargeID, r.ChargeOrderNo),
		}, r.ID)
	}
	if err != nil {
		return s.internal(ctx, "finding the order of refund "+r.ID, err)
	}
	refund := order.Refund{ID: r.ID, ChargeID: r.ChargeID, Amount: r.Amount, SucceededAt: time.Unix(r.TimeSucceed, 0), EventID: ev.ID}
	o, err = ps.UpdateOrder(ctx, o.No, func(o *order.Order) error {
		o.ApplyRefund(refund)
		return nil
	})
	if err != nil {
		return s.internal(ctx, "recording refund "+r.ID, err)
	}
	s.cfg.Logger.InfoContext(ctx, "pay: refund", "order_no", o.No, "refund_id", r.ID, "amount", r.Amount, "status", o.Status)
	return nil
}

// orderOfCharge finds the order a charge belongs to: by the recorded charge
// id, else by the merchant order number in its metadata, else by its order_no.
func (s *Service) orderOfCharge(ctx context.Context, ps PaymentStore, chargeID string, candidates ...string) (order.Order, error) {
	o, err := ps.OrderByCharge(ctx, chargeID)
	if !errors.Is(err, payorder.ErrOrderNotFound) {
		return o, err
	}
	for _, no := range candidates {
		if no == "" {
			continue
		}
		o, err := ps.Order(ctx, no)
		if !errors.Is(err, payorder.ErrOrderNotFound) {
			return o, err
		}
	}
	return order.Order{}, payorder.NewError(payorder.CodeOrderNotFound, "charge "+chargeID, nil)
}

func metadataOrderNo(c *pingxx.Charge) string { return metadataString(c.Metadata, "order_no") }

func metadataString(m map[string]any, key string) string {
	if v, ok := m[key]; ok {
		return fmt.Sprint(v)
	}
	return ""
}

// SyncOrder asks Ping++ for the charges of order no and applies a paid one
// exactly as its webhook would: the repair for a webhook that never arrived.
// It returns the order as it stands afterwards.
func (s *Service) SyncOrder(ctx context.Context, no string) (order.Order, error) {
	ps, err := s.paymentStore()
	if err != nil {
		return order.Order{}, err
	}
	o, charges, err := s.orderWithCharges(ctx, no)
	if err != nil {
		return order.Order{}, s.loadFailed(ctx, no, err)
	}
	found, err := s.chargesAtPingpp(ctx, o, charges)
	if err != nil {
		return order.Order{}, payorder.NewError(payorder.CodePaymentFailed, "asking Ping++ for the charges of order "+no, err)
	}
	var errs []error
	for _, c := range found {
		if c.Paid {
			errs = append(errs, s.applyPaidCharge(ctx, c, "", chargeJSON(c)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return order.Order{}, err
	}
	return ps.Order(ctx, no)
}

// chargesAtPingpp returns Ping++'s current view of the charges recorded for
// order o: retrieved one by one when the gateway can (ChargeRetriever),
// else found by order number in the app's charge list since the order began.
func (s *Service) chargesAtPingpp(ctx context.Context, o order.Order, charges []order.Charge) ([]*pingxx.Charge, error) {
	if r, ok := s.gw.(ChargeRetriever); ok {
		found := make([]*pingxx.Charge, 0, len(charges))
		for _, c := range charges {
			ch, err := r.RetrieveCharge(ctx, c.ID)
			if err != nil {
				return nil, err
			}
			found = append(found, ch)
		}
		return found, nil
	}
	since := o.CreatedAt
	numbers := []string{o.No}
	for _, c := range charges {
		if since.IsZero() || c.CreatedAt.Before(since) {
			since = c.CreatedAt
		}
		if !slices.Contains(numbers, c.PingppOrderNo) {
			numbers = append(numbers, c.PingppOrderNo)
		}
	}
	if since.IsZero() {
		since = s.cfg.Now().Add(-30 * 24 * time.Hour)
	}
	var found []*pingxx.Charge
	for _, n := range numbers {
		fs, err := s.gw.FindCharges(ctx, n, since.Add(-time.Hour)) // an hour for clock skew
		if err != nil {
			return nil, err
		}
		found = append(found, fs...)
	}
	return found, nil
}

// Reconcile runs SyncOrder for every order that has an unpaid charge live or
// expired within lookback, and for every paid order whose OnPaid hook has not
// yet succeeded: the job for a host's cron (the example server runs it every
// minute). It goes on past failures and returns them joined.
func (s *Service) Reconcile(ctx context.Context, lookback time.Duration) error {
	ps, err := s.paymentStore()
	if err != nil {
		return err
	}
	pending, err := ps.PendingCharges(ctx, s.cfg.Now().Add(-lookback))
	if err != nil {
		return s.internal(ctx, "listing pending charges", err)
	}
	var errs []error
	done := make(map[string]bool)
	for _, c := range pending {
		if done[c.OrderNo] {
			continue
		}
		done[c.OrderNo] = true
		if _, err := s.SyncOrder(ctx, c.OrderNo); err != nil {
			errs = append(errs, fmt.Errorf("order %s: %w", c.OrderNo, err))
		}
	}
	return errors.Join(errs...)
}

// Anomalies returns the payment anomalies recorded so far, oldest first:
// double payments and payments of closed orders to refund, mismatches and
// payments for unknown orders to look into.
func (s *Service) Anomalies(ctx context.Context) ([]order.Anomaly, error) {
	ps, err := s.paymentStore()
	if err != nil {
		return nil, err
	}
	return ps.Anomalies(ctx)
}

// randomID returns 16 random bytes in hex.
func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
