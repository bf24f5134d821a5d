package postgres

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
)

// recordJSON is a ledger.Record as payorder_ledger.record holds it: all but
// the order number (the row's key), the charges' JSON (payorder_charges.raw,
// byte for byte), the anomalies (payorder_anomalies) and the clock. Times
// are UTC, to the microsecond like every timestamptz.
//
// The types below mirror the ledger's field for field, so that a conversion
// between the two stops compiling when the ledger's types change.
type recordJSON struct {
	Attempts   []attemptJSON  `json:"attempts,omitempty"`
	Charges    []chargeJSON   `json:"charges,omitempty"`
	Payment    *paymentJSON   `json:"payment,omitempty"`
	Refunds    []refundJSON   `json:"refunds,omitempty"`
	Fulfilment fulfilmentJSON `json:"fulfilment,omitzero"`
}

// attemptJSON is a ledger.Attempt. Params is kept as a string: encoding/json
// would compact a json.RawMessage, and the request must stay as sent.
type attemptJSON struct {
	attemptFields
	Params string `json:"params,omitempty"`
}

type attemptFields struct {
	ID            string              `json:"id"`
	Group         string              `json:"group,omitempty"`
	Channel       channel.Channel     `json:"channel,omitempty"`
	ExtraKey      string              `json:"extra_key,omitempty"`
	PingppOrderNo string              `json:"pingpp_order_no"`
	Params        json.RawMessage     `json:"-"`
	StartedAt     time.Time           `json:"started_at,omitzero"`
	Fence         int64               `json:"fence,omitempty"`
	HeldUntil     time.Time           `json:"held_until,omitzero"`
	State         ledger.AttemptState `json:"state"`
	ChargeID      string              `json:"charge_id,omitempty"`
	Evidence      string              `json:"evidence,omitempty"`
	ClosedAt      time.Time           `json:"closed_at,omitzero"`
}

// chargeJSON is a ledger.Charge but for its JSON.
type chargeJSON struct {
	ID            string          `json:"id"`
	AttemptID     string          `json:"attempt_id,omitempty"`
	PingppOrderNo string          `json:"pingpp_order_no"`
	Channel       channel.Channel `json:"channel,omitempty"`
	Amount        int64           `json:"amount"`
	Currency      string          `json:"currency,omitempty"`
	ExtraKey      string          `json:"extra_key,omitempty"`
	AppID         string          `json:"app_id,omitempty"`
	Livemode      bool            `json:"livemode,omitempty"`
	CreatedAt     time.Time       `json:"created_at,omitzero"`
	ExpiresAt     time.Time       `json:"expires_at,omitzero"`
	Orphan        bool            `json:"orphan,omitempty"`
	JSON          json.RawMessage `json:"-"`
}

type paymentJSON struct {
	ChargeID      string          `json:"charge_id"`
	Channel       channel.Channel `json:"channel,omitempty"`
	Amount        int64           `json:"amount"`
	Currency      string          `json:"currency,omitempty"`
	TransactionNo string          `json:"transaction_no,omitempty"`
	PaidAt        time.Time       `json:"paid_at,omitzero"`
	EventID       string          `json:"event_id,omitempty"`
	RecordedAt    time.Time       `json:"recorded_at,omitzero"`
}

type refundJSON struct {
	ID          string    `json:"id"`
	ChargeID    string    `json:"charge_id"`
	Amount      int64     `json:"amount"`
	SucceededAt time.Time `json:"succeeded_at,omitzero"`
	EventID     string    `json:"event_id,omitempty"`
}

type fulfilmentJSON struct {
	ID          string    `json:"id,omitempty"`
	Claim       int64     `json:"claim,omitempty"`
	LeaseUntil  time.Time `json:"lease_until,omitzero"`
	Runs        int       `json:"runs,omitempty"`
	FulfilledAt time.Time `json:"fulfilled_at,omitzero"`
}

// stored is t as a timestamptz holds it: UTC, to the microsecond.
func stored(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// encodeRecord encodes r for payorder_ledger.record.
func encodeRecord(r *ledger.Record) (string, error) {
	var j recordJSON
	for _, a := range r.Attempts {
		f := attemptFields(a)
		f.Params = nil
		f.StartedAt, f.HeldUntil, f.ClosedAt = stored(f.StartedAt), stored(f.HeldUntil), stored(f.ClosedAt)
		j.Attempts = append(j.Attempts, attemptJSON{f, string(a.Params)})
	}
	for _, c := range r.Charges {
		cj := chargeJSON(c)
		cj.JSON = nil
		cj.CreatedAt, cj.ExpiresAt = stored(cj.CreatedAt), stored(cj.ExpiresAt)
		j.Charges = append(j.Charges, cj)
	}
	if r.Payment != nil {
		p := paymentJSON(*r.Payment)
		p.PaidAt, p.RecordedAt = stored(p.PaidAt), stored(p.RecordedAt)
		j.Payment = &p
	}
	for _, rf := range r.Refunds {
		rj := refundJSON(rf)
		rj.SucceededAt = stored(rj.SucceededAt)
		j.Refunds = append(j.Refunds, rj)
	}
	j.Fulfilment = fulfilmentJSON(r.Fulfilment)
	j.Fulfilment.LeaseUntil, j.Fulfilment.FulfilledAt = stored(j.Fulfilment.LeaseUntil), stored(j.Fulfilment.FulfilledAt)
	b, err := json.Marshal(j)
	if err != nil {
		return "", fmt.Errorf("encoding the record: %w", err)
	}
	return string(b), nil
}

// decodeRecord decodes record ("" for none) as the record of order no,
// with the JSON of each charge from raw (by charge id).
func decodeRecord(no, record string, raw map[string][]byte) (*ledger.Record, error) {
	r := &ledger.Record{OrderNo: no}
	if record == "" {
		return r, nil
	}
	var j recordJSON
	if err := json.Unmarshal([]byte(record), &j); err != nil {
		return nil, fmt.Errorf("decoding the record of order %s: %w", no, err)
	}
	for _, aj := range j.Attempts {
		a := ledger.Attempt(aj.attemptFields)
		if aj.Params != "" {
			a.Params = json.RawMessage(aj.Params)
		}
		r.Attempts = append(r.Attempts, a)
	}
	for _, cj := range j.Charges {
		c := ledger.Charge(cj)
		if b := raw[c.ID]; len(b) > 0 {
			c.JSON = json.RawMessage(b)
		}
		r.Charges = append(r.Charges, c)
	}
	if j.Payment != nil {
		p := ledger.Payment(*j.Payment)
		r.Payment = &p
	}
	for _, rj := range j.Refunds {
		r.Refunds = append(r.Refunds, ledger.Refund(rj))
	}
	r.Fulfilment = ledger.Fulfilment(j.Fulfilment)
	return r, nil
}
