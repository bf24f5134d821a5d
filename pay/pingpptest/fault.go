package pingpptest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// FaultKind is what a fault does to an answer.
type FaultKind int

// The fault kinds.
const (
	// FaultLatency delays the answer by Fault.Latency and otherwise serves
	// the request normally. Any other kind is also delayed by Latency first.
	FaultLatency FaultKind = iota
	// FaultHTTP500JSON answers 500 with a Ping++ api_error envelope.
	FaultHTTP500JSON
	// FaultHTTP500HTML answers 500 with nginx's HTML error page.
	FaultHTTP500HTML
	// FaultHTTP502JSON answers 502 with a Ping++ api_error envelope.
	FaultHTTP502JSON
	// FaultHTTP502HTML answers 502 with nginx's HTML error page.
	FaultHTTP502HTML
	// FaultHTTP503JSON answers 503 with a Ping++ api_error envelope.
	FaultHTTP503JSON
	// FaultHTTP503HTML answers 503 with nginx's HTML error page.
	FaultHTTP503HTML
	// FaultMalformedJSON answers 200 with a truncated JSON body.
	FaultMalformedJSON
	// FaultEmptyBody answers 200 with an empty body.
	FaultEmptyBody
	// FaultNullBody answers 200 with the body "null".
	FaultNullBody
	// FaultErrorMissingFields answers 400 with {"error":{}}: no type, no message.
	FaultErrorMissingFields
	// FaultErrorNullFields answers 400 with an error whose message and
	// param are null.
	FaultErrorNullFields
	// FaultErrorNotObject answers 400 with {"error":"boom"}.
	FaultErrorNotObject
	// FaultReset closes the connection with a TCP reset and no answer.
	FaultReset
	// FaultNoAnswer holds the request until the client gives up or the
	// emulator closes, then drops the connection without an answer.
	FaultNoAnswer
	// FaultCustom answers with Fault.Status and Fault.Body as JSON.
	FaultCustom
)

// faultName is the text form of a fault kind: its Go name in snake case
// without the Fault prefix; "" for an unknown kind.
func faultName(k FaultKind) string {
	switch k {
	case FaultLatency:
		return "latency"
	case FaultHTTP500JSON:
		return "http_500_json"
	case FaultHTTP500HTML:
		return "http_500_html"
	case FaultHTTP502JSON:
		return "http_502_json"
	case FaultHTTP502HTML:
		return "http_502_html"
	case FaultHTTP503JSON:
		return "http_503_json"
	case FaultHTTP503HTML:
		return "http_503_html"
	case FaultMalformedJSON:
		return "malformed_json"
	case FaultEmptyBody:
		return "empty_body"
	case FaultNullBody:
		return "null_body"
	case FaultErrorMissingFields:
		return "error_missing_fields"
	case FaultErrorNullFields:
		return "error_null_fields"
	case FaultErrorNotObject:
		return "error_not_object"
	case FaultReset:
		return "reset"
	case FaultNoAnswer:
		return "no_answer"
	case FaultCustom:
		return "custom"
	}
	return ""
}

// String returns the kind's text form, such as "http_502_html" for
// FaultHTTP502HTML.
func (k FaultKind) String() string {
	if n := faultName(k); n != "" {
		return n
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText returns the kind's text form, as the control API writes it.
func (k FaultKind) MarshalText() ([]byte, error) {
	if faultName(k) == "" {
		return nil, fmt.Errorf("pingpptest: unknown fault kind %d", int(k))
	}
	return []byte(faultName(k)), nil
}

// UnmarshalText reads a kind's text form: its Go name in snake case without
// the Fault prefix ("latency", "http_500_json", "reset", "no_answer", …).
func (k *FaultKind) UnmarshalText(b []byte) error {
	for c := FaultLatency; c <= FaultCustom; c++ {
		if faultName(c) == string(b) {
			*k = c
			return nil
		}
	}
	return fmt.Errorf("pingpptest: unknown fault kind %q", b)
}

// Fault makes requests to a route fail.
type Fault struct {
	// Route is the route the fault applies to; RouteAny matches every route.
	Route Route
	// Kind is what happens.
	Kind FaultKind
	// Times is how many requests the fault affects; 0 means every request
	// until ClearFaults.
	Times int
	// Probability, when in (0, 1), makes the fault hit each matching request
	// with that probability; a miss does not use up Times. 0 (or 1 and
	// more) means every matching request.
	Probability float64
	// Latency delays the answer (before processing, or after it with After).
	Latency time.Duration
	// After processes the request fully (a charge is created, a refund
	// recorded) and then replaces the answer by the fault: the caller cannot
	// know the outcome.
	After bool
	// Status and Body are the answer of FaultCustom.
	Status int
	Body   string
}

// faultState is a registered fault and its remaining uses.
type faultState struct {
	Fault
	left int
}

// Fail registers a fault. Faults are tried in the order they were added; the
// first that matches a request applies.
func (e *Emulator) Fail(f Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, &faultState{Fault: f, left: f.Times})
}

// Faults returns the registered faults, in the order they are tried, each
// with Times set to the uses it has left (0: unlimited).
func (e *Emulator) Faults() []Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Fault, len(e.faults))
	for i, f := range e.faults {
		out[i] = f.Fault
		out[i].Times = f.left
	}
	return out
}

// ClearFaults removes every fault.
func (e *Emulator) ClearFaults() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = nil
}

// takeFault returns the fault that applies to a request on route, using up
// one of its Times, or nil.
func (e *Emulator) takeFault(route Route) *Fault {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, f := range e.faults {
		if f.Route != route && f.Route != RouteAny {
			continue
		}
		if f.Probability > 0 && f.Probability < 1 && rand.Float64() >= f.Probability {
			continue
		}
		if f.Times > 0 {
			f.left--
			if f.left == 0 {
				e.faults = slices.Delete(e.faults, i, i+1)
			}
		}
		out := f.Fault
		return &out
	}
	return nil
}

// delay waits d; it reports false when the client went away or the emulator
// closed first.
func (e *Emulator) delay(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-e.done:
	}
	return false
}

// nginxPage is nginx's error page for status, as answered by Ping++'s front
// servers when the back end is down.
func nginxPage(status int) string {
	title := http.StatusText(status)
	return "<html>\r\n<head><title>" + strconv.Itoa(status) + " " + title + "</title></head>\r\n<body>\r\n" +
		"<center><h1>" + strconv.Itoa(status) + " " + title + "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
}

func (e *Emulator) writeFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	serverError := func(status int) {
		writeError(w, &apiError{status: status, typ: typeAPI, message: "服务器内部错误，请稍后重试。"}, false)
	}
	html := func(status int) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Server", "nginx")
		w.WriteHeader(status)
		w.Write([]byte(nginxPage(status)))
	}
	switch f.Kind {
	case FaultHTTP500JSON:
		serverError(http.StatusInternalServerError)
	case FaultHTTP500HTML:
		html(http.StatusInternalServerError)
	case FaultHTTP502JSON:
		serverError(http.StatusBadGateway)
	case FaultHTTP502HTML:
		html(http.StatusBadGateway)
	case FaultHTTP503JSON:
		serverError(http.StatusServiceUnavailable)
	case FaultHTTP503HTML:
		html(http.StatusServiceUnavailable)
	case FaultMalformedJSON:
		writeJSON(w, http.StatusOK, []byte(`{"id":"ch_`+randString(base62, 24)+`","object":"charge","created":`))
	case FaultEmptyBody:
		writeJSON(w, http.StatusOK, nil)
	case FaultNullBody:
		writeJSON(w, http.StatusOK, []byte("null"))
	case FaultErrorMissingFields:
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":{}}`))
	case FaultErrorNullFields:
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":{"type":"invalid_request_error","message":null,"param":null}}`))
	case FaultErrorNotObject:
		writeJSON(w, http.StatusBadRequest, []byte(`{"error":"boom"}`))
	case FaultReset:
		reset(w)
	case FaultNoAnswer:
		select {
		case <-r.Context().Done():
		case <-e.done:
		}
		reset(w)
	case FaultCustom:
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		writeJSON(w, status, []byte(f.Body))
	}
}

// reset drops the connection with a TCP RST, writing nothing.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http's way to abort a response
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
