package pingxx

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors of the Client. They are returned wrapped; test with errors.Is.
var (
	// ErrMalformedResponse means Ping++ answered 2xx with a body that is not
	// the expected object: empty, null, HTML, invalid or oversized JSON, or a
	// charge without an id.
	ErrMalformedResponse = errors.New("pingxx: malformed response")

	// ErrOutcomeUnknown means CreateCharge or CreateRefund sent its request,
	// or may have, and got no usable answer: a transport error after
	// sending, a timeout or cancellation in flight, a 5xx or a malformed 2xx
	// body, even after retrying. Ping++ may have created the charge (look it
	// up with FindCharges before charging again) or the refund (list the
	// charge's refunds with ListRefunds before refunding again). The error
	// wraps the last cause.
	ErrOutcomeUnknown = errors.New("pingxx: charge outcome unknown")
)

// Error is an error answer of the Ping++ API: any non-2xx response. Type,
// Code, Param and Message come from Ping++'s error object
// ({"error":{"type":...}}); for a body that is not one (an HTML error page
// from a proxy), Type is empty and Message is a short, sanitised excerpt or
// the HTTP status text.
type Error struct {
	HTTPStatus int
	Type       string // invalid_request_error, api_error, channel_error, card_error
	Code       string // e.g. channel_request_error; often empty
	Param      string // the offending parameter; often empty
	Message    string
}

// Error returns "pingxx: <status> <type> <code>: <message>", leaving out
// the parts Ping++ did not send.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("pingxx: ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	for _, s := range []string{e.Type, e.Code} {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	if e.Param != "" {
		b.WriteString(" (param ")
		b.WriteString(e.Param)
		b.WriteByte(')')
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Temporary reports whether the error is Ping++'s or a proxy's (5xx), so the
// same request may succeed later. 4xx answers are definite.
func (e *Error) Temporary() bool { return e.HTTPStatus >= 500 }

// maxMessage bounds the message kept from an error body.
const maxMessage = 512

// parseError turns a non-2xx answer into an *Error. It never fails: whatever
// the body holds, the status survives.
func parseError(status int, body []byte) *Error {
	e := &Error{HTTPStatus: status}
	body = bytes.TrimSpace(body)
	if f, err := decodeFields("error", body); err == nil {
		if sub, err := decodeFields("error", f.obj["error"]); err == nil && sub.obj != nil {
			e.Type = sanitize(sub.str("type"), 64)
			e.Code = sanitize(sub.str("code"), 64)
			e.Param = sanitize(sub.str("param"), 64)
			e.Message = sanitize(sub.str("message"), maxMessage)
			// A field of the wrong kind (an object as message) leaves it
			// empty: the rest of the answer is still worth keeping.
			if e.Type == "" && e.Message == "" {
				e.Message = orDefault(http.StatusText(status), "unexpected answer")
			}
			return e
		}
	}
	e.Message = excerpt(status, body)
	return e
}

// excerpt returns a short, printable excerpt of a body that is not a Ping++
// error object, or the status text for an empty body or an HTML page.
func excerpt(status int, body []byte) string {
	if len(body) == 0 || body[0] == '<' || !utf8.Valid(body[:min(len(body), 256)]) {
		return orDefault(http.StatusText(status), "unexpected answer")
	}
	return sanitize(string(body), 120)
}

// sanitize keeps at most n bytes of printable text on one line, cut at a rune
// boundary, with secret keys and Basic credentials masked.
func sanitize(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError:
			return -1
		case unicode.IsSpace(r):
			return ' '
		case !unicode.IsPrint(r):
			return -1
		}
		return r
	}, s)
	s = maskBasic(maskKeys(s))
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}

// maskKeys replaces the secret part of every Ping++ secret or live key in s
// (sk_test_…, sk_live_…, rk_…) with asterisks, as Ping++ itself does in its
// 401 message.
func maskKeys(s string) string {
	if !strings.Contains(s, "k_") {
		return s
	}
	var b strings.Builder
	for {
		i := keyStart(s)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		prefix := s[i : i+8] // "sk_test_", "sk_live_", "rk_test_", "rk_live_"
		b.WriteString(s[:i])
		b.WriteString(prefix)
		s = s[i+8:]
		j := 0
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
		b.WriteString(strings.Repeat("*", j))
		s = s[j:]
	}
}

func keyStart(s string) int {
	best := -1
	for _, p := range []string{"sk_test_", "sk_live_", "rk_test_", "rk_live_"} {
		if i := strings.Index(s, p); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}
