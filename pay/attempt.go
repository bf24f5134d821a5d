package pay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingxx"
)

// errUnchanged makes an Update that decided to change nothing roll back.
var errUnchanged = errors.New("pay: nothing to save")

// maxSteps bounds the rounds of obtainCharge: waits are bounded by ctx, and
// every other round closes an attempt or takes a number, so a call that
// needs more is stuck on a fault worth reporting.
const maxSteps = 1000

// obtainCharge gets a charge of o on ch when the ledger, as read in rec,
// held none live: it waits while another caller holds the order's attempt,
// takes over one whose holder's lease lapsed and finds out what it made, or
// begins an attempt and asks Ping++.
func (s *Service) obtainCharge(ctx context.Context, o order.Order, ch channel.Channel, req payRequest, extraKey string, rec *ledger.Record) (*Charge, error) {
	if err := o.Validate(); err != nil {
		// The host holds an order Ping++ cannot be asked to charge.
		return nil, internal("order "+o.No+" from the store", err)
	}
	group := ledger.Group(ch)
	unlock, err := s.locks.lock(ctx, o.No+"/"+group)
	if err != nil {
		return nil, gaveUp(o.No, err)
	}
	defer unlock()
	taken := make(map[string]bool) // Ping++ numbers found held by other orders
	refusedOnce := false
	for round := range maxSteps {
		// The first round works from the caller's read: Begin decides
		// under the row lock anyway, and sees what changed since.
		if round > 0 {
			if rec, err = s.ledger.Read(ctx, o.No); err != nil {
				return nil, internal("reading the ledger of order "+o.No, err)
			}
		}
		if a := rec.OpenAttempt(group); a != nil && rec.Now.Before(a.HeldUntil) && rec.Payment == nil {
			// Another instance is asking Ping++: wait for its charge, or
			// for its lease to lapse.
			if err := sleep(ctx, pollInterval(a.HeldUntil.Sub(rec.Now))); err != nil {
				return nil, gaveUp(o.No, err)
			}
			continue
		}
		number, err := s.newNumber(ctx, o, rec, ch, taken)
		if err != nil {
			return nil, err
		}
		params := s.chargeParams(o, ch, req, number)
		body, err := json.Marshal(params)
		if err != nil {
			return nil, payorder.NewError(payorder.CodeInvalidChannel, "extra: "+err.Error(), nil)
		}
		want := ledger.Want{
			Channel: ch, ExtraKey: extraKey, Amount: o.Amount, Currency: o.CurrencyOrDefault(),
			Margin: s.cfg.ReuseMargin, Lease: s.cfg.LockTTL, MaxLive: s.cfg.MaxLiveCharges,
			New: ledger.Attempt{ID: randomID("att_"), Channel: ch, ExtraKey: extraKey, PingppOrderNo: number, Params: body},
		}
		var (
			step ledger.Step
			att  ledger.Attempt
			live ledger.Charge
			now  time.Time
		)
		_, err = s.ledger.Update(ctx, o.No, func(r *ledger.Record, _ any) error {
			st, a, c, err := r.Begin(want)
			if err != nil {
				return err
			}
			step, now = st, r.Now
			if a != nil {
				att = *a
			}
			if c != nil {
				live = *c
			}
			if st == ledger.StepReuse || st == ledger.StepWait {
				return errUnchanged
			}
			return nil
		})
		switch {
		case err == nil, errors.Is(err, errUnchanged):
		case errors.Is(err, ledger.ErrNumberTaken):
			taken[number] = true
			continue
		case errors.Is(err, ledger.ErrPaid):
			return nil, order.NotPayable(order.MessagePaid, "order "+o.No+" is paid")
		case errors.Is(err, ledger.ErrTooManyCharges):
			return nil, payorder.NewError(payorder.CodeTooManyCharges, fmt.Sprintf("order %s has %d live charges", o.No, s.cfg.MaxLiveCharges), nil)
		default:
			return nil, internal("beginning a payment attempt for order "+o.No, err)
		}
		switch step {
		case ledger.StepReuse:
			return recordedCharge(&live), nil
		case ledger.StepWait:
			continue
		case ledger.StepResolve:
			if err := s.resolve(ctx, o, att, now); err != nil {
				return nil, err
			}
			continue
		}
		c, next, err := s.send(ctx, o, att)
		switch {
		case next == lookAgain && err == nil:
		case next == refused && !refusedOnce:
			// The number was used before this ledger knew the order (by
			// the backend payorder replaces): once more, with the next.
			refusedOnce = true
			taken[number] = true
		case next == refused:
			return nil, payorder.NewError(payorder.CodePaymentFailed, "order "+o.No+": Ping++ refused two order numbers", err)
		case err != nil:
			return nil, err
		default:
			return freshCharge(c), nil
		}
	}
	return nil, payorder.NewError(payorder.CodePaymentFailed, "order "+o.No+": no charge after "+strconv.Itoa(maxSteps)+" rounds", nil)
}

// gaveUp is the error of a caller that stopped waiting for another's attempt.
func gaveUp(no string, err error) error {
	return payorder.NewError(payorder.CodePaymentFailed, "gave up waiting for a concurrent payment of order "+no, err)
}

// pollInterval is how long a waiter sleeps before looking at the ledger
// again: 10–50 ms, and no longer than the holder's lease has left.
func pollInterval(leaseLeft time.Duration) time.Duration {
	d := 10*time.Millisecond + rand.N(40*time.Millisecond)
	return max(min(d, leaseLeft), time.Millisecond)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// next is what the caller of send does next.
type next int

const (
	answer    next = iota // answer the charge or error returned
	lookAgain             // the attempt was lost to another caller: look at the ledger again
	refused               // the channel refused the order number: try the next one
)

// send asks Ping++ for attempt att's charge, with the request written in
// the attempt, and records the outcome under att's fencing token. It
// returns the charge when it recorded it as the attempt's.
func (s *Service) send(ctx context.Context, o order.Order, att ledger.Attempt) (*pingxx.Charge, next, error) {
	var params pingxx.ChargeParams
	if err := json.Unmarshal(att.Params, &params); err != nil {
		return nil, answer, internal("decoding attempt "+att.ID, err)
	}
	stop := s.holdWhile(ctx, o.No, att)
	defer stop()
	charge, err := s.gw.CreateCharge(ctx, &params)
	stop()
	// The outcome is recorded even if the caller has gone: it is Ping++'s.
	rctx := context.WithoutCancel(ctx)
	if err != nil {
		if errors.Is(err, pingxx.ErrOutcomeUnknown) || ctx.Err() != nil {
			return s.lookUpUnknown(rctx, o, att, &params, err)
		}
		// A refusal (4xx) proves no charge was made.
		recorded := s.finish(rctx, o.No, att, func(r *ledger.Record) error {
			return r.Finish(att.ID, att.Fence, ledger.AttemptFailed, nil, "refused: "+err.Error())
		})
		if recorded == nil && refusedNumber(err, att.Channel) {
			return nil, refused, err
		}
		return nil, answer, payorder.NewError(payorder.CodePaymentFailed, "creating a charge for order "+o.No, errors.Join(err, unrecorded(recorded)))
	}
	if err := s.verify(o.No, &params, charge); err != nil {
		closed := s.closeMismatched(rctx, o.No, att, []*pingxx.Charge{charge}, err.Error())
		return nil, answer, payorder.NewError(payorder.CodePaymentFailed, "creating a charge for order "+o.No, errors.Join(err, unrecorded(closed)))
	}
	rec := chargeRecord(charge, att)
	err = s.finish(rctx, o.No, att, func(r *ledger.Record) error {
		return r.Finish(att.ID, att.Fence, ledger.AttemptCharged, &rec, "")
	})
	switch {
	case errors.Is(err, ledger.ErrFenced):
		// Another caller took the attempt over while this one waited on
		// Ping++ (a pause past the lease): the ledger's answer wins, and
		// this charge is kept as the order's, never handed out.
		if err := s.finish(rctx, o.No, att, func(r *ledger.Record) error { r.AddOrphan(rec); return nil }); err != nil {
			return nil, answer, internal("keeping charge "+charge.ID+" of order "+o.No, err)
		}
		s.cfg.Logger.WarnContext(ctx, "pay: attempt taken over while it waited on Ping++; its charge is kept, not handed out",
			"order_no", o.No, "attempt", att.ID, "charge_id", charge.ID)
		return nil, lookAgain, nil
	case err != nil:
		// Left open: the next caller's identical create or lookup finds it.
		return nil, answer, internal("recording charge "+charge.ID+" of order "+o.No, err)
	}
	return charge, answer, nil
}

// lookUpUnknown looks for the charge of attempt att, whose create got no
// answer (cause), among the charges Ping++ made since the attempt began. A
// charge found is recorded and returned. Otherwise the attempt is left open
// with its lease ended, for the next caller to resolve: a request still on
// its way may yet make the charge.
func (s *Service) lookUpUnknown(ctx context.Context, o order.Order, att ledger.Attempt, params *pingxx.ChargeParams, cause error) (*pingxx.Charge, next, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	found, err := s.gw.FindCharges(ctx, att.PingppOrderNo, att.StartedAt.Add(-lookupSkew), time.Time{})
	var others []ledger.Charge // this order's, but not what the attempt asked for
	for _, c := range found {
		if s.verify(o.No, params, c) != nil {
			if metadataOrderNo(c) == o.No {
				others = append(others, chargeRecord(c, ledger.Attempt{}))
			}
			continue
		}
		rec := chargeRecord(c, att)
		err := s.finish(ctx, o.No, att, func(r *ledger.Record) error {
			return r.Finish(att.ID, att.Fence, ledger.AttemptCharged, &rec, "found after an unanswered create")
		})
		if err == nil {
			s.tel.unknownOutcome(ctx, att.Channel, triggerNoAnswer, resolvedByListing)
			return c, answer, nil
		}
		return nil, lookAgain, ignoreFenced(err, "recording charge "+c.ID+" of order "+o.No)
	}
	s.tel.unknownOutcome(ctx, att.Channel, triggerNoAnswer, resolvedLeftOpen)
	released := s.finish(ctx, o.No, att, func(r *ledger.Record) error {
		for _, c := range others {
			r.AddOrphan(c) // as resolve keeps them: a payment of one is this order's
		}
		return r.Release(att.ID, att.Fence)
	})
	return nil, answer, payorder.NewError(payorder.CodePaymentFailed,
		"Ping++ did not answer the create for order "+o.No+"; the next call finds out what it made", errors.Join(cause, err, unrecorded(released)))
}

// unrecorded describes the failure to record an attempt's outcome, which
// the caller's answer carries beside its own cause: the attempt then stays
// open until its lease lapses, and the next caller resolves it. Nil for
// nil, and for ErrFenced (another caller holds the attempt and records its
// own outcome).
func unrecorded(err error) error {
	if err == nil || errors.Is(err, ledger.ErrFenced) {
		return nil
	}
	return fmt.Errorf("pay: the outcome could not be recorded; the attempt is left for the next caller: %w", err)
}

// finish runs fn on the order's record, for an outcome of attempt att.
func (s *Service) finish(ctx context.Context, no string, att ledger.Attempt, fn func(r *ledger.Record) error) error {
	_, err := s.ledger.Update(ctx, no, func(r *ledger.Record, _ any) error { return fn(r) })
	return err
}

// holdWhile renews att's lease every third of it until stop is called, so
// that a holder waiting on a slow Ping++ keeps its attempt; a holder paused
// past the lease loses it, and its fencing token with it.
func (s *Service) holdWhile(ctx context.Context, no string, att ledger.Attempt) (stop func()) {
	return s.renewWhile(ctx, no, s.cfg.LockTTL, func(r *ledger.Record) error { return r.Renew(att.ID, att.Fence, s.cfg.LockTTL) }, nil)
}

// renewWhile runs renew on order no's record every third of lease, until
// stop is called: the lease of an attempt or a claim kept while its holder
// works. lost, when set, is called once the lease may be lost: renew
// answered ledger.ErrFenced, or renewals have failed (the ledger away) for
// so long that the lease may have lapsed by the ledger's clock; renewing
// stops then. stop may be called more than once: callers defer it, so that
// a panic in the work does not leave the lease renewed for ever.
func (s *Service) renewWhile(ctx context.Context, no string, lease time.Duration, renew func(r *ledger.Record) error, lost func()) (stop func()) {
	period := lease / 3
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(period)
		defer t.Stop()
		// The lease lasts at least a lease from the start of its last
		// renewal; the lease taken before this began is given a third of
		// it less, for the time between its take and now.
		renewed := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				began := time.Now()
				_, err := s.ledger.Update(ctx, no, func(r *ledger.Record, _ any) error { return renew(r) })
				switch {
				case err == nil:
					renewed = began
				case lost == nil:
				case errors.Is(err, ledger.ErrFenced), time.Since(renewed) >= lease-period:
					lost()
					return
				}
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { cancel(); <-done }) }
}

// Resolution of an attempt whose holder's lease lapsed.
const (
	// repeatMargin is kept between an identical repeat's retries and the
	// end of Ping++'s idempotency window.
	repeatMargin = 5 * time.Second
	// lookupSkew widens the time range of a lookup for clock skew between
	// the ledger and Ping++.
	lookupSkew = 5 * time.Minute
)

// resolve finds out what attempt att, taken over at now (the ledger's
// clock), made. While Ping++'s idempotency window still answers a repeat
// with the first charge, it sends the identical request again; after it, it
// lists only the charges Ping++ made around the attempt's start. An attempt
// whose charge is not found is closed as lost, with that evidence, so the
// order can be charged again.
func (s *Service) resolve(ctx context.Context, o order.Order, att ledger.Attempt, now time.Time) error {
	window := att.Channel.Idempotency().Window
	if now.Sub(att.StartedAt) < window/2-repeatMargin {
		c, _, err := s.send(ctx, o, att)
		s.tel.repeated(ctx, att.Channel, c != nil)
		return err
	}
	var params pingxx.ChargeParams
	if err := json.Unmarshal(att.Params, &params); err != nil {
		return internal("decoding attempt "+att.ID, err)
	}
	from, to := att.StartedAt.Add(-lookupSkew), att.StartedAt.Add(window+lookupSkew)
	stop := s.holdWhile(ctx, o.No, att)
	defer stop()
	found, err := s.gw.FindCharges(ctx, att.PingppOrderNo, from, to)
	stop()
	rctx := context.WithoutCancel(ctx)
	if err != nil {
		s.tel.unknownOutcome(ctx, att.Channel, triggerTakeover, resolvedLeftOpen)
		released := s.finish(rctx, o.No, att, func(r *ledger.Record) error { return r.Release(att.ID, att.Fence) })
		return payorder.NewError(payorder.CodePaymentFailed, "looking up an earlier charge of order "+o.No, errors.Join(err, unrecorded(released)))
	}
	for _, c := range found {
		if s.verify(o.No, &params, c) == nil {
			rec := chargeRecord(c, att)
			err := s.finish(rctx, o.No, att, func(r *ledger.Record) error {
				return r.Finish(att.ID, att.Fence, ledger.AttemptCharged, &rec, "found by listing")
			})
			s.tel.tookOver(ctx, att.Channel, resolvedByListing, err)
			return ignoreFenced(err, "recording charge "+c.ID+" of order "+o.No)
		}
	}
	if len(found) > 0 {
		s.tel.unknownOutcome(ctx, att.Channel, triggerTakeover, resolvedMismatch)
		return ignoreFenced(s.closeMismatched(rctx, o.No, att, found, "listed charges differ from the request"), "closing attempt "+att.ID)
	}
	evidence := fmt.Sprintf("no charge with order_no %s among the app's charges created %s to %s",
		att.PingppOrderNo, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	err = s.finish(rctx, o.No, att, func(r *ledger.Record) error {
		return r.Finish(att.ID, att.Fence, ledger.AttemptLost, nil, evidence)
	})
	s.tel.tookOver(ctx, att.Channel, resolvedLost, err)
	return ignoreFenced(err, "closing attempt "+att.ID)
}

// ignoreFenced returns nil for ErrFenced (another caller took the attempt
// over, and the ledger holds its answer) and ErrInternal for other failures.
func ignoreFenced(err error, what string) error {
	if err == nil || errors.Is(err, ledger.ErrFenced) {
		return nil
	}
	return internal(what, err)
}

// closeMismatched closes att as mismatched: Ping++ answered with charges
// that are not what it asked for. Those that say they are this order's are
// kept as orphans, so that a payment of one is known as this order's.
func (s *Service) closeMismatched(ctx context.Context, no string, att ledger.Attempt, charges []*pingxx.Charge, why string) error {
	return s.finish(ctx, no, att, func(r *ledger.Record) error {
		if err := r.Finish(att.ID, att.Fence, ledger.AttemptMismatched, nil, why); err != nil {
			return err
		}
		for _, c := range charges {
			if metadataOrderNo(c) == no {
				r.AddOrphan(chargeRecord(c, ledger.Attempt{}))
			}
		}
		return nil
	})
}

// refusedNumber reports whether err may be Ping++ passing on a channel's
// refusal of an order number it has seen before (WeChat after its 2-hour
// window): a channel error on a channel that refuses reuse.
func refusedNumber(err error, ch channel.Channel) bool {
	var pe *pingxx.Error
	return !ch.Idempotency().NewAfter && errors.As(err, &pe) && pe.Type == "channel_error"
}

// verify checks that Ping++'s charge c is the one params asked for, for
// order no: channel, amount, currency, Ping++ order number, the merchant's
// number in its metadata, the app and the mode, and every extra key it
// echoes. Only such a charge is handed out.
func (s *Service) verify(no string, p *pingxx.ChargeParams, c *pingxx.Charge) error {
	switch {
	case c.ID == "":
		return errors.New("pay: charge without id")
	case c.Channel != p.Channel:
		return fmt.Errorf("pay: charge %s is for channel %s, not %s", c.ID, c.Channel, p.Channel)
	case c.Amount != p.Amount || c.Currency != p.Currency:
		return fmt.Errorf("pay: charge %s is for %d %s, not %d %s", c.ID, c.Amount, c.Currency, p.Amount, p.Currency)
	case c.OrderNo != p.OrderNo:
		return fmt.Errorf("pay: charge %s is for order_no %s, not %s", c.ID, c.OrderNo, p.OrderNo)
	case metadataOrderNo(c) != no:
		return fmt.Errorf("pay: charge %s is for order %q, not %s", c.ID, metadataOrderNo(c), no)
	case c.App != "" && c.App != s.cfg.AppID:
		return fmt.Errorf("pay: charge %s is of app %s, not %s", c.ID, c.App, s.cfg.AppID)
	case c.Livemode != s.cfg.Livemode:
		return fmt.Errorf("pay: charge %s has livemode %v", c.ID, c.Livemode)
	}
	for k, want := range p.Extra {
		if got, ok := c.Extra[k]; ok && !sameJSON(want, got) {
			return fmt.Errorf("pay: charge %s was made with extra.%s %v, not %v", c.ID, k, got, want)
		}
	}
	return nil
}

// sameJSON reports whether a and b encode alike.
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// chargeRecord is the ledger's record of Ping++'s charge c, made by att
// (zero for a charge first seen elsewhere).
func chargeRecord(c *pingxx.Charge, att ledger.Attempt) ledger.Charge {
	return ledger.Charge{
		ID: c.ID, AttemptID: att.ID, PingppOrderNo: c.OrderNo, Channel: c.Channel,
		Amount: c.Amount, Currency: c.Currency, ExtraKey: att.ExtraKey, AppID: c.App, Livemode: c.Livemode,
		CreatedAt: time.Unix(c.Created, 0).UTC(), ExpiresAt: c.ExpiresAt(),
		Orphan: att.ID == "", JSON: chargeJSON(c),
	}
}

// newNumber is the Ping++ order number of a new attempt of o on ch: the
// order's own number for its first attempt, then <no>R2, <no>R3, … (a
// digest of the number where that would be too long for the channel),
// skipping numbers the order used, numbers found taken by other orders, and
// numbers that are other orders' own in the host's store.
func (s *Service) newNumber(ctx context.Context, o order.Order, rec *ledger.Record, ch channel.Channel, taken map[string]bool) (string, error) {
	_, maxLen := ch.OrderNoLength()
	for n := 1; n <= maxSteps; n++ {
		candidate := numberCandidate(o.No, n, maxLen)
		if rec.HasNumber(candidate) || taken[candidate] {
			continue
		}
		if candidate != o.No {
			_, err := s.orders.Order(ctx, candidate)
			if err == nil {
				continue // another order of the host has this number
			}
			if !errors.Is(err, payorder.ErrOrderNotFound) {
				return "", internal("checking order number "+candidate, err)
			}
		}
		return candidate, ch.ValidateOrderNo(candidate)
	}
	return "", payorder.NewError(payorder.CodePaymentFailed, "order "+o.No+": no free Ping++ order number", nil)
}

// numberCandidate is the n-th Ping++ order number of order no.
func numberCandidate(no string, n, maxLen int) string {
	if n == 1 {
		return no
	}
	suffix := "R" + strconv.Itoa(n)
	if len(no)+len(suffix) <= maxLen {
		return no + suffix
	}
	sum := sha256.Sum256([]byte(no))
	return hex.EncodeToString(sum[:])[:maxLen-len(suffix)] + suffix
}

// chargeParams is the create request of a charge of o on ch under Ping++
// order number number.
func (s *Service) chargeParams(o order.Order, ch channel.Channel, req payRequest, number string) *pingxx.ChargeParams {
	metadata := make(map[string]any, len(o.Metadata)+1)
	maps.Copy(metadata, o.Metadata)
	metadata["order_no"] = o.No
	const subjectMax = 32
	subject, body := orDefault(o.Subject, o.No), orDefault(o.Body, o.No)
	if ch.IsUnionPay() {
		subject = truncateBytes(subject, subjectMax)
	} else {
		subject = truncateRunes(subject, subjectMax)
	}
	bodyMax := 128
	if ch == channel.YeepayWap {
		bodyMax = 100
	}
	return &pingxx.ChargeParams{
		AppID: s.cfg.AppID, OrderNo: number, Channel: ch, Amount: o.Amount, Currency: o.CurrencyOrDefault(),
		ClientIP: req.clientIP, Subject: subject, Body: truncateRunes(body, bodyMax),
		Extra: req.extra, Metadata: metadata, TimeExpire: s.chargeExpiry(o, ch),
	}
}

// chargeExpiry is when a new charge on ch stops being payable: the configured
// lifetime capped by the channel's maximum and the order's expiry. Zero leaves
// it to Ping++'s default.
func (s *Service) chargeExpiry(o order.Order, ch channel.Channel) time.Time {
	now := s.cfg.Now()
	lifetime := s.cfg.ChargeLifetime
	if lifetime <= 0 && o.ExpiresAt.IsZero() {
		return time.Time{}
	}
	if lifetime <= 0 {
		lifetime = ch.DefaultExpiry()
	}
	expire := now.Add(min(lifetime, ch.MaxExpiry()))
	if !o.ExpiresAt.IsZero() && o.ExpiresAt.Before(expire) {
		expire = o.ExpiresAt
	}
	if minExpire := now.Add(channel.MinExpiry + 5*time.Second); expire.Before(minExpire) {
		expire = minExpire
	}
	return expire.Truncate(time.Second)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func truncateBytes(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
