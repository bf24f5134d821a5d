package pingxx

import (
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxEventBytes is the largest webhook payload ParseEvent accepts. Ping++'s
// events are a few kilobytes; a receiver should cap its request body at this
// size (http.MaxBytesReader) before reading it.
const MaxEventBytes = 1 << 20

// ErrMalformedEvent means a webhook payload carried a valid signature but is
// not an event Ping++ sends: not a JSON object, no id or type, no data
// object. It always implies a verified signature.
var ErrMalformedEvent = errors.New("pingxx: malformed event")

// ErrEventTooLarge means a webhook payload exceeds MaxEventBytes; it is
// rejected before its signature is checked.
var ErrEventTooLarge = errors.New("pingxx: event too large")

// Event is a Ping++ event: a webhook payload or the answer of
// GET /v1/events/{id}. It keeps the bytes it was decoded from.
type Event struct {
	ID              string
	Object          string
	Type            string // charge.succeeded, refund.succeeded, ...
	Created         int64
	Livemode        bool
	PendingWebhooks int
	Request         string // id of the API request that caused the event; "" when null
	Data            EventData

	raw []byte
}

// EventData is the data member of an event; Object is the charge, refund or
// other object exactly as Ping++ sent it. Use Event.Charge or Event.Refund to
// decode it.
type EventData struct {
	Object json.RawMessage
}

// UnmarshalJSON decodes an event tolerantly and keeps data. It does not
// verify anything: use ParseEvent for webhook payloads.
func (e *Event) UnmarshalJSON(data []byte) error {
	f, err := decodeFields("event", data)
	if err != nil || f.obj == nil {
		return err
	}
	ev := Event{
		ID:              f.str("id"),
		Object:          f.str("object"),
		Type:            f.str("type"),
		Created:         f.int("created"),
		Livemode:        f.bool("livemode"),
		PendingWebhooks: int(f.int("pending_webhooks")),
		Request:         f.str("request"),
	}
	if d, ok := f.raw("data"); ok {
		sub, err := decodeFields("event data", d)
		if err != nil {
			return err
		}
		ev.Data.Object = sub.rawCopy("object")
	}
	if f.err != nil {
		return f.err
	}
	ev.raw = bytes.Clone(data)
	*e = ev
	return nil
}

// MarshalJSON returns the JSON the event was decoded from, compacted.
func (e Event) MarshalJSON() ([]byte, error) {
	if e.raw != nil {
		return compact(e.raw)
	}
	return json.Marshal(eventJSON{
		ID: e.ID, Created: e.Created, Livemode: e.Livemode, Type: e.Type,
		Data:   eventDataJSON{Object: emptyObject(e.Data.Object)},
		Object: orDefault(e.Object, "event"), PendingWebhooks: e.PendingWebhooks,
		Request: nullString(e.Request),
	})
}

// eventJSON is an event in the key order of Ping++'s webhooks (W1).
type eventJSON struct {
	ID              string        `json:"id"`
	Created         int64         `json:"created"`
	Livemode        bool          `json:"livemode"`
	Type            string        `json:"type"`
	Data            eventDataJSON `json:"data"`
	Object          string        `json:"object"`
	PendingWebhooks int           `json:"pending_webhooks"`
	Request         *string       `json:"request"`
}

type eventDataJSON struct {
	Object json.RawMessage `json:"object"`
}

// Raw returns the JSON the event was decoded from, byte for byte.
func (e *Event) Raw() json.RawMessage { return e.raw }

// Charge decodes data.object as a charge. It fails unless the object is a
// charge with an id, as in charge.succeeded events.
func (e *Event) Charge() (*Charge, error) {
	var ch Charge
	if err := e.decodeObject("charge", &ch, func() (string, string) { return ch.ID, ch.Object }); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Refund decodes data.object as a refund. It fails unless the object is a
// refund with an id, as in refund.succeeded events.
func (e *Event) Refund() (*Refund, error) {
	var rf Refund
	if err := e.decodeObject("refund", &rf, func() (string, string) { return rf.ID, rf.Object }); err != nil {
		return nil, err
	}
	return &rf, nil
}

// decodeObject decodes data.object into dst and checks, through idObject,
// that it is a what with an id.
func (e *Event) decodeObject(what string, dst json.Unmarshaler, idObject func() (id, object string)) error {
	if len(e.Data.Object) == 0 {
		return fmt.Errorf("pingxx: event %s (%s): no data.object", e.ID, e.Type)
	}
	if err := dst.UnmarshalJSON(e.Data.Object); err != nil {
		return fmt.Errorf("pingxx: event %s (%s): %s: %w", e.ID, e.Type, what, err)
	}
	id, object := idObject()
	if object != what || id == "" {
		return fmt.Errorf("pingxx: event %s (%s): data.object is not a %s", e.ID, e.Type, what)
	}
	return nil
}

// ParseEvent verifies a webhook and decodes its event. It checks the
// RSA-SHA256 signature (the X-Pingplusplus-Signature header) over the raw
// payload with Ping++'s public key before decoding anything, so pass the
// request body exactly as received.
//
// It returns ErrNoSignature when signature is empty, ErrBadSignature when it
// does not match, ErrEventTooLarge when the payload exceeds MaxEventBytes
// (unverified), and ErrMalformedEvent when a correctly signed payload is not
// an event; all wrapped. A nil key is an error:
// verification is never skipped.
func ParseEvent(payload []byte, signature string, key *rsa.PublicKey) (*Event, error) {
	if key == nil {
		return nil, errors.New("pingxx: parse event: no public key to verify the signature with")
	}
	if len(payload) > MaxEventBytes {
		return nil, fmt.Errorf("%w: payload of %d bytes exceeds %d", ErrEventTooLarge, len(payload), MaxEventBytes)
	}
	if err := Verify(key, payload, signature); err != nil {
		return nil, fmt.Errorf("pingxx: parse event: %w", err)
	}
	var ev Event
	if err := ev.UnmarshalJSON(payload); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	switch {
	case ev.raw == nil:
		return nil, fmt.Errorf("%w: payload is null", ErrMalformedEvent)
	case ev.ID == "" || ev.Type == "":
		return nil, fmt.Errorf("%w: no id or type", ErrMalformedEvent)
	case ev.Object != "" && ev.Object != "event":
		return nil, fmt.Errorf("%w: object is %.32q, not event", ErrMalformedEvent, ev.Object)
	case len(ev.Data.Object) == 0 || ev.Data.Object[0] != '{':
		return nil, fmt.Errorf("%w: data.object is not an object", ErrMalformedEvent)
	}
	return &ev, nil
}
