package pingxx

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/pingplusplus/pingpp-go/pingpp"

	"github.com/yianpay/payorder/channel"
)

// ChargeParams is what POST /v1/charges asks for. It encodes as Ping++'s
// request body (the names of Ping++'s API: order_no, app.id, client_ip,
// time_expire, ...), and decodes from it, so that a request kept as JSON can
// be sent again identically.
type ChargeParams struct {
	AppID    string // default: the Client's app id
	OrderNo  string // the order_no Ping++ and the channel see
	Channel  channel.Channel
	Amount   int64 // fen
	Currency string
	ClientIP string
	Subject  string
	Body     string
	Extra    map[string]any
	Metadata map[string]any
	// TimeExpire is when the charge stops being payable; zero leaves it to
	// Ping++ (one day, capped by the channel).
	TimeExpire  time.Time
	Description string
}

// chargeParamsWire is the request body, field for field in the order of
// Ping++'s own SDKs.
type chargeParamsWire struct {
	OrderNo     string         `json:"order_no"`
	App         pingpp.App     `json:"app"`
	Channel     string         `json:"channel"`
	Amount      int64          `json:"amount"`
	Currency    string         `json:"currency"`
	ClientIP    string         `json:"client_ip"`
	Subject     string         `json:"subject"`
	Body        string         `json:"body"`
	Extra       map[string]any `json:"extra,omitempty"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	TimeExpire  int64          `json:"time_expire,omitempty"`
	Description string         `json:"description,omitempty"`
}

// MarshalJSON encodes p as Ping++'s request body.
func (p ChargeParams) MarshalJSON() ([]byte, error) {
	w := chargeParamsWire{
		OrderNo: p.OrderNo, Channel: string(p.Channel), Amount: p.Amount, Currency: p.Currency,
		ClientIP: p.ClientIP, Subject: p.Subject, Body: p.Body, Extra: p.Extra, Metadata: p.Metadata,
		Description: p.Description,
	}
	w.App.Id = p.AppID
	if !p.TimeExpire.IsZero() {
		w.TimeExpire = p.TimeExpire.Unix()
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes Ping++'s request body; numbers in extra and
// metadata decode as json.Number, so that they encode again unchanged.
func (p *ChargeParams) UnmarshalJSON(data []byte) error {
	var w chargeParamsWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*p = ChargeParams{
		AppID: w.App.Id, OrderNo: w.OrderNo, Channel: channel.Channel(w.Channel), Amount: w.Amount,
		Currency: w.Currency, ClientIP: w.ClientIP, Subject: w.Subject, Body: w.Body,
		Extra: w.Extra, Metadata: w.Metadata, Description: w.Description,
	}
	if w.TimeExpire != 0 {
		p.TimeExpire = time.Unix(w.TimeExpire, 0)
	}
	return nil
}

// Charge is a Ping++ charge object. It decodes every shape Ping++ really
// sends (null for unset ints and strings, [] for empty objects, app as an id
// or an expanded object) and keeps the bytes it was decoded from, so that
// marshalling it gives back what Ping++ sent: the same keys in the same order
// and the same number text, with only insignificant whitespace removed. That
// is what a mobile client's Ping++ SDK receives.
//
// A Charge built in code (not decoded) marshals its fields in the order of
// Ping++'s own responses, with null for unset nullable fields.
type Charge struct {
	ID             string
	Object         string
	Created        int64
	Livemode       bool
	Paid           bool
	Refunded       bool
	Reversed       bool
	App            string // app id, whether Ping++ sent a string or an expanded object
	Channel        channel.Channel
	OrderNo        string
	ClientIP       string
	Amount         int64
	AmountSettle   int64
	AmountRefunded int64
	Currency       string
	Subject        string
	Body           string
	Extra          map[string]any // [] and null decode as empty; numbers as json.Number
	Metadata       map[string]any // [] and null decode as empty; numbers as json.Number
	TimePaid       int64          // 0 when null
	TimeExpire     int64          // 0 when null
	TimeSettle     int64          // 0 when null
	TransactionNo  string         // "" when null
	FailureCode    string         // "" when null
	FailureMsg     string         // "" when null
	Description    string         // "" when null
	Credential     json.RawMessage
	Refunds        *RefundList

	raw []byte
}

// UnmarshalJSON decodes a charge tolerantly and keeps data. null leaves c
// unchanged, as encoding/json expects.
func (c *Charge) UnmarshalJSON(data []byte) error {
	f, err := decodeFields("charge", data)
	if err != nil || f.obj == nil {
		return err
	}
	ch := Charge{
		ID:             f.str("id"),
		Object:         f.str("object"),
		Created:        f.int("created"),
		Livemode:       f.bool("livemode"),
		Paid:           f.bool("paid"),
		Refunded:       f.bool("refunded"),
		Reversed:       f.bool("reversed"),
		App:            f.idOf("app"),
		Channel:        channel.Channel(f.str("channel")),
		OrderNo:        f.str("order_no"),
		ClientIP:       f.str("client_ip"),
		Amount:         f.int("amount"),
		AmountSettle:   f.int("amount_settle"),
		AmountRefunded: f.int("amount_refunded"),
		Currency:       f.str("currency"),
		Subject:        f.str("subject"),
		Body:           f.str("body"),
		Extra:          f.dict("extra"),
		Metadata:       f.dict("metadata"),
		TimePaid:       f.int("time_paid"),
		TimeExpire:     f.int("time_expire"),
		TimeSettle:     f.int("time_settle"),
		TransactionNo:  f.str("transaction_no"),
		FailureCode:    f.str("failure_code"),
		FailureMsg:     f.str("failure_msg"),
		Description:    f.str("description"),
		Credential:     f.rawCopy("credential"),
	}
	var refunds RefundList
	if f.into("refunds", &refunds) {
		ch.Refunds = &refunds
	}
	if f.err != nil {
		return f.err
	}
	ch.raw = bytes.Clone(data)
	*c = ch
	return nil
}

// MarshalJSON returns the JSON the charge was decoded from, compacted; a
// charge built in code is encoded field by field. It has a value receiver so
// that json.Marshal(ch) and json.Marshal(*ch) agree.
//
// Note that json.Marshal escapes <, > and & inside strings of any
// Marshaler's output (\u003c...), which changes the text but not the value;
// use a json.Encoder with SetEscapeHTML(false), or Raw, for the exact bytes.
func (c Charge) MarshalJSON() ([]byte, error) {
	if c.raw != nil {
		return compact(c.raw)
	}
	return json.Marshal(chargeJSON{
		ID: c.ID, Object: orDefault(c.Object, "charge"), Created: c.Created,
		Livemode: c.Livemode, Paid: c.Paid, Refunded: c.Refunded, Reversed: c.Reversed,
		App: c.App, Channel: string(c.Channel), OrderNo: c.OrderNo, ClientIP: c.ClientIP,
		Amount: c.Amount, AmountSettle: c.AmountSettle, Currency: c.Currency,
		Subject: c.Subject, Body: c.Body, Extra: emptyMap(c.Extra),
		TimePaid: nullInt(c.TimePaid), TimeExpire: c.TimeExpire, TimeSettle: nullInt(c.TimeSettle),
		TransactionNo: nullString(c.TransactionNo), Refunds: c.Refunds,
		AmountRefunded: c.AmountRefunded, FailureCode: nullString(c.FailureCode),
		FailureMsg: nullString(c.FailureMsg), Metadata: emptyMap(c.Metadata),
		Credential: emptyObject(c.Credential), Description: nullString(c.Description),
	})
}

// chargeJSON is a charge in the key order of Ping++'s responses (samples S1, S2).
type chargeJSON struct {
	ID             string          `json:"id"`
	Object         string          `json:"object"`
	Created        int64           `json:"created"`
	Livemode       bool            `json:"livemode"`
	Paid           bool            `json:"paid"`
	Refunded       bool            `json:"refunded"`
	Reversed       bool            `json:"reversed"`
	App            string          `json:"app"`
	Channel        string          `json:"channel"`
	OrderNo        string          `json:"order_no"`
	ClientIP       string          `json:"client_ip"`
	Amount         int64           `json:"amount"`
	AmountSettle   int64           `json:"amount_settle"`
	Currency       string          `json:"currency"`
	Subject        string          `json:"subject"`
	Body           string          `json:"body"`
	Extra          map[string]any  `json:"extra"`
	TimePaid       *int64          `json:"time_paid"`
	TimeExpire     int64           `json:"time_expire"`
	TimeSettle     *int64          `json:"time_settle"`
	TransactionNo  *string         `json:"transaction_no"`
	Refunds        *RefundList     `json:"refunds"`
	AmountRefunded int64           `json:"amount_refunded"`
	FailureCode    *string         `json:"failure_code"`
	FailureMsg     *string         `json:"failure_msg"`
	Metadata       map[string]any  `json:"metadata"`
	Credential     json.RawMessage `json:"credential"`
	Description    *string         `json:"description"`
}

// Raw returns the JSON the charge was decoded from, byte for byte, or nil for
// a charge built in code. The caller must not modify it.
func (c *Charge) Raw() json.RawMessage { return c.raw }

// TypedCredential decodes the credential for the charge's channel. A paid
// charge's empty credential gives nil and no error.
func (c *Charge) TypedCredential() (channel.Credential, error) {
	return channel.DecodeCredential(c.Channel, c.Credential)
}

// Expired reports whether the charge can no longer be paid at now: see
// ExpiresAt.
func (c *Charge) Expired(now time.Time) bool {
	return !now.Before(c.ExpiresAt())
}

// ExpiresAt is when the charge stops being payable: its time_expire. A
// charge without time_expire counts from created with its channel's
// default lifetime; one without either has expired (the zero time), since
// nothing shows that it can still be paid.
func (c *Charge) ExpiresAt() time.Time {
	switch {
	case c.TimeExpire != 0:
		return time.Unix(c.TimeExpire, 0).UTC()
	case c.Created != 0:
		return time.Unix(c.Created, 0).Add(c.Channel.DefaultExpiry()).UTC()
	}
	return time.Time{}
}

// ChargeList is a page of GET /v1/charges.
type ChargeList struct {
	Object  string
	URL     string
	HasMore bool
	Data    []*Charge
}

// UnmarshalJSON decodes a list object tolerantly; [] and null give an empty
// list.
func (l *ChargeList) UnmarshalJSON(data []byte) error {
	v, err := decodeList[Charge]("charge list", data)
	if err == nil {
		*l = ChargeList(v)
	}
	return err
}

// MarshalJSON encodes the list in Ping++'s key order; each charge as it was
// received.
func (l ChargeList) MarshalJSON() ([]byte, error) { return encodeList(listJSON[*Charge](l)) }

// Refund is a Ping++ refund object, decoded tolerantly; like Charge, it
// marshals back to the JSON it was decoded from.
type Refund struct {
	ID            string
	Object        string
	OrderNo       string
	Amount        int64
	Created       int64
	Succeed       bool
	Status        string // pending, succeeded or failed
	TimeSucceed   int64  // 0 when null
	Description   string
	FailureCode   string // "" when null
	FailureMsg    string // "" when null
	Metadata      map[string]any
	ChargeID      string // json "charge"
	ChargeOrderNo string
	TransactionNo string // "" when null

	raw []byte
}

// UnmarshalJSON decodes a refund tolerantly and keeps data.
func (r *Refund) UnmarshalJSON(data []byte) error {
	f, err := decodeFields("refund", data)
	if err != nil || f.obj == nil {
		return err
	}
	rf := Refund{
		ID:            f.str("id"),
		Object:        f.str("object"),
		OrderNo:       f.str("order_no"),
		Amount:        f.int("amount"),
		Created:       f.int("created"),
		Succeed:       f.bool("succeed"),
		Status:        f.str("status"),
		TimeSucceed:   f.int("time_succeed"),
		Description:   f.str("description"),
		FailureCode:   f.str("failure_code"),
		FailureMsg:    f.str("failure_msg"),
		Metadata:      f.dict("metadata"),
		ChargeID:      f.str("charge"),
		ChargeOrderNo: f.str("charge_order_no"),
		TransactionNo: f.str("transaction_no"),
	}
	if f.err != nil {
		return f.err
	}
	rf.raw = bytes.Clone(data)
	*r = rf
	return nil
}

// MarshalJSON returns the JSON the refund was decoded from, compacted, or
// its fields in Ping++'s key order.
func (r Refund) MarshalJSON() ([]byte, error) {
	if r.raw != nil {
		return compact(r.raw)
	}
	return json.Marshal(refundJSON{
		ID: r.ID, Object: orDefault(r.Object, "refund"), OrderNo: r.OrderNo, Amount: r.Amount,
		Created: r.Created, Succeed: r.Succeed, Status: r.Status, TimeSucceed: nullInt(r.TimeSucceed),
		Description: r.Description, FailureCode: nullString(r.FailureCode),
		FailureMsg: nullString(r.FailureMsg), Metadata: emptyMap(r.Metadata), Charge: r.ChargeID,
		ChargeOrderNo: r.ChargeOrderNo, TransactionNo: nullString(r.TransactionNo),
	})
}

// Raw returns the JSON the refund was decoded from, or nil.
func (r *Refund) Raw() json.RawMessage { return r.raw }

// refundJSON is a refund in the key order of Ping++'s responses (R1, R2).
type refundJSON struct {
	ID            string         `json:"id"`
	Object        string         `json:"object"`
	OrderNo       string         `json:"order_no"`
	Amount        int64          `json:"amount"`
	Created       int64          `json:"created"`
	Succeed       bool           `json:"succeed"`
	Status        string         `json:"status"`
	TimeSucceed   *int64         `json:"time_succeed"`
	Description   string         `json:"description"`
	FailureCode   *string        `json:"failure_code"`
	FailureMsg    *string        `json:"failure_msg"`
	Metadata      map[string]any `json:"metadata"`
	Charge        string         `json:"charge"`
	ChargeOrderNo string         `json:"charge_order_no"`
	TransactionNo *string        `json:"transaction_no"`
}

// RefundList is the refunds list embedded in a charge.
type RefundList struct {
	Object  string
	URL     string
	HasMore bool
	Data    []*Refund
}

// UnmarshalJSON decodes a list object tolerantly; [] and null give an empty
// list.
func (l *RefundList) UnmarshalJSON(data []byte) error {
	v, err := decodeList[Refund]("refund list", data)
	if err == nil {
		*l = RefundList(v)
	}
	return err
}

// MarshalJSON encodes the list in Ping++'s key order.
func (l RefundList) MarshalJSON() ([]byte, error) { return encodeList(listJSON[*Refund](l)) }

// listJSON is a list object in Ping++'s key order.
type listJSON[T any] struct {
	Object  string `json:"object"`
	URL     string `json:"url"`
	HasMore bool   `json:"has_more"`
	Data    []T    `json:"data"`
}

// decodeList decodes a list object whose data items are *T; null and []
// give an empty list.
func decodeList[T any, PT interface {
	*T
	json.Unmarshaler
}](what string, data []byte) (listJSON[*T], error) {
	data = bytes.TrimSpace(data)
	if isNull(data) || isEmptyArray(data) {
		return listJSON[*T]{Data: []*T{}}, nil
	}
	f, err := decodeFields(what, data)
	if err != nil {
		return listJSON[*T]{}, err
	}
	list := listJSON[*T]{Object: f.str("object"), URL: f.str("url"), HasMore: f.bool("has_more"), Data: []*T{}}
	items, ok := f.raw("data")
	if !ok || f.err != nil {
		return list, f.err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(items, &raws); err != nil {
		f.fail("data", err)
		return list, f.err
	}
	for _, raw := range raws {
		item := new(T)
		if err := PT(item).UnmarshalJSON(raw); err != nil {
			f.fail("data", err)
			return list, f.err
		}
		list.Data = append(list.Data, item)
	}
	return list, nil
}

// encodeList encodes a list with Ping++'s defaults for unset fields.
func encodeList[T any](l listJSON[T]) ([]byte, error) {
	l.Object = orDefault(l.Object, "list")
	l.Data = nonNil(l.Data)
	return json.Marshal(l)
}

func compact(raw []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(raw))
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nullInt(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func emptyMap(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func emptyObject(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
