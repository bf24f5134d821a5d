package pingpptest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"slices"
)

// Charge is the emulator's charge object. Its fields are declared in the order
// Ping++ sends them (samples/charges/S1.json, S2.json), so encoding/json
// writes the same key order; nullable values are pointers.
//
// It deliberately repeats the wire shape that pingxx.Charge encodes rather
// than reuse pingxx's encoder: the emulator is the client's test oracle, and
// one shared encoder would let a wrong key order or null pass both sides.
type Charge struct {
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
	Extra          json.RawMessage `json:"extra"`
	TimePaid       *int64          `json:"time_paid"`
	TimeExpire     int64           `json:"time_expire"`
	TimeSettle     *int64          `json:"time_settle"`
	TransactionNo  *string         `json:"transaction_no"`
	Refunds        RefundList      `json:"refunds"`
	AmountRefunded int64           `json:"amount_refunded"`
	FailureCode    *string         `json:"failure_code"`
	FailureMsg     *string         `json:"failure_msg"`
	Metadata       json.RawMessage `json:"metadata"`
	Credential     json.RawMessage `json:"credential"`
	Description    *string         `json:"description"`
}

// RefundList is the list object in a charge's "refunds" field and the answer
// of GET /v1/charges/{id}/refunds.
type RefundList struct {
	Object  string   `json:"object"`
	URL     string   `json:"url"`
	HasMore bool     `json:"has_more"`
	Data    []Refund `json:"data"`
}

// Refund is the emulator's refund object, in the field order of
// samples/errors/R2.http.
type Refund struct {
	ID            string          `json:"id"`
	Object        string          `json:"object"`
	OrderNo       string          `json:"order_no"`
	Amount        int64           `json:"amount"`
	Created       int64           `json:"created"`
	Succeed       bool            `json:"succeed"`
	Status        string          `json:"status"`
	TimeSucceed   *int64          `json:"time_succeed"`
	Description   string          `json:"description"`
	FailureCode   *string         `json:"failure_code"`
	FailureMsg    *string         `json:"failure_msg"`
	Metadata      json.RawMessage `json:"metadata"`
	Charge        string          `json:"charge"`
	ChargeOrderNo string          `json:"charge_order_no"`
	TransactionNo *string         `json:"transaction_no"`
	FundingSource string          `json:"funding_source,omitempty"`
}

// Refund statuses.
const (
	RefundPending   = "pending"
	RefundSucceeded = "succeeded"
	RefundFailed    = "failed"
)

// Event is a Ping++ event object, in the field order of
// samples/webhooks/W4.json. Data.Object holds the charge or refund as it was
// when the event happened.
type Event struct {
	ID              string    `json:"id"`
	Created         int64     `json:"created"`
	Livemode        bool      `json:"livemode"`
	Type            string    `json:"type"`
	Data            EventData `json:"data"`
	Object          string    `json:"object"`
	Request         string    `json:"request"`
	PendingWebhooks int       `json:"pending_webhooks"`
}

// EventData is the "data" member of an event.
type EventData struct {
	Object json.RawMessage `json:"object"`
}

// Event types the emulator sends.
const (
	EventChargeSucceeded = "charge.succeeded"
	EventRefundSucceeded = "refund.succeeded"
)

// clone returns a copy of c that shares no mutable memory with it.
func (c Charge) clone() Charge {
	c.Refunds.Data = slices.Clone(c.Refunds.Data)
	return c
}

// listObject is a Ping++ list answer.
type listObject struct {
	Object  string `json:"object"`
	URL     string `json:"url"`
	HasMore bool   `json:"has_more"`
	Data    any    `json:"data"`
}

// encodeJSON encodes v compactly without HTML escaping, so URLs and
// query strings inside credentials read as Ping++ sends them.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own model types are encoded; they always encode.
		return []byte("null")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// kv is one member of an ordered JSON object.
type kv struct {
	k string
	v any
}

// ordered is a JSON object that keeps its members in order.
type ordered []kv

// MarshalJSON writes the members in order.
func (o ordered) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(encodeJSON(m.k))
		buf.WriteByte(':')
		buf.Write(encodeJSON(m.v))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

const (
	base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	digits = "0123456789"
	hexLow = "0123456789abcdef"
	hexUp  = "0123456789ABCDEF"
)

// newID returns prefix followed by 24 base62 characters, the form of Ping++
// ids (ch_, re_, evt_, iar_).
func newID(prefix string) string { return prefix + randString(base62, 24) }

// randString returns n characters drawn uniformly from alphabet.
func randString(alphabet string, n int) string {
	out := make([]byte, n)
	limit := 256 - 256%len(alphabet)
	var buf [64]byte
	for i := 0; i < n; {
		rand.Read(buf[:])
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out[i] = alphabet[int(b)%len(alphabet)]
			i++
			if i == n {
				break
			}
		}
	}
	return string(out)
}

func ptr[T any](v T) *T { return &v }
