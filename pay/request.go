package pay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxBodyBytes caps the request body of the endpoint.
const maxBodyBytes = 1 << 20

// payForm is the parsed body of PUT /pay/pay_for_order/.
type payForm struct {
	orderNo string
	channel string
	extra   map[string]any
}

// requestError is a body the endpoint cannot read: answered with status and
// {"detail": detail}, the way Django REST framework answers parse errors.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

// parsePayForm reads the body as JSON, form-urlencoded or multipart form.
// Missing fields are left empty for the service to judge.
func parsePayForm(r *http.Request) (payForm, error) {
	mediaType, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.Header.Get("Content-Type") == "" {
		mediaType, err = "application/x-www-form-urlencoded", nil
	}
	if err != nil {
		return payForm{}, unsupportedMedia(r.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return payForm{}, &requestError{http.StatusRequestEntityTooLarge, "Request body too large."}
		}
		return payForm{}, &requestError{http.StatusBadRequest, "Could not read the request body."}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return payForm{}, nil // Django REST framework reads an empty body as no data
	}
	switch mediaType {
	case "application/json":
		return parseJSONForm(body)
	case "application/x-www-form-urlencoded":
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return payForm{}, &requestError{http.StatusBadRequest, "Form parse error - malformed form data."}
		}
		return formFromValues(values), nil
	case "multipart/form-data":
		return parseMultipart(body, params["boundary"])
	}
	return payForm{}, unsupportedMedia(mediaType)
}

func unsupportedMedia(ct string) error {
	return &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("Unsupported media type %q in request.", ct)}
}

func parseMultipart(body []byte, boundary string) (payForm, error) {
	if boundary == "" {
		return payForm{}, &requestError{http.StatusBadRequest, "Multipart form parse error - Invalid boundary in multipart: None"}
	}
	req := &http.Request{
		Method: http.MethodPut,
		Header: http.Header{"Content-Type": {"multipart/form-data; boundary=" + boundary}},
		Body:   io.NopCloser(bytes.NewReader(body)),
	}
	if err := req.ParseMultipartForm(maxBodyBytes); err != nil {
		return payForm{}, &requestError{http.StatusBadRequest, "Multipart form parse error - " + err.Error()}
	}
	defer req.MultipartForm.RemoveAll()
	return formFromValues(url.Values(req.MultipartForm.Value)), nil
}

// formFromValues takes order_no, channel and extra[key] fields.
func formFromValues(v url.Values) payForm {
	f := payForm{orderNo: strings.TrimSpace(v.Get("order_no")), channel: strings.TrimSpace(v.Get("channel"))}
	for k, vals := range v {
		key, ok := strings.CutPrefix(k, "extra[")
		if !ok || !strings.HasSuffix(key, "]") || len(vals) == 0 {
			continue
		}
		if f.extra == nil {
			f.extra = make(map[string]any)
		}
		f.extra[strings.TrimSuffix(key, "]")] = vals[0]
	}
	return f
}

func parseJSONForm(body []byte) (payForm, error) {
	var raw struct {
		OrderNo json.RawMessage `json:"order_no"`
		Channel json.RawMessage `json:"channel"`
		Extra   json.RawMessage `json:"extra"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return payForm{}, &requestError{http.StatusBadRequest, "JSON parse error - " + jsonProblem(err)}
	}
	var f payForm
	var err error
	if f.orderNo, err = jsonScalar(raw.OrderNo, true); err != nil {
		return payForm{}, &requestError{http.StatusBadRequest, "order_no: " + err.Error()}
	}
	if f.channel, err = jsonScalar(raw.Channel, false); err != nil {
		return payForm{}, &requestError{http.StatusBadRequest, "channel: " + err.Error()}
	}
	if len(raw.Extra) > 0 && string(raw.Extra) != "null" {
		dec := json.NewDecoder(bytes.NewReader(raw.Extra))
		dec.UseNumber()
		if err := dec.Decode(&f.extra); err != nil {
			return payForm{}, &requestError{http.StatusBadRequest, "extra: must be a JSON object"}
		}
	}
	return f, nil
}

// jsonScalar returns the text of a JSON string, or of an integer literal when
// numbers are allowed (order numbers too long for int64 keep every digit).
func jsonScalar(raw json.RawMessage, allowNumber bool) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errors.New("must be a string")
		}
		return strings.TrimSpace(s), nil
	case allowNumber && isDigits(raw):
		return string(raw), nil
	case allowNumber:
		return "", errors.New("must be a string or a whole number")
	}
	return "", errors.New("must be a string")
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// jsonProblem describes a JSON syntax error without echoing the body.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return "invalid JSON"
}
