package mysql

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
)

// storedRecord is the encoding of a ledger.Record in payorder_ledger.record:
// everything but OrderNo (the key), Now (the clock), Anomalies (a table of
// their own) and the charges' JSON (payorder_charges.raw). Its JSON names
// are its own, so that renaming a field of package ledger cannot change
// what is stored; nil and empty slices stay apart (no omitempty), and a zero
// time is left out. Times are UTC, to the microsecond, as a DATETIME(6)
// column would keep them.
type storedRecord struct {
	Attempts   []storedAttempt  `json:"attempts"`
	Charges    []storedCharge   `json:"charges"`
	Payment    *storedPayment   `json:"payment"`
	Refunds    []storedRefund   `json:"refunds"`
	Fulfilment storedFulfilment `json:"fulfilment"`
}

type storedAttempt struct {
	ID            string              `json:"id"`
	Group         string              `json:"group"`
	Channel       channel.Channel     `json:"channel"`
	ExtraKey      string              `json:"extra_key"`
	PingppOrderNo string              `json:"pingpp_order_no"`
	Params        []byte              `json:"params"` // base64: kept byte for byte, where a json.RawMessage would be compacted
	StartedAt     time.Time           `json:"started_at,omitzero"`
	Fence         int64               `json:"fence"`
	HeldUntil     time.Time           `json:"held_until,omitzero"`
	State         ledger.AttemptState `json:"state"`
	ChargeID      string              `json:"charge_id,omitempty"`
	Evidence      string              `json:"evidence,omitempty"`
	ClosedAt      time.Time           `json:"closed_at,omitzero"`
}

type storedCharge struct {
	ID            string          `json:"id"`
	AttemptID     string          `json:"attempt_id,omitempty"`
	PingppOrderNo string          `json:"pingpp_order_no"`
	Channel       channel.Channel `json:"channel"`
	Amount        int64           `json:"amount"`
	Currency      string          `json:"currency"`
	ExtraKey      string          `json:"extra_key,omitempty"`
	AppID         string          `json:"app_id,omitempty"`
	Livemode      bool            `json:"livemode,omitempty"`
	CreatedAt     time.Time       `json:"created_at,omitzero"`
	ExpiresAt     time.Time       `json:"expires_at,omitzero"`
	Orphan        bool            `json:"orphan,omitempty"`
}

type storedPayment struct {
	ChargeID      string          `json:"charge_id"`
	Channel       channel.Channel `json:"channel"`
	Amount        int64           `json:"amount"`
	Currency      string          `json:"currency"`
	TransactionNo string          `json:"transaction_no,omitempty"`
	PaidAt        time.Time       `json:"paid_at,omitzero"`
	EventID       string          `json:"event_id,omitempty"`
	RecordedAt    time.Time       `json:"recorded_at,omitzero"`
}

type storedRefund struct {
	ID          string    `json:"id"`
	ChargeID    string    `json:"charge_id"`
	Amount      int64     `json:"amount"`
	SucceededAt time.Time `json:"succeeded_at,omitzero"`
	EventID     string    `json:"event_id,omitempty"`
}

type storedFulfilment struct {
	ID          string    `json:"id,omitempty"`
	Claim       int64     `json:"claim,omitempty"`
	LeaseUntil  time.Time `json:"lease_until,omitzero"`
	Runs        int       `json:"runs,omitempty"`
	FulfilledAt time.Time `json:"fulfilled_at,omitzero"`
}

// utc is t as the ledger keeps it: UTC, to the microsecond.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// encodeRecord returns the stored form of r.
func encodeRecord(r *ledger.Record) ([]byte, error) {
	s := storedRecord{Fulfilment: storedFulfilment{
		ID: r.Fulfilment.ID, Claim: r.Fulfilment.Claim, LeaseUntil: utc(r.Fulfilment.LeaseUntil),
		Runs: r.Fulfilment.Runs, FulfilledAt: utc(r.Fulfilment.FulfilledAt),
	}}
	if r.Attempts != nil {
		s.Attempts = make([]storedAttempt, len(r.Attempts))
	}
	for i, a := range r.Attempts {
		s.Attempts[i] = storedAttempt{
			ID: a.ID, Group: a.Group, Channel: a.Channel, ExtraKey: a.ExtraKey, PingppOrderNo: a.PingppOrderNo,
			Params: a.Params, StartedAt: utc(a.StartedAt), Fence: a.Fence, HeldUntil: utc(a.HeldUntil),
			State: a.State, ChargeID: a.ChargeID, Evidence: a.Evidence, ClosedAt: utc(a.ClosedAt),
		}
	}
	if r.Charges != nil {
		s.Charges = make([]storedCharge, len(r.Charges))
	}
	for i, c := range r.Charges {
		s.Charges[i] = storedCharge{
			ID: c.ID, AttemptID: c.AttemptID, PingppOrderNo: c.PingppOrderNo, Channel: c.Channel,
			Amount: c.Amount, Currency: c.Currency, ExtraKey: c.ExtraKey, AppID: c.AppID, Livemode: c.Livemode,
			CreatedAt: utc(c.CreatedAt), ExpiresAt: utc(c.ExpiresAt), Orphan: c.Orphan,
		}
	}
	if p := r.Payment; p != nil {
		s.Payment = &storedPayment{
			ChargeID: p.ChargeID, Channel: p.Channel, Amount: p.Amount, Currency: p.Currency,
			TransactionNo: p.TransactionNo, PaidAt: utc(p.PaidAt), EventID: p.EventID, RecordedAt: utc(p.RecordedAt),
		}
	}
	if r.Refunds != nil {
		s.Refunds = make([]storedRefund, len(r.Refunds))
	}
	for i, rf := range r.Refunds {
		s.Refunds[i] = storedRefund{
			ID: rf.ID, ChargeID: rf.ChargeID, Amount: rf.Amount, SucceededAt: utc(rf.SucceededAt), EventID: rf.EventID,
		}
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("mysql: encoding the record of order %s: %w", r.OrderNo, err)
	}
	return b, nil
}

// decodeRecord returns the record of order no stored as b, its charges'
// JSON taken from raw (by charge id). An empty b is an empty record: the row
// an Update created before its first save.
func decodeRecord(no string, b []byte, raw map[string][]byte) (*ledger.Record, error) {
	r := &ledger.Record{OrderNo: no}
	if len(b) == 0 {
		return r, nil
	}
	var s storedRecord
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("mysql: decoding the record of order %s: %w", no, err)
	}
	if s.Attempts != nil {
		r.Attempts = make([]ledger.Attempt, len(s.Attempts))
	}
	for i, a := range s.Attempts {
		r.Attempts[i] = ledger.Attempt{
			ID: a.ID, Group: a.Group, Channel: a.Channel, ExtraKey: a.ExtraKey, PingppOrderNo: a.PingppOrderNo,
			Params: a.Params, StartedAt: a.StartedAt, Fence: a.Fence, HeldUntil: a.HeldUntil,
			State: a.State, ChargeID: a.ChargeID, Evidence: a.Evidence, ClosedAt: a.ClosedAt,
		}
	}
	if s.Charges != nil {
		r.Charges = make([]ledger.Charge, len(s.Charges))
	}
	for i, c := range s.Charges {
		j, ok := raw[c.ID]
		if !ok {
			return nil, fmt.Errorf("mysql: the record of order %s names charge %s, which payorder_charges lacks for it", no, c.ID)
		}
		r.Charges[i] = ledger.Charge{
			ID: c.ID, AttemptID: c.AttemptID, PingppOrderNo: c.PingppOrderNo, Channel: c.Channel,
			Amount: c.Amount, Currency: c.Currency, ExtraKey: c.ExtraKey, AppID: c.AppID, Livemode: c.Livemode,
			CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, Orphan: c.Orphan, JSON: rawJSON(j),
		}
	}
	if p := s.Payment; p != nil {
		r.Payment = &ledger.Payment{
			ChargeID: p.ChargeID, Channel: p.Channel, Amount: p.Amount, Currency: p.Currency,
			TransactionNo: p.TransactionNo, PaidAt: p.PaidAt, EventID: p.EventID, RecordedAt: p.RecordedAt,
		}
	}
	if s.Refunds != nil {
		r.Refunds = make([]ledger.Refund, len(s.Refunds))
	}
	for i, rf := range s.Refunds {
		r.Refunds[i] = ledger.Refund{
			ID: rf.ID, ChargeID: rf.ChargeID, Amount: rf.Amount, SucceededAt: rf.SucceededAt, EventID: rf.EventID,
		}
	}
	f := s.Fulfilment
	r.Fulfilment = ledger.Fulfilment{ID: f.ID, Claim: f.Claim, LeaseUntil: f.LeaseUntil, Runs: f.Runs, FulfilledAt: f.FulfilledAt}
	return r, nil
}

// rawJSON is a charge's JSON as payorder_charges.raw holds it: NOT NULL, so
// a charge without JSON is stored empty and read back nil.
func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}
