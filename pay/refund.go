package pay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Metadata keys payorder puts in every refund it asks for, so that a refund
// found by listing is known by its request id, and its webhook finds its order.
const (
	MetadataRefundRequestID = "refund_request_id"
	metadataOrderNoKey      = "order_no"
)

// RefundSettle is how long after a refund request was sent without an
// answer it may still be looked for quietly. Not among its charge's refunds
// by then, it becomes a refund_unconfirmed anomaly for a person, and its
// attempt keeps holding its amount: nothing proves it will not land (a
// request held up in the network, a paused process), so payorder never
// decides on its own that it failed. It is recorded when it is found, by a
// call with the same request id, by Reconcile or by its refund.succeeded
// event; a person who finds no such refund in the Ping++ dashboard frees
// its amount with AbandonRefund.
const RefundSettle = 5 * time.Minute

// RefundRequest is a refund an operator asks for (Service.Refund).
type RefundRequest struct {
	// ID is the caller's refund request id, 1 to 64 letters, digits, '-'
	// or '_', unique within the order: its idempotency key. A second call
	// with the same ID never refunds again, whatever became of the first
	// call's answer; it reports the first refund's outcome. Required.
	ID string
	// Description is the reason, shown to the buyer by some channels; 1 to
	// 255 characters. Required by Ping++.
	Description string
	// ChargeID is the charge to refund; default: the charge that paid the
	// order. Any charge of the order that Ping++ reported paid may be named
	// (a double payment, a payment after close).
	ChargeID string
	// Anomaly is the id of a double_payment or paid_after_close anomaly of
	// the order (Service.Anomalies): the refund is of its charge, by default
	// in full, and the anomaly is marked resolved once that charge is
	// refunded in full. It excludes ChargeID.
	Anomaly string
	// Metadata is sent with the refund; the keys order_no and
	// refund_request_id are payorder's.
	Metadata map[string]any
	// FundingSource is WeChat's and QQ's source of the money:
	// "unsettled_funds" (Ping++'s default) or "recharge_funds".
	FundingSource string
}

// RefundNotice is what OnRefunded is told about a succeeded refund.
type RefundNotice struct {
	// ID is the same for every call about the same refund: a host whose
	// effect must not repeat keeps it with the effect.
	ID     string
	Order  order.Order
	Refund ledger.Refund
	// Status is the order's status once the refund is counted
	// (partially_refunded or refunded for a refund of the paying charge).
	Status ledger.Status
}

// Refund refunds amount fen (zero: all that is refundable) of order
// orderNo's paying charge, or of the charge req names, on behalf of the
// host (an operator): there is no buyer check. The refund is written to the
// ledger before Ping++ is asked, as an attempt holding its amount, and its
// amount is checked inside that write against the charge's paid amount
// minus what is refunded and what other attempts hold, so that concurrent
// refunds of one order, on any number of instances sharing the ledger,
// never exceed what was paid.
//
// It returns the attempt as the ledger holds it: RefundPending when Ping++
// took the refund and has not finished it (refund.succeeded, or Reconcile,
// finishes it), RefundSucceeded when it is done. An unanswered request is
// resolved by listing the charge's refunds for the request id, never by
// asking again.
//
// Errors (compare with errors.Is):
//   - payorder.ErrInvalidRequest: a missing or malformed request id,
//     description, amount or funding source, an anomaly that is not one of
//     the order's refundable payments, or a request id already used for
//     another refund of the order;
//   - payorder.ErrOrderNotFound: no such order;
//   - payorder.ErrOrderNotPaid: the order, or the charge named, is not paid;
//   - payorder.ErrNothingToRefund: the charge is refunded in full, or the
//     rest is held by refunds still pending;
//   - payorder.ErrRefundTooLarge: amount is more than is refundable;
//   - payorder.ErrRefundRefused: Ping++ or the channel refused it, or it
//     was never sent (its first caller stopped before sending it), or a
//     person abandoned it (the attempt is failed and its amount free
//     again: refund again with a new request id);
//   - payorder.ErrRefundUnknown: the outcome is not known yet; call again
//     with the same request (Reconcile also resolves it). Sent, unanswered
//     and not found RefundSettle later, it is a refund_unconfirmed anomaly
//     and holds its amount until it is found or abandoned (AbandonRefund);
//   - payorder.ErrInternal: the order store or the ledger failed.
//
// A cancelled ctx does not prove that no refund was made: the attempt stays
// in the ledger, holding its amount, until a call with the same id or
// Reconcile finds out.
func (s *Service) Refund(ctx context.Context, orderNo string, amount int64, req RefundRequest) (ledger.RefundAttempt, error) {
	if err := checkRefund(orderNo, amount, req); err != nil {
		return ledger.RefundAttempt{}, err
	}
	o, err := s.orders.Order(ctx, orderNo)
	if err != nil {
		return ledger.RefundAttempt{}, orderLoadFailed(orderNo, err)
	}
	want := ledger.RefundWant{ID: req.ID, ChargeID: req.ChargeID, Amount: amount, Lease: s.cfg.LockTTL}
	if req.Anomaly != "" {
		if want.ChargeID, err = s.anomalyCharge(ctx, o.No, req.Anomaly); err != nil {
			return ledger.RefundAttempt{}, err
		}
		want.AnomalyID = req.Anomaly
	}
	metadata := make(map[string]any, len(req.Metadata)+2)
	maps.Copy(metadata, req.Metadata)
	metadata[metadataOrderNoKey], metadata[MetadataRefundRequestID] = o.No, req.ID
	params, err := json.Marshal(pingxx.RefundParams{Description: req.Description, Metadata: metadata, FundingSource: req.FundingSource})
	if err != nil {
		return ledger.RefundAttempt{}, payorder.NewError(payorder.CodeInvalidRequest, "refund metadata: "+err.Error(), nil)
	}
	want.Params = params
	for range maxSteps {
		var (
			step ledger.RefundStep
			att  ledger.RefundAttempt
			now  time.Time
		)
		_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
			st, a, err := r.BeginRefund(want)
			if err != nil {
				return err
			}
			step, att, now = st, *a, r.Now
			if st == ledger.RefundStepDone || st == ledger.RefundStepWait {
				return errUnchanged
			}
			return nil
		})
		if err != nil && !errors.Is(err, errUnchanged) {
			return ledger.RefundAttempt{}, refundRefusedByLedger(o.No, req.ID, err)
		}
		switch step {
		case ledger.RefundStepDone, ledger.RefundStepClosed:
			if att.State == ledger.RefundSucceeded {
				s.afterRefundsLogged(ctx, o)
			}
			return att, refundOutcome(o.No, att)
		case ledger.RefundStepWait:
			if err := sleep(ctx, pollInterval(att.HeldUntil.Sub(now))); err != nil { // both by the ledger's clock
				return att, payorder.NewError(payorder.CodeRefundUnknown, "gave up waiting for a concurrent call with refund request "+req.ID, err)
			}
			continue
		case ledger.RefundStepResolve:
			return s.findRefund(ctx, o, att, nil)
		}
		return s.sendRefund(ctx, o, att)
	}
	return ledger.RefundAttempt{}, payorder.NewError(payorder.CodeRefundUnknown, "refund "+req.ID+" of order "+o.No+": no outcome", nil)
}

// checkRefund checks what Refund is asked before anything is read.
func checkRefund(no string, amount int64, req RefundRequest) error {
	invalid := func(msg string) error { return payorder.NewError(payorder.CodeInvalidRequest, msg, nil) }
	switch n := utf8.RuneCountInString(req.Description); {
	case !order.ValidNo(no):
		return invalid("order_no must be 1 to 64 letters or digits")
	case !validRequestID(req.ID):
		return invalid("refund request id must be 1 to 64 letters, digits, - or _")
	case n == 0 || n > 255:
		return invalid("refund description must be 1 to 255 characters")
	case amount < 0:
		return invalid("refund amount must be positive, or zero for all that is refundable")
	case req.FundingSource != "" && req.FundingSource != "unsettled_funds" && req.FundingSource != "recharge_funds":
		return invalid("funding_source must be unsettled_funds or recharge_funds")
	case req.Anomaly != "" && req.ChargeID != "":
		return invalid("name the anomaly or the charge to refund, not both")
	}
	return nil
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// anomalyCharge returns the charge of anomaly id, which must be a payment
// of order no that needs a refund.
func (s *Service) anomalyCharge(ctx context.Context, no, id string) (string, error) {
	all, err := s.ledger.Anomalies(ctx)
	if err != nil {
		return "", internal("reading anomalies", err)
	}
	for _, a := range all {
		if a.ID != id {
			continue
		}
		if a.OrderNo != no || a.Kind != ledger.AnomalyDoublePayment && a.Kind != ledger.AnomalyPaidAfterClose {
			break
		}
		return a.ChargeID, nil
	}
	return "", payorder.NewError(payorder.CodeInvalidRequest, "anomaly "+id+" is not a double payment or payment after close of order "+no, nil)
}

// refundRefusedByLedger converts the ledger's refusal to begin a refund.
func refundRefusedByLedger(no, id string, err error) error {
	what := "refund " + id + " of order " + no
	switch {
	case errors.Is(err, ledger.ErrNotPaid):
		return payorder.NewError(payorder.CodeOrderNotPaid, what, nil)
	case errors.Is(err, ledger.ErrNothingToRefund):
		return payorder.NewError(payorder.CodeNothingToRefund, what, nil)
	case errors.Is(err, ledger.ErrRefundTooLarge):
		return payorder.NewError(payorder.CodeRefundTooLarge, what, nil)
	case errors.Is(err, ledger.ErrRefundConflict):
		return payorder.NewError(payorder.CodeInvalidRequest, what+": the request id was used for another refund", nil)
	}
	return internal("beginning "+what, err)
}

// refundOutcome is the error Refund returns for attempt att.
func refundOutcome(no string, att ledger.RefundAttempt) error {
	switch att.State {
	case ledger.RefundPending, ledger.RefundSucceeded:
		return nil
	case ledger.RefundFailed:
		return payorder.NewError(payorder.CodeRefundRefused, "refund "+att.ID+" of order "+no+": "+att.Evidence, nil)
	}
	return payorder.NewError(payorder.CodeRefundUnknown, "refund "+att.ID+" of order "+no+": Ping++'s answer is not known yet; call again with the same request id", nil)
}

// sendRefund asks Ping++ for attempt att's refund, renewing its lease while
// Ping++ is slow, and records the outcome.
func (s *Service) sendRefund(ctx context.Context, o order.Order, att ledger.RefundAttempt) (ledger.RefundAttempt, error) {
	var p pingxx.RefundParams
	if err := json.Unmarshal(att.Params, &p); err != nil {
		return att, internal("decoding refund attempt "+att.ID, err)
	}
	p.Amount = att.Amount
	// Right before the send, in the ledger: still the attempt's holder, and
	// the attempt marked sent. Until then a caller who takes it over knows
	// that it never left, and closes it; a holder paused past its lease
	// sends nothing.
	_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
		return r.PermitRefundSend(att.ID, att.Fence, s.cfg.LockTTL)
	})
	if errors.Is(err, ledger.ErrFenced) {
		// Taken over, or closed as never sent: the ledger has the outcome.
		if rec, rerr := s.ledger.Read(ctx, o.No); rerr == nil {
			if a := rec.RefundAttempt(att.ID); a != nil && a.State != ledger.RefundUnknown {
				return *a, refundOutcome(o.No, *a)
			}
		}
	}
	if err != nil {
		return att, payorder.NewError(payorder.CodeRefundUnknown, "refund "+att.ID+" of order "+o.No+" was not sent: its attempt is no longer this caller's to send; call again with the same request id", err)
	}
	stop := s.renewWhile(ctx, o.No, s.cfg.LockTTL, func(r *ledger.Record) error { return r.RenewRefund(att.ID, att.Fence, s.cfg.LockTTL) }, nil)
	defer stop()
	rf, err := s.gw.CreateRefund(ctx, att.ChargeID, &p)
	stop()
	// The outcome is recorded even if the caller has gone: it is Ping++'s.
	rctx := context.WithoutCancel(ctx)
	var pe *pingxx.Error
	switch {
	case err == nil:
		return s.reportRefund(rctx, o, att.ID, rf, "answered")
	case errors.As(err, &pe) && pe.HTTPStatus < 500 && !errors.Is(err, pingxx.ErrOutcomeUnknown):
		// A 4xx answer proves no refund was made.
		_, uerr := s.ledger.Update(rctx, o.No, func(r *ledger.Record, _ any) error {
			return r.FailRefund(att.ID, att.Fence, "refused: "+pe.Error())
		})
		if uerr != nil && !errors.Is(uerr, ledger.ErrFenced) {
			return att, internal("recording the refusal of refund "+att.ID, uerr)
		}
		att.State = ledger.RefundFailed
		return att, payorder.NewError(payorder.CodeRefundRefused, "refund "+att.ID+" of order "+o.No, err)
	}
	// Anything else may have reached Ping++: look before anything else.
	return s.findRefund(rctx, o, att, err)
}

// findRefund looks for the refund of attempt att, held with its fence,
// among its charge's refunds at Ping++, by the request id it carried in its
// metadata. One found is recorded. Otherwise the attempt stays unknown,
// holding its amount, with its lease ended (a request still on its way may
// yet make it); from RefundSettle after it was sent it is also marked
// unconfirmed, with an anomaly for a person. cause is why the outcome was
// unknown.
func (s *Service) findRefund(ctx context.Context, o order.Order, att ledger.RefundAttempt, cause error) (ledger.RefundAttempt, error) {
	lctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	list, err := s.gw.ListRefunds(lctx, att.ChargeID)
	if err == nil {
		for _, rf := range list {
			if metadataString(rf.Metadata, MetadataRefundRequestID) == att.ID || att.RefundID != "" && rf.ID == att.RefundID {
				return s.reportRefund(ctx, o, att.ID, rf, "found by listing the charge's refunds")
			}
		}
	}
	var (
		saved       ledger.RefundAttempt
		unconfirmed ledger.Anomaly // recorded by this update
	)
	rec, uerr := s.ledger.Update(context.WithoutCancel(ctx), o.No, func(r *ledger.Record, _ any) error {
		a := r.RefundAttempt(att.ID)
		switch {
		case a == nil || a.State != ledger.RefundUnknown:
			return errUnchanged
		case err == nil && r.Now.Sub(a.SentAt) >= RefundSettle:
			n := len(r.Anomalies)
			merr := r.MarkRefundUnconfirmed(att.ID, att.Fence, fmt.Sprintf("refund request %s of %d fen from charge %s got no answer; no refund with %s %s among the charge's %d refunds %s after it was sent",
				att.ID, att.Amount, att.ChargeID, MetadataRefundRequestID, att.ID, len(list), r.Now.Sub(a.SentAt).Round(time.Second)))
			if len(r.Anomalies) > n {
				unconfirmed = r.Anomalies[n]
			}
			return merr
		}
		return r.ReleaseRefund(att.ID, att.Fence)
	})
	switch {
	case errors.Is(uerr, errUnchanged), errors.Is(uerr, ledger.ErrFenced):
		// Another caller settled or took it over: the ledger has its answer.
		now, rerr := s.ledger.Read(ctx, o.No)
		if rerr != nil {
			return att, internal("reading the ledger of order "+o.No, rerr)
		}
		if a := now.RefundAttempt(att.ID); a != nil {
			saved = *a
		}
		return saved, refundOutcome(o.No, saved)
	case uerr != nil:
		return att, internal("recording refund attempt "+att.ID, uerr)
	}
	saved = *rec.RefundAttempt(att.ID)
	if unconfirmed.ID != "" {
		s.cfg.Logger.ErrorContext(ctx, "pay: refund anomaly", "id", unconfirmed.ID, "kind", unconfirmed.Kind, "order_no", o.No, "detail", unconfirmed.Detail)
		s.tel.anomaly(ctx, unconfirmed.Kind)
		if err := s.tellAnomaly(ctx, unconfirmed); err != nil {
			return saved, err
		}
	}
	if !saved.UnconfirmedAt.IsZero() {
		return saved, payorder.NewError(payorder.CodeRefundUnknown, "refund "+att.ID+" of order "+o.No+
			": sent without an answer and not found since; it holds its amount until it is found, or until a person who finds no such refund in the Ping++ dashboard abandons it (Service.AbandonRefund)", nil)
	}
	return saved, payorder.NewError(payorder.CodeRefundUnknown,
		"refund "+att.ID+" of order "+o.No+": Ping++ did not answer; call again with the same request id", errors.Join(cause, err))
}

// reportRefund records what Ping++ said of the refund of attempt id, runs
// the aftercare of a succeeded one, and returns the attempt as saved.
func (s *Service) reportRefund(ctx context.Context, o order.Order, id string, rf *pingxx.Refund, how string) (ledger.RefundAttempt, error) {
	rep := ledger.RefundReport{RefundID: rf.ID, Amount: rf.Amount, Evidence: how, State: ledger.RefundPending}
	switch {
	case rf.Status == "succeeded" || rf.Succeed:
		rep.State = ledger.RefundSucceeded
		rep.SucceededAt = time.Unix(rf.TimeSucceed, 0).UTC()
	case rf.Status == "failed":
		rep.State = ledger.RefundFailed
		rep.Evidence = fmt.Sprintf("%s: failed: %s %s", how, rf.FailureCode, rf.FailureMsg)
	}
	rec, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
		r.ReportRefund(id, rep)
		return nil
	})
	if err != nil {
		return ledger.RefundAttempt{}, internal("recording refund "+rf.ID+" of order "+o.No, err)
	}
	a := rec.RefundAttempt(id)
	if a == nil {
		// A refund named by an event with a request id this order never had.
		s.cfg.Logger.WarnContext(ctx, "pay: refund report for no refund attempt of the order", "order_no", o.No, "request_id", id, "refund_id", rf.ID)
		return ledger.RefundAttempt{}, nil
	}
	att := *a
	s.cfg.Logger.InfoContext(ctx, "pay: refund", "order_no", o.No, "request_id", id, "refund_id", rf.ID, "state", att.State, "how", how)
	if !att.UnconfirmedAt.IsZero() && !att.Holds() {
		if err := s.resolveAnomaly(ctx, o.No, ledger.RefundUnconfirmedAnomalyID(o.No, id), "refund found"); err != nil {
			return att, err
		}
	}
	if att.State == ledger.RefundSucceeded {
		s.afterRefundsLogged(ctx, o)
	}
	return att, refundOutcome(o.No, att)
}

// afterRefundsLogged runs afterRefunds for a caller whose refund succeeded
// whatever the hook does: a failure is logged, and Reconcile tries again.
func (s *Service) afterRefundsLogged(ctx context.Context, o order.Order) {
	if err := s.afterRefunds(ctx, o); err != nil {
		s.cfg.Logger.WarnContext(ctx, "pay: refund aftercare failed; Reconcile runs it again", "order_no", o.No, "err", err)
	}
}

// afterRefunds does what each succeeded refund of o still needs: the
// anomaly of a double payment (or payment after close) whose charge is now
// refunded in full is marked resolved, then the host's OnRefunded hook runs
// under a claim. A refund is done with once both have succeeded.
func (s *Service) afterRefunds(ctx context.Context, o order.Order) error {
	rec, err := s.ledger.Read(ctx, o.No)
	if err != nil {
		return internal("reading the ledger of order "+o.No, err)
	}
	var errs []error
	for _, rf := range rec.Refunds {
		if !rf.Notice.FulfilledAt.IsZero() {
			continue
		}
		if err := s.resolveRefunded(ctx, rec, rf.ChargeID); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, s.noticeRefund(ctx, o, rf))
	}
	return errors.Join(errs...)
}

// resolveRefunded marks resolved the anomalies of charge id, a payment that
// did not pay the order, once it is refunded in full.
func (s *Service) resolveRefunded(ctx context.Context, rec *ledger.Record, id string) error {
	if rec.Payment != nil && rec.Payment.ChargeID == id || !rec.RefundedInFull(id) {
		return nil
	}
	for _, kind := range []ledger.AnomalyKind{ledger.AnomalyDoublePayment, ledger.AnomalyPaidAfterClose} {
		if err := s.resolveAnomaly(ctx, rec.OrderNo, ledger.AnomalyID(kind, id), "refunded in full"); err != nil {
			return err
		}
	}
	return nil
}

// resolveAnomaly marks anomaly id of order no resolved, if it exists, and
// logs why when that changed it.
func (s *Service) resolveAnomaly(ctx context.Context, no, id, why string) error {
	resolved, err := s.ledger.ResolveAnomaly(ctx, id)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
	case err != nil:
		return internal("resolving anomaly "+id, err)
	case resolved:
		s.cfg.Logger.InfoContext(ctx, "pay: anomaly resolved", "id", id, "order_no", no, "why", why)
	}
	return nil
}

// AbandonRefund is for a person who, after a refund_unconfirmed anomaly,
// found no refund with request id requestID in the Ping++ dashboard: it
// closes the attempt as failed, with reason as its evidence, frees its
// amount for other refunds and resolves the anomaly. It looks once more
// first: a refund found is recorded and returned instead, with the outcome
// Refund would give.
//
// Abandoning is that person's statement that the request will not land.
// Should it land all the same, the refund Ping++ reports is still recorded,
// and a refund asked for meanwhile with the freed amount could then be
// refused by Ping++ or refund more than meant: wait until the dashboard has
// shown no such refund for a while. Errors: payorder.ErrInvalidRequest when
// the attempt is not unconfirmed (unknown, marked unconfirmed and held by
// no one), payorder.ErrInternal when the ledger fails.
func (s *Service) AbandonRefund(ctx context.Context, orderNo, requestID, reason string) (ledger.RefundAttempt, error) {
	what := "refund " + requestID + " of order " + orderNo
	switch n := utf8.RuneCountInString(reason); {
	case !order.ValidNo(orderNo):
		return ledger.RefundAttempt{}, payorder.NewError(payorder.CodeInvalidRequest, "order_no must be 1 to 64 letters or digits", nil)
	case n == 0 || n > 255:
		return ledger.RefundAttempt{}, payorder.NewError(payorder.CodeInvalidRequest, "the reason for abandoning a refund must be 1 to 255 characters", nil)
	}
	o, err := s.orders.Order(ctx, orderNo)
	if err != nil {
		return ledger.RefundAttempt{}, orderLoadFailed(orderNo, err)
	}
	rec, err := s.ledger.Read(ctx, orderNo)
	if err != nil {
		return ledger.RefundAttempt{}, internal("reading the ledger of order "+orderNo, err)
	}
	a := rec.RefundAttempt(requestID)
	if a == nil || a.State != ledger.RefundUnknown || a.UnconfirmedAt.IsZero() {
		return ledger.RefundAttempt{}, payorder.NewError(payorder.CodeInvalidRequest, what+" is not unconfirmed: only a refund_unconfirmed one may be abandoned", nil)
	}
	list, err := s.gw.ListRefunds(ctx, a.ChargeID)
	if err != nil {
		return *a, payorder.NewError(payorder.CodeRefundUnknown, what+": cannot look at the charge's refunds before abandoning it", err)
	}
	for _, rf := range list {
		if metadataString(rf.Metadata, MetadataRefundRequestID) == requestID {
			return s.reportRefund(ctx, o, requestID, rf, "found by listing the charge's refunds when asked to abandon it")
		}
	}
	rec, err = s.ledger.Update(ctx, orderNo, func(r *ledger.Record, _ any) error {
		return r.AbandonRefund(requestID, "abandoned: "+reason)
	})
	switch {
	case errors.Is(err, ledger.ErrNotUnconfirmed):
		return ledger.RefundAttempt{}, payorder.NewError(payorder.CodeInvalidRequest, what+" is not unconfirmed any more (another caller holds it or settled it); look at it again", nil)
	case err != nil:
		return ledger.RefundAttempt{}, internal("abandoning "+what, err)
	}
	s.cfg.Logger.WarnContext(ctx, "pay: refund abandoned by a person", "order_no", orderNo, "request_id", requestID, "reason", reason)
	return *rec.RefundAttempt(requestID), s.resolveAnomaly(ctx, orderNo, ledger.RefundUnconfirmedAnomalyID(orderNo, requestID), "refund abandoned")
}

// noticeRefund runs OnRefunded for refund rf of o under a claim, or records
// it done when there is no hook. Another caller holding the claim makes it
// return an error, so that the report is retried later.
func (s *Service) noticeRefund(ctx context.Context, o order.Order, rf ledger.Refund) error {
	if s.cfg.OnRefunded == nil {
		_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
			r.FinishRefundNotice(rf.ID, 0, true)
			return nil
		})
		return ignoreFenced(err, "recording refund "+rf.ID+" done")
	}
	var (
		claim  ledger.Claim
		notice RefundNotice
	)
	_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
		c, ok, err := r.ClaimRefundNotice(rf.ID, s.cfg.FulfilmentLease)
		if err == nil && !ok {
			return errUnchanged
		}
		claim = c
		if refund := r.Refund(rf.ID); refund != nil {
			notice = RefundNotice{ID: refund.Notice.ID, Order: o, Refund: *refund, Status: r.Status()}
		}
		return err
	})
	switch {
	case errors.Is(err, errUnchanged):
		return nil
	case errors.Is(err, ledger.ErrFulfilmentBusy):
		return fmt.Errorf("pay: refund %s of order %s: %w", rf.ID, o.No, err)
	case err != nil:
		return internal("claiming the refund hook of "+rf.ID, err)
	}
	hookErr := s.runLeased(ctx, o.No, func(r *ledger.Record) error { return r.RenewRefundNotice(rf.ID, claim.Token, s.cfg.FulfilmentLease) },
		func(ctx context.Context) error {
			return s.tel.runHook(ctx, hookOnRefunded, func(ctx context.Context) error { return s.cfg.OnRefunded(ctx, notice) })
		})
	// As for OnPaid: a success is recorded even when the caller has gone or
	// the ledger is briefly away, so that it does not run again.
	err = retryLedger(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
			r.FinishRefundNotice(rf.ID, claim.Token, hookErr == nil)
			return nil
		})
		return err
	})
	if err != nil {
		return internal("recording the refund hook of "+rf.ID, err)
	}
	if hookErr != nil {
		s.cfg.Logger.WarnContext(ctx, "pay: refund hook failed; it runs again on the next report or reconciliation", "order_no", o.No, "refund_id", rf.ID, "err", hookErr)
		return fmt.Errorf("pay: refund hook for %s of order %s: %w", rf.ID, o.No, hookErr)
	}
	return nil
}

// syncRefunds brings order o's refund attempts up to date with Ping++: an
// unknown one whose holder is gone is taken over and looked for, a pending
// one is looked up, and the aftercare of succeeded refunds runs.
func (s *Service) syncRefunds(ctx context.Context, o order.Order, rec *ledger.Record) error {
	var errs []error
	for _, a := range rec.RefundAttempts {
		switch {
		case a.State == ledger.RefundUnknown && !rec.Now.Before(a.HeldUntil):
			var att ledger.RefundAttempt
			_, err := s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
				a := r.TakeOverRefund(a.ID, s.cfg.LockTTL)
				if a == nil {
					return errUnchanged
				}
				att = *a
				return nil
			})
			switch {
			case errors.Is(err, errUnchanged):
			case err != nil:
				errs = append(errs, internal("taking over refund attempt "+a.ID, err))
			case att.State != ledger.RefundUnknown:
				s.cfg.Logger.InfoContext(ctx, "pay: refund attempt closed", "order_no", o.No, "request_id", att.ID, "evidence", att.Evidence)
			default:
				if _, err := s.findRefund(ctx, o, att, nil); err != nil && !errors.Is(err, payorder.ErrRefundRefused) && !notYetKnown(err) {
					errs = append(errs, err)
				}
			}
		case a.State == ledger.RefundPending:
			errs = append(errs, s.lookUpPending(ctx, o, a))
		}
	}
	errs = append(errs, s.afterRefunds(ctx, o))
	return errors.Join(errs...)
}

// notYetKnown reports whether err says only that a refund was not found
// yet, within RefundSettle: no failure, nothing to report.
func notYetKnown(err error) bool {
	var pe *payorder.Error
	return errors.As(err, &pe) && pe.Code == payorder.CodeRefundUnknown && pe.Err == nil
}

// lookUpPending asks Ping++ how pending refund attempt a stands.
func (s *Service) lookUpPending(ctx context.Context, o order.Order, a ledger.RefundAttempt) error {
	list, err := s.gw.ListRefunds(ctx, a.ChargeID)
	if err != nil {
		return payorder.NewError(payorder.CodeRefundUnknown, "listing the refunds of charge "+a.ChargeID, err)
	}
	for _, rf := range list {
		if rf.ID == a.RefundID && rf.Status != "pending" {
			_, err := s.reportRefund(ctx, o, a.ID, rf, "looked up")
			if errors.Is(err, payorder.ErrRefundRefused) {
				return nil // recorded: the channel refused it, and its amount is free
			}
			return err
		}
	}
	return nil
}

// refundFailedEvent records what a refund event reports of a refund that
// failed (Ping++ sends none today; a failed refund object is applied all
// the same), if payorder made it.
func (s *Service) refundFailedEvent(ctx context.Context, o order.Order, rf *pingxx.Refund) error {
	id := metadataString(rf.Metadata, MetadataRefundRequestID)
	if id == "" {
		return nil
	}
	_, err := s.reportRefund(ctx, o, id, rf, "event")
	if err == nil || errors.Is(err, payorder.ErrRefundRefused) {
		return nil
	}
	return err
}
