package pingpptest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/yianpay/payorder/channel"
)

// createRefund serves POST /v1/charges/{id}/refunds (API.md §5): amount
// (optional, default the refundable remainder), description (required),
// metadata, funding_source. The refund starts pending; a test-mode refund
// then finishes by itself as the refund policy says (Config.RefundOutcome,
// Config.RefundDelay, SetRefundPolicy), at once within this request or
// later; SucceedRefund, FailRefund and the control API finish it by hand.
//
// The charge's refunded flag is set as soon as a refund exists, whatever its
// outcome, as Ping++ documents the field ("是否存在退款信息，无论退款是否成功");
// amount_refunded counts succeeded refunds only.
func (e *Emulator) createRefund(w http.ResponseWriter, _ *http.Request, req *request, c *Charge) error {
	e.refundRequests.Add(1)
	f, err := decodeObject(req.body)
	if err != nil {
		return err
	}
	desc, err := f.required("description")
	if err != nil {
		return err
	}
	if utf8.RuneCountInString(desc) > maxDescription {
		return invalidParam("description", fmt.Sprintf("参数 description 不能超过 %d 个字符。", maxDescription))
	}
	amount, hasAmount, err := f.integer("amount")
	if err != nil || hasAmount && amount <= 0 {
		return invalidParam("amount", "参数 amount 必须是大于 0 的整数（单位：分）。")
	}
	meta, err := metadata(f)
	if err != nil {
		return err
	}
	funding, err := f.str("funding_source")
	if err != nil {
		return err
	}
	if funding != "" && funding != "unsettled_funds" && funding != "recharge_funds" {
		return invalidParam("funding_source", "参数 funding_source 只能是 unsettled_funds 或 recharge_funds。")
	}
	if !c.Paid {
		return invalidParam("", "Charge "+c.ID+" 尚未支付，不能退款。")
	}
	refundable := c.Amount
	for _, rf := range c.Refunds.Data {
		if rf.Status != RefundFailed {
			refundable -= rf.Amount
		}
	}
	if refundable <= 0 {
		return invalidParam("", "不能对订单号 "+c.OrderNo+" 发起退款，因为已经全额退款了。Charge id: "+c.ID+"。")
	}
	if !hasAmount {
		amount = refundable
	}
	if amount > refundable {
		return invalidParam("amount", fmt.Sprintf("退款金额 %d 超过可退金额 %d。", amount, refundable))
	}
	id := newID("re_")
	rf := Refund{
		ID: id, Object: "refund", OrderNo: strings.TrimPrefix(id, "re_"), Amount: amount,
		Created: e.now().Unix(), Status: RefundPending, Description: desc, Metadata: meta,
		Charge: c.ID, ChargeOrderNo: c.OrderNo, FundingSource: funding,
	}
	c.Refunded = true
	c.Refunds.Data = append([]Refund{rf}, c.Refunds.Data...)
	e.refundCh[id] = c.ID
	e.refundsMade.Add(1)
	if !c.Livemode {
		e.planRefund(c, id)
	}
	writeJSON(w, http.StatusOK, encodeJSON(c.Refunds.Data[refundIndex(c, id)]))
	return nil
}

// listRefunds serves GET /v1/charges/{id}/refunds with limit,
// starting_after and ending_before.
func (e *Emulator) listRefunds(w http.ResponseWriter, r *http.Request, _ *request, c *Charge) error {
	page, more, err := paginate(c.Refunds.Data, func(rf Refund) string { return rf.ID },
		func(Refund) bool { return true }, r.URL.Query())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, encodeJSON(listObject{Object: "list", URL: c.Refunds.URL, HasMore: more, Data: page}))
	return nil
}

// retrieveRefund serves GET /v1/charges/{id}/refunds/{re}.
func (e *Emulator) retrieveRefund(w http.ResponseWriter, r *http.Request, _ *request, c *Charge) error {
	re := r.PathValue("re")
	i := refundIndex(c, re)
	if i < 0 {
		return notFound("refund", re)
	}
	writeJSON(w, http.StatusOK, encodeJSON(c.Refunds.Data[i]))
	return nil
}

func refundIndex(c *Charge, id string) int {
	for i, rf := range c.Refunds.Data {
		if rf.ID == id {
			return i
		}
	}
	return -1
}

// Refund returns a copy of the refund id.
func (e *Emulator) Refund(id string) (Refund, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.charges[e.refundCh[id]]
	if c == nil {
		return Refund{}, false
	}
	return c.Refunds.Data[refundIndex(c, id)], true
}

// RefundOutcome is how a refund finishes by itself (Config.RefundOutcome).
// Its text form, in flags and in the control API's JSON, is "succeed",
// "fail" or "hold".
type RefundOutcome int

// The refund outcomes.
const (
	// RefundSucceeds finishes the refund successfully: status succeeded,
	// the charge's amount_refunded grows, a refund.succeeded event is sent.
	RefundSucceeds RefundOutcome = iota
	// RefundFails makes the refund fail as a channel refusal does (status
	// failed, failure_code refund_refused_msg). Ping++ has no refund.failed
	// event (its documented event types name refund.succeeded only), so
	// none is sent: a client learns of it by retrieving the refund.
	RefundFails
	// RefundStaysPending leaves the refund pending until it is finished by
	// hand.
	RefundStaysPending
)

// String returns the outcome's text form.
func (o RefundOutcome) String() string {
	switch o {
	case RefundSucceeds:
		return "succeed"
	case RefundFails:
		return "fail"
	case RefundStaysPending:
		return "hold"
	}
	return "RefundOutcome(" + strconv.Itoa(int(o)) + ")"
}

// MarshalText returns the outcome's text form.
func (o RefundOutcome) MarshalText() ([]byte, error) {
	if o < RefundSucceeds || o > RefundStaysPending {
		return nil, fmt.Errorf("pingpptest: unknown refund outcome %d", int(o))
	}
	return []byte(o.String()), nil
}

// UnmarshalText reads "succeed", "fail" or "hold" ("pending" also means
// hold).
func (o *RefundOutcome) UnmarshalText(b []byte) error {
	switch string(b) {
	case "succeed":
		*o = RefundSucceeds
	case "fail":
		*o = RefundFails
	case "hold", "pending":
		*o = RefundStaysPending
	default:
		return fmt.Errorf("pingpptest: unknown refund outcome %q (want succeed, fail or hold)", b)
	}
	return nil
}

// RefundPolicy is how new test-mode refunds finish by themselves: Outcome
// once Delay has passed on the emulator's clock.
type RefundPolicy struct {
	Outcome RefundOutcome
	Delay   time.Duration
}

// RefundPolicy returns the policy for new test-mode refunds; it starts as
// Config.RefundOutcome and Config.RefundDelay.
func (e *Emulator) RefundPolicy() RefundPolicy {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.policy
}

// SetRefundPolicy changes how the test-mode refunds created from now on
// finish; refunds already pending keep their plan.
func (e *Emulator) SetRefundPolicy(p RefundPolicy) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.policy = p
}

// refundPlan is how and when a pending refund finishes by itself.
type refundPlan struct {
	outcome RefundOutcome
	due     time.Time
}

// defaultRefusal is the channel's text in a refused refund's failure_msg
// (samples/errors/R1.http).
const defaultRefusal = "交易未结算资金不足，请使用可用余额退款"

// planRefund applies the refund policy to the new refund id of c: it
// finishes it now, or schedules it. The caller holds e.mu.
func (e *Emulator) planRefund(c *Charge, id string) {
	p := e.policy
	switch {
	case p.Outcome == RefundStaysPending:
		return
	case p.Delay <= 0:
		if ev := e.settle(c, id, p.Outcome, defaultRefusal); ev != nil {
			e.dispatchLocked(ev)
		}
		return
	}
	e.plans[id] = refundPlan{outcome: p.Outcome, due: e.now().Add(p.Delay)}
	if e.closed {
		return
	}
	e.workers.Add(1)
	go e.awaitRefund(id)
}

// awaitRefund finishes the refund id when its plan falls due: after its
// delay in real time, or sooner when Advance moves the clock past it. It
// returns early when the plan is dropped (finished or held by hand).
func (e *Emulator) awaitRefund(id string) {
	defer e.workers.Done()
	for {
		e.mu.Lock()
		p, ok := e.plans[id]
		advanced := e.advanced
		e.mu.Unlock()
		if !ok {
			return
		}
		wait := p.due.Sub(e.now())
		if wait <= 0 {
			e.finishDueRefunds()
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-advanced:
		case <-e.done:
			t.Stop()
			return
		}
		t.Stop()
	}
}

// finishDueRefunds finishes every planned refund whose time has come, oldest
// plan first, and sends their events.
func (e *Emulator) finishDueRefunds() {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.now()
	due := make([]string, 0, len(e.plans))
	for id, p := range e.plans {
		if !now.Before(p.due) {
			due = append(due, id)
		}
	}
	slices.SortFunc(due, func(a, b string) int { return e.plans[a].due.Compare(e.plans[b].due) })
	for _, id := range due {
		c := e.charges[e.refundCh[id]]
		if ev := e.settle(c, id, e.plans[id].outcome, defaultRefusal); ev != nil {
			e.dispatchLocked(ev)
		}
	}
}

// settle finishes the pending refund id of c with outcome and drops its
// plan; it returns the event to send, if any. The caller holds e.mu.
func (e *Emulator) settle(c *Charge, id string, outcome RefundOutcome, message string) *eventState {
	delete(e.plans, id)
	rf := &c.Refunds.Data[refundIndex(c, id)]
	now := e.now()
	switch outcome {
	case RefundSucceeds:
		rf.Succeed, rf.Status = true, RefundSucceeded
		rf.TimeSucceed = ptr(now.Unix())
		rf.TransactionNo = ptr(transactionNo(channel.Channel(c.Channel), now))
		c.AmountRefunded += rf.Amount
		return e.newEvent(EventRefundSucceeded, c.Livemode, encodeJSON(rf), now)
	case RefundFails:
		rf.Status = RefundFailed
		rf.FailureCode = ptr("refund_refused_msg")
		rf.FailureMsg = ptr("退款 " + c.Channel + " 已被支付渠道拒绝。来自渠道的信息：" + message)
	}
	return nil
}

// byHand finishes the refund id by hand: finish runs, with e.mu held, when
// the refund is pending. A refund that already has the status same is left
// as it is (nil); any other finished refund is ErrRefundDone.
func (e *Emulator) byHand(id, same string, finish func(c *Charge)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.charges[e.refundCh[id]]
	if c == nil {
		return fmt.Errorf("%w: refund %s", ErrNotFound, id)
	}
	switch c.Refunds.Data[refundIndex(c, id)].Status {
	case RefundPending:
		finish(c)
		return nil
	case same:
		return nil
	}
	return ErrRefundDone
}

// SucceedRefund finishes a pending refund successfully, as the channel's
// notice would: the charge's amount_refunded grows and a refund.succeeded
// event is sent. A refund that has succeeded already (by itself, under the
// refund policy) is left as it is, without a second event. It returns
// ErrNotFound, or ErrRefundDone for a refund that failed.
func (e *Emulator) SucceedRefund(id string) error {
	return e.byHand(id, RefundSucceeded, func(c *Charge) {
		if ev := e.settle(c, id, RefundSucceeds, ""); ev != nil {
			e.dispatchLocked(ev)
		}
	})
}

// FailRefund makes a pending refund fail as a channel refusal does (HTTP
// 200, status failed, samples/errors/R1.http), with message as the
// channel's text in failure_msg (default: R1's) and no event. It returns
// ErrNotFound or ErrRefundDone.
func (e *Emulator) FailRefund(id, message string) error {
	if message == "" {
		message = defaultRefusal
	}
	return e.byHand(id, "", func(c *Charge) { e.settle(c, id, RefundFails, message) })
}

// HoldRefund keeps a pending refund pending: it will not finish by itself,
// only by SucceedRefund or FailRefund. It returns ErrNotFound or
// ErrRefundDone.
func (e *Emulator) HoldRefund(id string) error {
	return e.byHand(id, "", func(*Charge) { delete(e.plans, id) })
}
