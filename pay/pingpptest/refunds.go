package pingpptest

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/yianpay/payorder/channel"
)

// createRefund serves POST /v1/charges/{id}/refunds (API.md §5): amount
// (optional, default the refundable remainder), description (required),
// metadata, funding_source. The refund starts pending; SucceedRefund or
// FailRefund finishes it.
func (e *Emulator) createRefund(w http.ResponseWriter, _ *http.Request, req *request, c *Charge) error {
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
	writeJSON(w, http.StatusOK, encodeJSON(rf))
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

// SucceedRefund finishes a pending refund successfully, as the channel's
// notice would: the charge's amount_refunded grows and a refund.succeeded
// event is sent. It returns ErrNotFound or ErrRefundDone.
func (e *Emulator) SucceedRefund(id string) error {
	return e.finishRefund(id, func(c *Charge, rf *Refund) *eventState {
		now := e.now()
		rf.Succeed, rf.Status = true, RefundSucceeded
		rf.TimeSucceed = ptr(now.Unix())
		rf.TransactionNo = ptr(transactionNo(channel.Channel(c.Channel), now))
		c.AmountRefunded += rf.Amount
		return e.newEvent(EventRefundSucceeded, c.Livemode, encodeJSON(rf), now)
	})
}

// FailRefund makes a pending refund fail as a channel refusal does (HTTP
// 200, status failed, samples/errors/R1.http), with no event. It returns
// ErrNotFound or ErrRefundDone.
func (e *Emulator) FailRefund(id, message string) error {
	return e.finishRefund(id, func(c *Charge, rf *Refund) *eventState {
		rf.Status = RefundFailed
		rf.FailureCode = ptr("refund_refused_msg")
		rf.FailureMsg = ptr("退款 " + c.Channel + " 已被支付渠道拒绝。来自渠道的信息：" + message)
		return nil
	})
}

func (e *Emulator) finishRefund(id string, finish func(*Charge, *Refund) *eventState) error {
	e.mu.Lock()
	c := e.charges[e.refundCh[id]]
	if c == nil {
		e.mu.Unlock()
		return fmt.Errorf("%w: refund %s", ErrNotFound, id)
	}
	rf := &c.Refunds.Data[refundIndex(c, id)]
	if rf.Status != RefundPending {
		e.mu.Unlock()
		return ErrRefundDone
	}
	ev := finish(c, rf)
	e.mu.Unlock()
	if ev != nil {
		e.dispatch(ev)
	}
	return nil
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
