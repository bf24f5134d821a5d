package ledger

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/yianpay/payorder/channel"
)

// MarshalRecord encodes r as a database ledger keeps it in one column:
// everything but the order number (the row's key), the charges' JSON (which
// is kept byte for byte in a table of its own, unique by charge id), the
// anomalies (a table of their own) and the clock. Times are kept in UTC to
// the microsecond, which every database column keeps.
func MarshalRecord(r *Record) ([]byte, error) {
	var s storedRecord
	for _, a := range r.Attempts {
		s.Attempts = append(s.Attempts, storedAttempt{
			ID: a.ID, Group: a.Group, Channel: a.Channel, ExtraKey: a.ExtraKey, PingppOrderNo: a.PingppOrderNo,
			Params: string(a.Params), StartedAt: stored(a.StartedAt), Fence: a.Fence, HeldUntil: stored(a.HeldUntil),
			State: a.State, ChargeID: a.ChargeID, Evidence: a.Evidence, ClosedAt: stored(a.ClosedAt),
		})
	}
	for _, c := range r.Charges {
		s.Charges = append(s.Charges, storedCharge{
			ID: c.ID, AttemptID: c.AttemptID, PingppOrderNo: c.PingppOrderNo, Channel: c.Channel,
			Amount: c.Amount, Currency: c.Currency, ExtraKey: c.ExtraKey, AppID: c.AppID, Livemode: c.Livemode,
			CreatedAt: stored(c.CreatedAt), ExpiresAt: stored(c.ExpiresAt), Orphan: c.Orphan, PaidAt: stored(c.PaidAt),
		})
	}
	if p := r.Payment; p != nil {
		s.Payment = &storedPayment{
			ChargeID: p.ChargeID, Channel: p.Channel, Amount: p.Amount, Currency: p.Currency,
			TransactionNo: p.TransactionNo, PaidAt: stored(p.PaidAt), EventID: p.EventID, RecordedAt: stored(p.RecordedAt),
		}
	}
	for _, rf := range r.Refunds {
		notice := storeFulfilment(rf.Notice)
		s.Refunds = append(s.Refunds, storedRefund{
			ID: rf.ID, ChargeID: rf.ChargeID, Amount: rf.Amount, SucceededAt: stored(rf.SucceededAt), EventID: rf.EventID,
			RequestID: rf.RequestID, Notice: &notice,
		})
	}
	for _, a := range r.RefundAttempts {
		s.RefundAttempts = append(s.RefundAttempts, storedRefundAttempt{
			ID: a.ID, ChargeID: a.ChargeID, Amount: a.Amount, AnomalyID: a.AnomalyID, Params: string(a.Params),
			StartedAt: stored(a.StartedAt), Fence: a.Fence, HeldUntil: stored(a.HeldUntil),
			SentAt: stored(a.SentAt), Unsent: a.SentAt.IsZero(), UnconfirmedAt: stored(a.UnconfirmedAt), State: a.State,
			RefundID: a.RefundID, Evidence: a.Evidence, ClosedAt: stored(a.ClosedAt),
		})
	}
	s.Fulfilment = storeFulfilment(r.Fulfilment)
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("ledger: encoding the record of order %s: %w", r.OrderNo, err)
	}
	return b, nil
}

// UnmarshalRecord decodes data, which MarshalRecord made (empty for an
// order with no record), as the record of order no, with each charge's JSON
// from chargeJSON by charge id. A charge whose JSON is missing is an error:
// the two were saved in one transaction.
func UnmarshalRecord(no string, data []byte, chargeJSON map[string][]byte) (*Record, error) {
	r := &Record{OrderNo: no}
	if len(data) == 0 {
		return r, nil
	}
	var s storedRecord
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("ledger: decoding the record of order %s: %w", no, err)
	}
	for _, a := range s.Attempts {
		att := Attempt{
			ID: a.ID, Group: a.Group, Channel: a.Channel, ExtraKey: a.ExtraKey, PingppOrderNo: a.PingppOrderNo,
			StartedAt: a.StartedAt, Fence: a.Fence, HeldUntil: a.HeldUntil,
			State: a.State, ChargeID: a.ChargeID, Evidence: a.Evidence, ClosedAt: a.ClosedAt,
		}
		if a.Params != "" {
			att.Params = json.RawMessage(a.Params)
		}
		r.Attempts = append(r.Attempts, att)
	}
	for _, c := range s.Charges {
		raw, ok := chargeJSON[c.ID]
		if !ok {
			return nil, fmt.Errorf("ledger: the record of order %s names charge %s, whose JSON is missing", no, c.ID)
		}
		ch := Charge{
			ID: c.ID, AttemptID: c.AttemptID, PingppOrderNo: c.PingppOrderNo, Channel: c.Channel,
			Amount: c.Amount, Currency: c.Currency, ExtraKey: c.ExtraKey, AppID: c.AppID, Livemode: c.Livemode,
			CreatedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, Orphan: c.Orphan, PaidAt: c.PaidAt,
		}
		if len(raw) > 0 {
			ch.JSON = json.RawMessage(raw)
		}
		r.Charges = append(r.Charges, ch)
	}
	if p := s.Payment; p != nil {
		r.Payment = &Payment{
			ChargeID: p.ChargeID, Channel: p.Channel, Amount: p.Amount, Currency: p.Currency,
			TransactionNo: p.TransactionNo, PaidAt: p.PaidAt, EventID: p.EventID, RecordedAt: p.RecordedAt,
		}
	}
	for _, rf := range s.Refunds {
		refund := Refund{ID: rf.ID, ChargeID: rf.ChargeID, Amount: rf.Amount, SucceededAt: rf.SucceededAt, EventID: rf.EventID, RequestID: rf.RequestID}
		if rf.Notice != nil {
			refund.Notice = loadFulfilment(*rf.Notice)
		} else {
			// Recorded before refunds had a hook: there is none to run.
			refund.Notice = Fulfilment{ID: "rfn_" + rf.ID, FulfilledAt: noticeBeforeHooks()}
		}
		r.Refunds = append(r.Refunds, refund)
	}
	for _, a := range s.RefundAttempts {
		att := RefundAttempt{
			ID: a.ID, ChargeID: a.ChargeID, Amount: a.Amount, AnomalyID: a.AnomalyID,
			StartedAt: a.StartedAt, Fence: a.Fence, HeldUntil: a.HeldUntil,
			SentAt: a.SentAt, UnconfirmedAt: a.UnconfirmedAt, State: a.State,
			RefundID: a.RefundID, Evidence: a.Evidence, ClosedAt: a.ClosedAt,
		}
		if a.Params != "" {
			att.Params = json.RawMessage(a.Params)
		}
		if att.State == RefundUnknown && att.SentAt.IsZero() && !a.Unsent {
			// Stored before send permits: it may have been sent.
			att.SentAt = att.StartedAt
		}
		r.RefundAttempts = append(r.RefundAttempts, att)
	}
	r.Fulfilment = loadFulfilment(s.Fulfilment)
	return r, nil
}

// noticeBeforeHooks is the FulfilledAt of the hook of a refund recorded
// before refunds had one.
func noticeBeforeHooks() time.Time { return time.Unix(0, 0).UTC() }

func storeFulfilment(f Fulfilment) storedFulfilment {
	return storedFulfilment{ID: f.ID, Claim: f.Claim, LeaseUntil: stored(f.LeaseUntil), Runs: f.Runs, FulfilledAt: stored(f.FulfilledAt)}
}

func loadFulfilment(f storedFulfilment) Fulfilment {
	return Fulfilment{ID: f.ID, Claim: f.Claim, LeaseUntil: f.LeaseUntil, Runs: f.Runs, FulfilledAt: f.FulfilledAt}
}

// stored is t as a database keeps it: UTC, to the microsecond.
func stored(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Microsecond).UTC()
}

// The stored form of a record, with names of its own so that renaming a Go
// field never changes what a database holds.
type (
	storedRecord struct {
		Attempts   []storedAttempt  `json:"attempts,omitempty"`
		Charges    []storedCharge   `json:"charges,omitempty"`
		Payment    *storedPayment   `json:"payment,omitempty"`
		Refunds    []storedRefund   `json:"refunds,omitempty"`
		Fulfilment storedFulfilment `json:"fulfilment,omitzero"`
		// RefundAttempts came with payorder's own refunds; a record
		// without them has none.
		RefundAttempts []storedRefundAttempt `json:"refund_attempts,omitempty"`
	}
	storedRefundAttempt struct {
		ID        string    `json:"id"`
		ChargeID  string    `json:"charge_id"`
		Amount    int64     `json:"amount"`
		AnomalyID string    `json:"anomaly_id,omitempty"`
		Params    string    `json:"params,omitempty"`
		StartedAt time.Time `json:"started_at,omitzero"`
		Fence     int64     `json:"fence,omitempty"`
		HeldUntil time.Time `json:"held_until,omitzero"`
		// SentAt, Unsent and UnconfirmedAt came with send permits: an
		// unknown attempt stored before them, with neither sent_at nor
		// unsent, may have been sent.
		SentAt        time.Time   `json:"sent_at,omitzero"`
		Unsent        bool        `json:"unsent,omitempty"`
		UnconfirmedAt time.Time   `json:"unconfirmed_at,omitzero"`
		State         RefundState `json:"state"`
		RefundID      string      `json:"refund_id,omitempty"`
		Evidence      string      `json:"evidence,omitempty"`
		ClosedAt      time.Time   `json:"closed_at,omitzero"`
	}
	storedAttempt struct {
		ID            string          `json:"id"`
		Group         string          `json:"group,omitempty"`
		Channel       channel.Channel `json:"channel,omitempty"`
		ExtraKey      string          `json:"extra_key,omitempty"`
		PingppOrderNo string          `json:"pingpp_order_no"`
		// Params is a string: encoding/json would compact a
		// json.RawMessage, and the request must stay as it was sent.
		Params    string       `json:"params,omitempty"`
		StartedAt time.Time    `json:"started_at,omitzero"`
		Fence     int64        `json:"fence,omitempty"`
		HeldUntil time.Time    `json:"held_until,omitzero"`
		State     AttemptState `json:"state"`
		ChargeID  string       `json:"charge_id,omitempty"`
		Evidence  string       `json:"evidence,omitempty"`
		ClosedAt  time.Time    `json:"closed_at,omitzero"`
	}
	storedCharge struct {
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
		PaidAt        time.Time       `json:"paid_at,omitzero"`
	}
	storedPayment struct {
		ChargeID      string          `json:"charge_id"`
		Channel       channel.Channel `json:"channel,omitempty"`
		Amount        int64           `json:"amount"`
		Currency      string          `json:"currency,omitempty"`
		TransactionNo string          `json:"transaction_no,omitempty"`
		PaidAt        time.Time       `json:"paid_at,omitzero"`
		EventID       string          `json:"event_id,omitempty"`
		RecordedAt    time.Time       `json:"recorded_at,omitzero"`
	}
	storedRefund struct {
		ID          string    `json:"id"`
		ChargeID    string    `json:"charge_id"`
		Amount      int64     `json:"amount"`
		SucceededAt time.Time `json:"succeeded_at,omitzero"`
		EventID     string    `json:"event_id,omitempty"`
		RequestID   string    `json:"request_id,omitempty"`
		// Notice is nil in records saved before refunds had a hook.
		Notice *storedFulfilment `json:"notice,omitempty"`
	}
	storedFulfilment struct {
		ID          string    `json:"id,omitempty"`
		Claim       int64     `json:"claim,omitempty"`
		LeaseUntil  time.Time `json:"lease_until,omitzero"`
		Runs        int       `json:"runs,omitempty"`
		FulfilledAt time.Time `json:"fulfilled_at,omitzero"`
	}
)
