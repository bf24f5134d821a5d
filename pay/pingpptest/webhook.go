package pingpptest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/yianpay/payorder/pay/pingxx"
)

// retryWait is Ping++'s wait before redelivery n (1-based) (API.md §8.1):
// 2m, 10m, 10m, 1h, 2h, 6h, 15h, so at most 8 deliveries within 25 hours.
func retryWait(n int) time.Duration {
	return [...]time.Duration{
		2 * time.Minute, 10 * time.Minute, 10 * time.Minute,
		time.Hour, 2 * time.Hour, 6 * time.Hour, 15 * time.Hour,
	}[n-1]
}

// MaxDeliveries is how many times an unacknowledged event is sent.
const MaxDeliveries = 8

// eventState is a stored event and its delivery state.
type eventState struct {
	Event
	acked bool
}

// delivered is the event as a webhook carries it. Every delivered event
// Ping++ has published shows "pending_webhooks": 0 (samples W1, W2, W4),
// while GET /v1/events/{id} counts the deliveries not yet acknowledged, so
// the payload says 0 and the stored event keeps the count.
func (ev *eventState) delivered() Event {
	out := ev.Event
	out.PendingWebhooks = 0
	return out
}

// Delivery is one attempt to deliver a webhook.
type Delivery struct {
	// EventID and Type name the event; both are empty for DeliverRaw.
	EventID string
	Type    string
	// Attempt is 1 for the first scheduled delivery, 2 for the first retry,
	// …; 0 for deliveries made by Deliver and DeliverRaw.
	Attempt int
	// Status is the receiver's HTTP status, 0 on a transport error.
	Status int
	// Err is the transport error, if any.
	Err error
	// Payload is the exact body sent and Signature its
	// X-Pingplusplus-Signature header ("" when none was sent).
	Payload   []byte
	Signature string
}

// OK reports whether the receiver acknowledged the delivery with a 2xx.
func (d Delivery) OK() bool { return d.Err == nil && d.Status >= 200 && d.Status < 300 }

// newEvent stores a new event. The caller holds e.mu.
func (e *Emulator) newEvent(typ string, livemode bool, object []byte, now time.Time) *eventState {
	ev := &eventState{Event: Event{
		ID: newID("evt_"), Created: now.Unix(), Livemode: livemode, Type: typ,
		Data: EventData{Object: object}, Object: "event", Request: newID("iar_"),
	}}
	if e.cfg.WebhookURL != "" {
		ev.PendingWebhooks = 1
	}
	e.events[ev.ID] = ev
	e.eventOrder = append(e.eventOrder, ev.ID)
	return ev
}

// dispatch starts the delivery schedule of ev, unless webhooks are manual,
// not configured, or the emulator is closing.
func (e *Emulator) dispatch(ev *eventState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dispatchLocked(ev)
}

// dispatchLocked is dispatch for a caller that holds e.mu.
func (e *Emulator) dispatchLocked(ev *eventState) {
	if e.cfg.WebhookURL == "" || e.cfg.ManualWebhooks || e.closed {
		return
	}
	e.workers.Add(1)
	go e.deliverLoop(ev.ID)
}

// deliverLoop delivers an event until it is acknowledged, redelivering on
// Ping++'s schedule scaled by Config.RetryScale, at most MaxDeliveries times.
func (e *Emulator) deliverLoop(id string) {
	defer e.workers.Done()
	for attempt := 1; attempt <= MaxDeliveries; attempt++ {
		if attempt > 1 {
			wait := time.Duration(float64(retryWait(attempt-1)) * e.retryScale)
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-e.done:
				t.Stop()
				return
			}
		}
		if d, err := e.deliverEvent(e.ctx, id, attempt); err != nil || d.OK() {
			return
		}
	}
}

// deliverEvent sends the event id once, as it is now, and records the
// outcome; a 2xx acknowledges the event.
func (e *Emulator) deliverEvent(ctx context.Context, id string, attempt int) (Delivery, error) {
	if e.cfg.WebhookURL == "" {
		return Delivery{}, errors.New("pingpptest: no webhook URL configured")
	}
	e.mu.Lock()
	ev, ok := e.events[id]
	if !ok {
		e.mu.Unlock()
		return Delivery{}, fmt.Errorf("%w: event %s", ErrNotFound, id)
	}
	payload := encodeJSON(ev.delivered())
	typ := ev.Type
	e.mu.Unlock()
	sig, err := e.SignWebhook(payload)
	if err != nil {
		return Delivery{}, err
	}
	d := e.post(ctx, payload, sig)
	d.EventID, d.Type, d.Attempt = id, typ, attempt
	e.mu.Lock()
	if d.OK() && !ev.acked {
		ev.acked = true
		ev.PendingWebhooks = 0
	}
	e.mu.Unlock()
	e.record(d)
	return d, nil
}

// post sends one webhook request and returns its outcome.
func (e *Emulator) post(ctx context.Context, payload []byte, signature string) Delivery {
	d := Delivery{Payload: payload, Signature: signature}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.WebhookURL, bytes.NewReader(payload))
	if err != nil {
		d.Err = err
		return d
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Pingpp-Webhook/pingpptest")
	if signature != "" {
		req.Header.Set(pingxx.HeaderWebhookSignature, signature)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		d.Err = err
		e.log.Info("pingpptest: webhook delivery failed", "url", e.cfg.WebhookURL, "err", err)
		return d
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	d.Status = resp.StatusCode
	e.log.Info("pingpptest: webhook delivered", "url", e.cfg.WebhookURL, "status", resp.StatusCode)
	return d
}

// record appends d to the delivery log and wakes WaitDeliveries.
func (e *Emulator) record(d Delivery) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.deliveries = append(e.deliveries, d)
	close(e.changed)
	e.changed = make(chan struct{})
}

// Deliveries returns every delivery attempt so far, in order.
func (e *Emulator) Deliveries() []Delivery {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.deliveries)
}

// WaitDeliveries waits until at least n delivery attempts have been made and
// returns them all. It fails when ctx ends first or the emulator closes.
func (e *Emulator) WaitDeliveries(ctx context.Context, n int) ([]Delivery, error) {
	for {
		e.mu.Lock()
		if len(e.deliveries) >= n {
			out := slices.Clone(e.deliveries)
			e.mu.Unlock()
			return out, nil
		}
		changed := e.changed
		e.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return e.Deliveries(), fmt.Errorf("pingpptest: waiting for %d deliveries: %w", n, ctx.Err())
		case <-e.done:
			return e.Deliveries(), errors.New("pingpptest: emulator closed while waiting for deliveries")
		}
	}
}

// Deliver sends the event id to the webhook URL once more, now, whatever its
// schedule: to deliver an event twice, or events out of order (with
// Config.ManualWebhooks). A 2xx acknowledges it.
func (e *Emulator) Deliver(ctx context.Context, id string) (Delivery, error) {
	return e.deliverEvent(ctx, id, 0)
}

// DeliverRaw posts payload to the webhook URL with signature as
// X-Pingplusplus-Signature (none when empty), for testing receivers with
// forged, altered or unsigned bodies.
func (e *Emulator) DeliverRaw(ctx context.Context, payload []byte, signature string) (Delivery, error) {
	if e.cfg.WebhookURL == "" {
		return Delivery{}, errors.New("pingpptest: no webhook URL configured")
	}
	d := e.post(ctx, payload, signature)
	e.record(d)
	return d, nil
}

// SignWebhook signs payload with the webhook key, as Ping++ signs webhooks.
func (e *Emulator) SignWebhook(payload []byte) (string, error) {
	return pingxx.SignWebhook(e.webhookKey, payload)
}

// WebhookPublicKeyPEM returns the webhook public key as PKIX PEM, the form of
// the "Ping++ 公钥" in Ping++'s dashboard.
func (e *Emulator) WebhookPublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(e.WebhookPublicKey())
	if err != nil {
		return nil // an RSA key always marshals
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// retrieveEvent serves GET /v1/events/{id}.
func (e *Emulator) retrieveEvent(w http.ResponseWriter, r *http.Request, req *request) error {
	id := r.PathValue("id")
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, ok := e.events[id]
	if !ok || ev.Livemode != req.livemode {
		return notFound("event", id)
	}
	writeJSON(w, http.StatusOK, encodeJSON(ev.Event))
	return nil
}

// Event returns a copy of the event id with its current pending_webhooks.
func (e *Emulator) Event(id string) (Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, ok := e.events[id]
	if !ok {
		return Event{}, false
	}
	return ev.Event, true
}

// EventJSON returns the event id encoded as a webhook delivers it now
// (pending_webhooks 0), for tests that alter it and send it with
// DeliverRaw.
func (e *Emulator) EventJSON(id string) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev, ok := e.events[id]
	if !ok {
		return nil, false
	}
	return encodeJSON(ev.delivered()), true
}

// Events returns copies of every event, oldest first.
func (e *Emulator) Events() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Event, 0, len(e.eventOrder))
	for _, id := range e.eventOrder {
		out = append(out, e.events[id].Event)
	}
	return out
}
