package pingpptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/yianpay/payorder/channel"
)

// listWindow is how far back GET /v1/charges looks without a created filter
// (API.md §5: "only about the last month").
const listWindow = 30 * 24 * time.Hour

// createCharge serves POST /v1/charges.
//
// A repeated order_no on the same app, channel and mode follows API.md §2.3
// (channel.Idempotency): inside the window the same order_no, amount,
// subject and body return the first charge; after it a new charge is
// created, or, where Ping++ forwards to a channel that refuses a reused order
// number (WeChat, isv_*), the request fails with 402 channel_error. The same
// order_no with a different amount, subject or body inside the window is
// UNCONFIRMED in Ping++'s documentation; the emulator answers 400
// invalid_request_error with param "order_no".
func (e *Emulator) createCharge(w http.ResponseWriter, r *http.Request, req *request) error {
	e.chargeRequests.Add(1)
	now := e.now()
	p, err := e.parseCharge(req.body, now)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	key := orderKey{app: p.app, orderNo: p.orderNo, channel: string(p.channel), livemode: req.livemode}
	if prev, ok := e.charges[e.byOrderNo[key]]; ok {
		idem := p.channel.Idempotency()
		inWindow := now.Sub(time.Unix(prev.Created, 0)) < idem.Window
		same := prev.Amount == p.amount && prev.Subject == p.subject && prev.Body == p.body
		switch {
		case inWindow && same:
			writeJSON(w, http.StatusOK, e.wire(prev, false))
			return nil
		case inWindow:
			return invalidParam("order_no", fmt.Sprintf(
				"订单号 %s 已用于另一笔支付请求，amount、subject、body 必须与之前的请求一致。", p.orderNo))
		case !idem.NewAfter:
			return &apiError{status: http.StatusPaymentRequired, typ: typeChannel, code: "channel_request_error",
				message: "对支付渠道的请求未能成功。来自 " + string(p.channel) + " 渠道的错误信息：商户订单号重复"}
		}
	}
	c := e.newCharge(p, req.livemode, now)
	c.Credential = credential(c, p.extraMap, baseURL(r)+"/notify/charges/"+c.ID)
	e.charges[c.ID] = c
	e.order = append(e.order, c.ID)
	e.byOrderNo[key] = c.ID
	e.created.Add(1)
	writeJSON(w, http.StatusOK, e.wire(c, false))
	return nil
}

// newCharge builds an unpaid charge from validated parameters.
func (e *Emulator) newCharge(p *chargeParams, livemode bool, now time.Time) *Charge {
	id := newID("ch_")
	expire := p.timeExpire
	if expire == 0 {
		expire = now.Add(p.channel.DefaultExpiry()).Unix()
	}
	return &Charge{
		ID: id, Object: "charge", Created: now.Unix(), Livemode: livemode,
		App: p.app, Channel: string(p.channel), OrderNo: p.orderNo, ClientIP: p.clientIP,
		Amount: p.amount, AmountSettle: p.amount, Currency: p.currency,
		Subject: p.subject, Body: p.body, Extra: p.extra, TimeExpire: expire,
		Refunds:  RefundList{Object: "list", URL: "/v1/charges/" + id + "/refunds", Data: []Refund{}},
		Metadata: p.metadata, Description: p.description,
	}
}

// wire encodes c as the API sends it. With Config.EmptyObjectsAsArrays an
// empty extra, metadata or credential is sent as [], as Ping++'s PHP back end
// sometimes does (API.md §4.4). With expand, the app id becomes an app object
// (expand[]=app; the object's fields beyond id are UNCONFIRMED).
func (e *Emulator) wire(c *Charge, expand bool) []byte {
	out := *c
	if e.cfg.EmptyObjectsAsArrays {
		for _, f := range []*json.RawMessage{&out.Extra, &out.Metadata, &out.Credential} {
			if string(*f) == "{}" {
				*f = json.RawMessage("[]")
			}
		}
	}
	b := encodeJSON(&out)
	if expand {
		// Only scalars precede "app", so its first occurrence is the member.
		app := encodeJSON(ordered{{"id", c.App}, {"object", "app"}, {"livemode", c.Livemode}, {"name", c.App}})
		b = bytes.Replace(b, []byte(`"app":`+string(encodeJSON(c.App))), append([]byte(`"app":`), app...), 1)
	}
	return b
}

// expandApp reports whether the request asks for expand[]=app.
func expandApp(r *http.Request) bool {
	q := r.URL.Query()
	return slices.Contains(q["expand[]"], "app") || slices.Contains(q["expand"], "app")
}

// baseURL is the emulator's own base URL as the client reached it.
func baseURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// charge returns the charge id visible with a key of the given mode, or a
// 404 in Ping++'s words. The caller holds e.mu.
func (e *Emulator) charge(id string, livemode bool) (*Charge, error) {
	c, ok := e.charges[id]
	if !ok || c.Livemode != livemode {
		return nil, notFound("charge", id)
	}
	return c, nil
}

// chargeHandler serves a route under /v1/charges/{id}; it runs with e.mu
// held and the charge looked up.
type chargeHandler func(w http.ResponseWriter, r *http.Request, req *request, c *Charge) error

// onCharge looks the charge of the route up for h, or answers 404.
func (e *Emulator) onCharge(h chargeHandler) handler {
	return func(w http.ResponseWriter, r *http.Request, req *request) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		c, err := e.charge(r.PathValue("id"), req.livemode)
		if err != nil {
			return err
		}
		return h(w, r, req, c)
	}
}

// retrieveCharge serves GET /v1/charges/{id}.
func (e *Emulator) retrieveCharge(w http.ResponseWriter, r *http.Request, _ *request, c *Charge) error {
	writeJSON(w, http.StatusOK, e.wire(c, expandApp(r)))
	return nil
}

// listCharges serves GET /v1/charges with the filters and cursors of API.md
// §5: app[id] (required), limit, starting_after, ending_before, created or
// created[gt|gte|lt|lte], channel, paid, refunded, reversed. Without a
// created filter only the last 30 days are listed.
func (e *Emulator) listCharges(w http.ResponseWriter, r *http.Request, req *request) error {
	q := r.URL.Query()
	app := q.Get("app[id]")
	if app == "" {
		return missing("app[id]")
	}
	if !e.apps[app] {
		return e.unknownApp("app[id]", app)
	}
	keep, err := chargeFilter(q, e.now())
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	all := make([]*Charge, 0, len(e.order))
	for _, id := range slices.Backward(e.order) {
		all = append(all, e.charges[id])
	}
	page, more, err := paginate(all, func(c *Charge) string { return c.ID }, func(c *Charge) bool {
		return c.App == app && c.Livemode == req.livemode && keep(c)
	}, q)
	if err != nil {
		return err
	}
	data := make([]json.RawMessage, len(page))
	for i, c := range page {
		data[i] = e.wire(c, expandApp(r))
	}
	writeJSON(w, http.StatusOK, encodeJSON(listObject{Object: "list", URL: "/v1/charges", HasMore: more, Data: data}))
	return nil
}

// chargeFilter turns the list filters into a predicate.
func chargeFilter(q url.Values, now time.Time) (func(*Charge) bool, error) {
	var preds []func(*Charge) bool
	created := false
	for _, op := range []string{"", "gt", "gte", "lt", "lte"} {
		name := "created"
		if op != "" {
			name += "[" + op + "]"
		}
		s := q.Get(name)
		if s == "" {
			continue
		}
		t, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, invalidParam(name, "参数 "+name+" 必须是 Unix 时间戳。")
		}
		created = true
		preds = append(preds, func(c *Charge) bool {
			switch op {
			case "gt":
				return c.Created > t
			case "gte":
				return c.Created >= t
			case "lt":
				return c.Created < t
			case "lte":
				return c.Created <= t
			}
			return c.Created == t
		})
	}
	if !created {
		since := now.Add(-listWindow).Unix()
		preds = append(preds, func(c *Charge) bool { return c.Created >= since })
	}
	if ch := q.Get("channel"); ch != "" {
		if !channel.Channel(ch).Known() {
			return nil, invalidParam("channel", "无效的支付渠道: "+ch+"。")
		}
		preds = append(preds, func(c *Charge) bool { return c.Channel == ch })
	}
	for _, b := range []struct {
		name string
		get  func(*Charge) bool
	}{
		{"paid", func(c *Charge) bool { return c.Paid }},
		{"refunded", func(c *Charge) bool { return c.Refunded }},
		{"reversed", func(c *Charge) bool { return c.Reversed }},
	} {
		s := q.Get(b.name)
		if s == "" {
			continue
		}
		want, err := strconv.ParseBool(s)
		if err != nil {
			return nil, invalidParam(b.name, "参数 "+b.name+" 必须是 true 或 false。")
		}
		preds = append(preds, func(c *Charge) bool { return b.get(c) == want })
	}
	return func(c *Charge) bool {
		for _, p := range preds {
			if !p(c) {
				return false
			}
		}
		return true
	}, nil
}

// paginate applies limit (1–100, default 10), starting_after and
// ending_before to all (newest first) and keeps the items keep accepts. A
// cursor is an object id; it need not pass the filter.
func paginate[T any](all []T, id func(T) string, keep func(T) bool, q url.Values) (page []T, more bool, err error) {
	limit := 10
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 100 {
			return nil, false, invalidParam("limit", "参数 limit 必须是 1 到 100 之间的整数。")
		}
	}
	cursor := func(name string) (int, error) {
		c := q.Get(name)
		if c == "" {
			return -1, nil
		}
		for i, v := range all {
			if id(v) == c {
				return i, nil
			}
		}
		return -1, invalidParam(name, "参数 "+name+" 无效，未找到对象 : "+c+"。")
	}
	after, err := cursor("starting_after")
	if err != nil {
		return nil, false, err
	}
	before, err := cursor("ending_before")
	if err != nil {
		return nil, false, err
	}
	var candidates []T
	lo, hi := after+1, len(all)
	if before >= 0 {
		lo, hi = 0, before
		if after >= 0 {
			lo = after + 1
		}
	}
	for _, v := range all[lo:max(lo, hi)] {
		if keep(v) {
			candidates = append(candidates, v)
		}
	}
	if before >= 0 && after < 0 {
		start := max(0, len(candidates)-limit)
		return nonNil(candidates[start:]), start > 0, nil
	}
	if len(candidates) > limit {
		return candidates[:limit], true, nil
	}
	return nonNil(candidates), false, nil
}

// nonNil makes an empty page encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// notify serves Ping++'s test-mode payment trigger GET
// /notify/charges/{id}?livemode=false (API.md §4.3): it pays the test charge
// and answers the text "success". A charge that is already paid answers
// "success" again without a second event. Live charges and unknown ids
// answer 404/400 with the text "fail".
func (e *Emulator) notify(w http.ResponseWriter, r *http.Request, _ *request) error {
	w.Header().Set("Content-Type", "text/plain;charset=utf-8")
	id := r.PathValue("id")
	e.mu.Lock()
	c, ok := e.charges[id]
	live := ok && c.Livemode
	e.mu.Unlock()
	switch {
	case !ok:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("fail"))
		return nil
	case live || r.URL.Query().Get("livemode") == "true":
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("fail"))
		return nil
	}
	if err := e.Pay(id); err != nil && err != ErrAlreadyPaid {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte("fail"))
		return nil
	}
	w.Write([]byte("success"))
	return nil
}

// Pay marks a charge paid, as the channel's asynchronous notice would:
// paid, time_paid, transaction_no set and credential emptied; it then sends
// a charge.succeeded event to the webhook URL. The channel's response-only
// extra keys appear (paidExtra). It returns ErrNotFound, ErrAlreadyPaid (no
// second event), ErrReversed, ErrChargeFailed or ErrExpired.
func (e *Emulator) Pay(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.payable(id)
	if err != nil {
		return err
	}
	now := e.now()
	c.Paid = true
	c.TimePaid = ptr(now.Unix())
	c.TransactionNo = ptr(transactionNo(channel.Channel(c.Channel), now))
	c.Credential = json.RawMessage("{}")
	c.Extra = paidExtra(c)
	e.dispatchLocked(e.newEvent(EventChargeSucceeded, c.Livemode, e.wire(c, false), now))
	return nil
}

// payable returns the charge id if it can still be paid or failed, else
// why not. The caller holds e.mu.
func (e *Emulator) payable(id string) (*Charge, error) {
	c, ok := e.charges[id]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: charge %s", ErrNotFound, id)
	case c.Paid:
		return nil, ErrAlreadyPaid
	case c.Reversed:
		return nil, ErrReversed
	case c.FailureCode != nil:
		return nil, ErrChargeFailed
	case e.now().Unix() > c.TimeExpire:
		return nil, ErrExpired
	}
	return c, nil
}

// FailCharge makes an unpaid charge fail, as a payment the channel declined:
// failure_code and failure_msg are set (default "channel_request_error"
// and a message saying the payment was declined) and the charge can no
// longer be paid. Ping++ sends no webhook for a failed payment (there is no
// charge.failed event), so none is sent. It returns the errors of Pay.
func (e *Emulator) FailCharge(id, code, message string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.payable(id)
	if err != nil {
		return err
	}
	if code == "" {
		code = "channel_request_error"
	}
	if message == "" {
		message = "支付失败：支付渠道拒绝了这笔付款（测试模式模拟）。"
	}
	c.FailureCode, c.FailureMsg = ptr(code), ptr(message)
	return nil
}

// reverseCharge serves POST /v1/charges/{id}/reverse (API.md §5), which only
// the offline isv_* channels support: an unpaid charge is closed, a paid one
// is refunded in full. Reversing twice answers the reversed charge again.
func (e *Emulator) reverseCharge(w http.ResponseWriter, r *http.Request, _ *request, c *Charge) error {
	switch channel.Channel(c.Channel) {
	case channel.IsvQR, channel.IsvScan, channel.IsvWap:
	default:
		return invalidParam("", "渠道 "+c.Channel+" 不支持撤销操作。")
	}
	if !c.Reversed {
		c.Reversed = true
		if c.Paid {
			c.Refunded, c.AmountRefunded = true, c.Amount
		}
	}
	writeJSON(w, http.StatusOK, e.wire(c, false))
	return nil
}

// transactionNo is a plausible channel transaction number.
func transactionNo(ch channel.Channel, now time.Time) string {
	day := now.In(time.FixedZone("CST", 8*3600)).Format("20060102")
	switch {
	case ch.IsWeChat():
		return "42000" + randString(digits, 5) + day + randString(digits, 10)
	case ch.IsAlipay():
		return day + "2" + randString(digits, 19)
	}
	return randString(digits, 21)
}

// Charge returns a copy of the charge id.
func (e *Emulator) Charge(id string) (Charge, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.charges[id]
	if !ok {
		return Charge{}, false
	}
	return c.clone(), true
}

// ChargeJSON returns the charge id encoded as the API sends it.
func (e *Emulator) ChargeJSON(id string) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.charges[id]
	if !ok {
		return nil, false
	}
	return e.wire(c, false), true
}

// Charges returns copies of every charge, oldest first.
func (e *Emulator) Charges() []Charge {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Charge, 0, len(e.order))
	for _, id := range e.order {
		out = append(out, e.charges[id].clone())
	}
	return out
}
