package pingpptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// controlPrefix is where the control API is served.
const controlPrefix = "/_emulator/"

// The control API under /_emulator/ drives the emulator over HTTP, so that
// tests in any language can do what Go tests do with the Emulator's
// methods. It is not part of Ping++ and needs no key: never expose an
// emulator where strangers can reach it. Bodies and answers are JSON with
// snake_case names; durations are Go duration strings ("61s", "250ms");
// errors answer {"error": "…"} with 400 (bad request), 404 (unknown id) or
// 409 (the object cannot do that now).
func (e *Emulator) controlRoutes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /_emulator/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeControl(w, http.StatusOK, map[string]any{"routes": controlIndex()})
	})
	m.HandleFunc("GET /_emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		writeControl(w, http.StatusOK, e.Stats())
	})
	m.HandleFunc("POST /_emulator/reset", func(w http.ResponseWriter, r *http.Request) {
		e.Reset()
		writeControl(w, http.StatusOK, map[string]bool{"reset": true})
	})
	m.HandleFunc("GET /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		writeControl(w, http.StatusOK, faultsWire(e.Faults()))
	})
	m.HandleFunc("POST /_emulator/faults", e.controlAddFault)
	m.HandleFunc("DELETE /_emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		e.ClearFaults()
		writeControl(w, http.StatusOK, faultsWire(nil))
	})
	m.HandleFunc("GET /_emulator/clock", func(w http.ResponseWriter, r *http.Request) {
		writeControl(w, http.StatusOK, e.clockWire())
	})
	m.HandleFunc("POST /_emulator/clock", e.controlAdvance)
	m.HandleFunc("POST /_emulator/charges/{id}/{action}", e.controlCharge)
	m.HandleFunc("GET /_emulator/refund_policy", func(w http.ResponseWriter, r *http.Request) {
		writeControl(w, http.StatusOK, policyWire(e.RefundPolicy()))
	})
	m.HandleFunc("PUT /_emulator/refund_policy", e.controlSetPolicy)
	m.HandleFunc("POST /_emulator/refunds/{id}/{action}", e.controlRefund)
	m.HandleFunc("GET /_emulator/events", func(w http.ResponseWriter, r *http.Request) {
		writeControl(w, http.StatusOK, e.Events())
	})
	m.HandleFunc("POST /_emulator/events/{id}/deliver", e.controlDeliver)
	m.HandleFunc("GET /_emulator/deliveries", func(w http.ResponseWriter, r *http.Request) {
		writeControl(w, http.StatusOK, deliveriesWire(e.Deliveries()))
	})
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		controlError(w, http.StatusNotFound, "pingpptest: no control route "+r.Method+" "+r.URL.Path+" (GET /_emulator/ lists them)")
	})
	e.control = m
}

// controlIndex lists the control routes for GET /_emulator/.
func controlIndex() []string {
	return []string{
		"GET /_emulator/stats", "POST /_emulator/reset",
		"GET /_emulator/faults", "POST /_emulator/faults", "DELETE /_emulator/faults",
		"GET /_emulator/clock", "POST /_emulator/clock",
		"POST /_emulator/charges/{id}/pay", "POST /_emulator/charges/{id}/fail",
		"GET /_emulator/refund_policy", "PUT /_emulator/refund_policy",
		"POST /_emulator/refunds/{id}/succeed", "POST /_emulator/refunds/{id}/fail", "POST /_emulator/refunds/{id}/hold",
		"GET /_emulator/events", "POST /_emulator/events/{id}/deliver", "GET /_emulator/deliveries",
	}
}

// duration is a time.Duration written as a Go duration string.
type duration time.Duration

// MarshalText writes d as "1m1s".
func (d duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string.
func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("pingpptest: duration %q: want a Go duration such as \"61s\"", b)
	}
	*d = duration(v)
	return nil
}

// faultJSON is a Fault in the control API.
type faultJSON struct {
	Route       Route     `json:"route"`
	Kind        FaultKind `json:"kind"`
	Times       int       `json:"times"`
	Probability float64   `json:"probability"`
	Latency     duration  `json:"latency"`
	After       bool      `json:"after"`
	Status      int       `json:"status,omitempty"`
	Body        string    `json:"body,omitempty"`
}

func faultsWire(fs []Fault) []faultJSON {
	out := make([]faultJSON, len(fs))
	for i, f := range fs {
		out[i] = faultJSON{Route: f.Route, Kind: f.Kind, Times: f.Times, Probability: f.Probability,
			Latency: duration(f.Latency), After: f.After, Status: f.Status, Body: f.Body}
	}
	return out
}

// controlAddFault serves POST /_emulator/faults: one fault, as in
// {"route":"POST /v1/charges","kind":"http_502_html","times":2}. It answers
// the faults now registered.
func (e *Emulator) controlAddFault(w http.ResponseWriter, r *http.Request) {
	var f faultJSON
	if !readControl(w, r, &f, true) {
		return
	}
	if !knownRoute(f.Route) {
		controlError(w, http.StatusBadRequest, fmt.Sprintf("pingpptest: unknown route %q (one of %q)", f.Route, routeNames()))
		return
	}
	if f.Times < 0 || f.Probability < 0 || f.Latency < 0 {
		controlError(w, http.StatusBadRequest, "pingpptest: times, probability and latency must not be negative")
		return
	}
	e.Fail(Fault{Route: f.Route, Kind: f.Kind, Times: f.Times, Probability: f.Probability,
		Latency: time.Duration(f.Latency), After: f.After, Status: f.Status, Body: f.Body})
	writeControl(w, http.StatusOK, faultsWire(e.Faults()))
}

// clockJSON is the emulator's clock in the control API.
type clockJSON struct {
	Now    int64    `json:"now"`    // Unix seconds, as in created and time_expire
	Time   string   `json:"time"`   // RFC 3339, Ping++'s local time (UTC+8)
	Offset duration `json:"offset"` // how far the clock was advanced
}

func (e *Emulator) clockWire() clockJSON {
	now := e.now()
	return clockJSON{Now: now.Unix(), Time: now.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339),
		Offset: duration(e.offset.Load())}
}

// controlAdvance serves POST /_emulator/clock {"advance":"61s"}.
func (e *Emulator) controlAdvance(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Advance duration `json:"advance"`
	}
	if !readControl(w, r, &body, true) {
		return
	}
	if err := e.Advance(time.Duration(body.Advance)); err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeControl(w, http.StatusOK, e.clockWire())
}

// controlCharge serves POST /_emulator/charges/{id}/pay and …/fail (body
// optional: {"code":"…","message":"…"}); it answers the charge.
func (e *Emulator) controlCharge(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "pay":
		err = e.Pay(id)
	case "fail":
		var body struct{ Code, Message string }
		if !readControl(w, r, &body, false) {
			return
		}
		err = e.FailCharge(id, body.Code, body.Message)
	default:
		controlError(w, http.StatusNotFound, "pingpptest: a charge can be paid (…/pay) or failed (…/fail)")
		return
	}
	if err != nil {
		controlFailure(w, err)
		return
	}
	b, _ := e.ChargeJSON(id)
	writeJSON(w, http.StatusOK, b)
}

// policyJSON is a RefundPolicy in the control API.
type policyJSON struct {
	Outcome RefundOutcome `json:"outcome"`
	Delay   duration      `json:"delay"`
}

func policyWire(p RefundPolicy) policyJSON {
	return policyJSON{Outcome: p.Outcome, Delay: duration(p.Delay)}
}

// controlSetPolicy serves PUT /_emulator/refund_policy
// {"outcome":"succeed|fail|hold","delay":"10s"}.
func (e *Emulator) controlSetPolicy(w http.ResponseWriter, r *http.Request) {
	var p policyJSON
	if !readControl(w, r, &p, true) {
		return
	}
	if p.Delay < 0 {
		controlError(w, http.StatusBadRequest, "pingpptest: delay must not be negative")
		return
	}
	e.SetRefundPolicy(RefundPolicy{Outcome: p.Outcome, Delay: time.Duration(p.Delay)})
	writeControl(w, http.StatusOK, policyWire(e.RefundPolicy()))
}

// controlRefund serves POST /_emulator/refunds/{id}/succeed, …/fail (body
// optional: {"message":"the channel's text"}) and …/hold; it answers the
// refund.
func (e *Emulator) controlRefund(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var err error
	switch r.PathValue("action") {
	case "succeed":
		err = e.SucceedRefund(id)
	case "fail":
		var body struct{ Message string }
		if !readControl(w, r, &body, false) {
			return
		}
		err = e.FailRefund(id, body.Message)
	case "hold":
		err = e.HoldRefund(id)
	default:
		controlError(w, http.StatusNotFound, "pingpptest: a refund can be made to succeed, fail or hold")
		return
	}
	if err != nil {
		controlFailure(w, err)
		return
	}
	rf, _ := e.Refund(id)
	writeJSON(w, http.StatusOK, encodeJSON(rf))
}

// deliveryJSON is a Delivery in the control API.
type deliveryJSON struct {
	EventID   string `json:"event_id"`
	Type      string `json:"type"`
	Attempt   int    `json:"attempt"`
	Status    int    `json:"status"`
	OK        bool   `json:"ok"`
	Error     string `json:"error,omitempty"`
	Signature string `json:"signature"`
}

func deliveriesWire(ds []Delivery) []deliveryJSON {
	out := make([]deliveryJSON, len(ds))
	for i, d := range ds {
		out[i] = deliveryJSON{EventID: d.EventID, Type: d.Type, Attempt: d.Attempt, Status: d.Status,
			OK: d.OK(), Signature: d.Signature}
		if d.Err != nil {
			out[i].Error = d.Err.Error()
		}
	}
	return out
}

// Signatures a redelivery can carry.
const (
	signatureValid = "valid" // the event signed with the webhook key
	signatureBad   = "bad"   // a valid signature of other bytes
	signatureNone  = "none"  // no X-Pingplusplus-Signature header
)

// controlDeliver serves POST /_emulator/events/{id}/deliver: the event is
// sent to the webhook URL now, whatever its schedule, times times (default
// 1), with a valid, bad or no signature ({"times":2,"signature":"bad"}).
// Events go out in the order of these requests, so a test delivers them
// out of order by asking in that order. It answers the deliveries made.
func (e *Emulator) controlDeliver(w http.ResponseWriter, r *http.Request) {
	body := struct {
		Times     int    `json:"times"`
		Signature string `json:"signature"`
	}{Times: 1, Signature: signatureValid}
	if !readControl(w, r, &body, false) {
		return
	}
	id := r.PathValue("id")
	payload, ok := e.EventJSON(id)
	switch {
	case !ok:
		controlFailure(w, fmt.Errorf("%w: event %s", ErrNotFound, id))
		return
	case e.cfg.WebhookURL == "":
		controlError(w, http.StatusConflict, "pingpptest: no webhook URL configured")
		return
	case body.Times < 1 || body.Times > MaxDeliveries:
		controlError(w, http.StatusBadRequest, fmt.Sprintf("pingpptest: times must be 1 to %d", MaxDeliveries))
		return
	}
	var send func() (Delivery, error)
	switch body.Signature {
	case signatureValid:
		send = func() (Delivery, error) { return e.Deliver(r.Context(), id) }
	case signatureBad, signatureNone:
		sig := ""
		if body.Signature == signatureBad {
			sig, _ = e.SignWebhook(append(payload, ' '))
		}
		send = func() (Delivery, error) { return e.DeliverRaw(r.Context(), payload, sig) }
	default:
		controlError(w, http.StatusBadRequest, "pingpptest: signature must be valid, bad or none")
		return
	}
	var made []Delivery
	for range body.Times {
		d, err := send()
		if err != nil {
			controlFailure(w, err)
			return
		}
		made = append(made, d)
	}
	writeControl(w, http.StatusOK, map[string]any{"deliveries": deliveriesWire(made)})
}

// readControl decodes a JSON body into v; an empty body is allowed unless
// required. It answers 400 and reports false when the body is unusable.
func readControl(w http.ResponseWriter, r *http.Request, v any, required bool) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err == nil && len(b) == 0 {
		if !required {
			return true
		}
		err = errors.New("a JSON body is required")
	}
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		controlError(w, http.StatusBadRequest, "pingpptest: request body: "+err.Error())
		return false
	}
	return true
}

// controlFailure answers an error of the Emulator's methods: 404 for
// ErrNotFound, 409 for an object in the wrong state.
func controlFailure(w http.ResponseWriter, err error) {
	status := http.StatusConflict
	if errors.Is(err, ErrNotFound) {
		status = http.StatusNotFound
	}
	controlError(w, status, err.Error())
}

func controlError(w http.ResponseWriter, status int, message string) {
	writeControl(w, status, map[string]string{"error": message})
}

func writeControl(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(encodeJSON(v), '\n'))
}

// knownRoute reports whether r names a route faults can apply to.
func knownRoute(r Route) bool {
	for _, k := range allRoutes() {
		if r == k {
			return true
		}
	}
	return false
}

// allRoutes are the routes a fault may name.
func allRoutes() []Route {
	return []Route{RouteAny, RouteCreateCharge, RouteListCharges, RouteRetrieveCharge, RouteReverseCharge,
		RouteCreateRefund, RouteListRefunds, RouteRetrieveRefund, RouteRetrieveEvent, RouteNotify,
		RouteMockPage, RouteUnknown}
}

func routeNames() []string {
	var out []string
	for _, r := range allRoutes() {
		out = append(out, string(r))
	}
	return out
}
