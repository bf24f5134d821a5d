package pay

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
)

// DefaultPath is the documented endpoint's URL path.
const DefaultPath = "/pay/pay_for_order/"

// Handler serves the documented endpoint PUT /pay/pay_for_order/ as a
// drop-in for the Django REST framework view that existing mobile clients
// call:
//
//	mux.Handle("/pay/pay_for_order/", pay.NewHandler(svc, tokens))
//
// Mount it without a method in the pattern: the handler itself answers other
// methods (405, OPTIONS) as DRF does.
//
// Everything DRF and Django decide is answered as DRF 3.14 on Django 3.2
// answers it (pay/testdata/drf holds the answers of a real DRF app it is
// tested against): content negotiation (406, ?format=, indent), "Authorization:
// Token <key>" through the TokenVerifier (401 with DRF's messages), 405 and
// OPTIONS, form, multipart and JSON bodies with Django's parsers and limits,
// 404 below the endpoint, and on every DRF answer Allow: PUT, OPTIONS, Vary:
// Accept and Content-Type: application/json. It then pays order_no through
// channel for the token's buyer and answers HTTP 200 with the envelope
// {"status":0,"message":"","ch":{…}} or {"status":-4,"message":"无效的支付通道"}
// and the other statuses of payorder's table; ch is exactly the JSON Ping++
// returned. README lists where it still differs from DRF.
type Handler struct {
	svc    *Service
	tokens TokenVerifier
	log    *slog.Logger
	lang   Language
	path   string
}

// HandlerOption configures a Handler.
type HandlerOption func(*Handler)

// WithLanguage sets the language of DRF's own messages ({"detail": …}), as
// the DRF app's LANGUAGE_CODE did; default English. SimplifiedChinese gives
// DRF's zh-hans texts (身份认证信息未提供。…).
func WithLanguage(l Language) HandlerOption { return func(h *Handler) { h.lang = l } }

// WithPath sets the URL path the handler answers; any other path it is
// handed (a path below it, from a ServeMux subtree pattern) is Django's 404
// page. Default DefaultPath.
func WithPath(path string) HandlerOption { return func(h *Handler) { h.path = path } }

// NewHandler returns the endpoint for svc, authenticating through tokens.
func NewHandler(svc *Service, tokens TokenVerifier, opts ...HandlerOption) *Handler {
	h := &Handler{svc: svc, tokens: tokens, log: svc.cfg.Logger, lang: English, path: DefaultPath}
	for _, o := range opts {
		o(h)
	}
	if _, ok := drfMessages[h.lang]; !ok {
		h.lang = English
	}
	return h
}

// envelope is the endpoint's answer.
type envelope struct {
	Status  int             `json:"status"`
	Message string          `json:"message"`
	Ch      json.RawMessage `json:"ch,omitempty"`
}

// detail is DRF's error body.
type detail struct {
	Detail string `json:"detail"`
}

// metadata is DRF's SimpleMetadata answer to OPTIONS for the view.
type metadata struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Renders     []string `json:"renders"`
	Parses      []string `json:"parses"`
}

// viewMetadata is what the DRF view class PayForOrder(APIView), without a
// docstring, answers.
var viewMetadata = metadata{
	Name:    "Pay For Order",
	Renders: []string{"application/json", "text/html"},
	Parses:  []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data"},
}

// ServeHTTP implements http.Handler, in DRF's order: URL, content
// negotiation, authentication, method, body.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.path {
		writePage(w, http.StatusNotFound, pageNotFound)
		return
	}
	query, err := queryDict([]byte(r.URL.RawQuery), codecUTF8)
	if err != nil {
		writePage(w, http.StatusBadRequest, pageBadRequest)
		return
	}
	var format string
	if f := query["format"]; len(f) > 0 {
		format, _ = f[len(f)-1].(string)
	}
	accept, hasAccept := wsgiHeader(r.Header.Values("Accept"))
	neg, err := negotiate(format, accept, hasAccept)
	switch {
	case errors.Is(err, errFormatNotFound):
		h.writeDRF(w, negotiation{}, http.StatusNotFound, detail{h.lang.text(msgNotFound)})
		return
	case errors.Is(err, errNotAcceptable):
		h.writeDRF(w, negotiation{}, http.StatusNotAcceptable, detail{h.lang.text(msgNotAcceptable)})
		return
	case err != nil:
		writePage(w, http.StatusInternalServerError, pageServerErr)
		return
	}
	ctx := r.Context()
	buyer, err := authenticate(ctx, r, h.tokens)
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			w.Header().Set("WWW-Authenticate", "Token")
			h.writeDRF(w, neg, http.StatusUnauthorized, detail{h.lang.text(ae.message)})
			return
		}
		h.writeError(w, r, neg, payorder.NewError(payorder.CodeInternal, "verifying token", err))
		return
	}
	switch method := strings.ToUpper(r.Method); method {
	case http.MethodPut:
		h.pay(w, r, neg, buyer)
	case http.MethodOptions:
		h.writeDRF(w, neg, http.StatusOK, viewMetadata)
	default:
		h.writeDRF(w, neg, http.StatusMethodNotAllowed, detail{h.lang.text(msgMethodNotAllowed, latin1([]byte(method)))})
	}
}

// pay is the view itself: read order_no, channel and extra, and pay.
func (h *Handler) pay(w http.ResponseWriter, r *http.Request, neg negotiation, buyer string) {
	data, err := readData(w, r, h.lang)
	if err != nil {
		var be *bodyError
		switch {
		case errors.As(err, &be) && be.page != "":
			writePage(w, be.status, be.page)
		case errors.As(err, &be):
			h.writeDRF(w, neg, be.status, detail{be.detail})
		default:
			h.writeError(w, r, neg, err)
		}
		return
	}
	orderNo, ch, extra, err := payFields(data)
	if err != nil {
		h.writeError(w, r, neg, err)
		return
	}
	charge, err := h.svc.PayForOrder(r.Context(), orderNo, channel.Channel(ch),
		ForBuyer(buyer), ClientIP(clientIP(r, h.svc.cfg.TrustedProxies)), Extra(extra))
	if err != nil {
		h.writeError(w, r, neg, err)
		return
	}
	h.writeDRF(w, neg, http.StatusOK, envelope{Status: 0, Message: "", Ch: charge.JSON()})
}

// payFields takes order_no, channel and extra from the request data, as
// payorder documents them: order_no a string or a JSON integer, 1–64 ASCII
// letters and digits; channel a string; extra a JSON object or form fields
// extra[key]. Surrounding ASCII whitespace is ignored.
func payFields(data requestData) (orderNo, ch string, extra map[string]any, err error) {
	invalid := func(detail string) error { return payorder.NewError(payorder.CodeInvalidRequest, detail, nil) }
	if !data.object {
		return "", "", nil, invalid("the body must be a JSON object")
	}
	orderNo, ok := scalar(data.values["order_no"], true)
	if !ok {
		return "", "", nil, invalid("order_no must be a string or a whole number")
	}
	if ch, ok = scalar(data.values["channel"], false); !ok {
		return "", "", nil, invalid("channel must be a string")
	}
	if orderNo == "" {
		return "", "", nil, invalid("order_no is required")
	}
	if !order.ValidNo(orderNo) { // before any store read, so garbage never reaches one
		return "", "", nil, invalid("order_no must be 1 to 64 ASCII letters or digits")
	}
	switch v := data.values["extra"].(type) {
	case nil:
		extra = data.extra
	case map[string]any:
		extra = goJSON(v).(map[string]any)
	default:
		return "", "", nil, payorder.NewError(payorder.CodeInvalidChannel, "extra must be a JSON object", nil)
	}
	return orderNo, ch, extra, nil
}

// scalar is a field's text: empty when absent or null, a string without
// surrounding ASCII whitespace, or, when numbers are allowed, a JSON integer
// with every digit. ok is false for any other type.
func scalar(v any, numbers bool) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return trimFunc(v, pyBytesSpace), true
	case pyInt:
		return string(v), numbers
	}
	return "", false
}

// goJSON turns parsed JSON numbers into json.Number for the service.
func goJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = goJSON(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = goJSON(x)
		}
		return out
	case pyInt:
		return json.Number(v)
	case pyFloat:
		return json.Number(v)
	}
	return v
}

// maxLoggedErr bounds the error text of one log line: a request's fields
// must not turn into megabytes of log.
const maxLoggedErr = 512

// boundedText cuts s to at most n bytes at a rune boundary.
func boundedText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// writeError answers err with its envelope. Only *payorder.Error messages
// reach the client; anything else is an internal error.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, neg negotiation, err error) {
	code := payorder.ErrorCode(err)
	msg := payorder.ClientMessage(err)
	if code == payorder.CodeInvalidRequest {
		var pe *payorder.Error
		if errors.As(err, &pe) && pe.Detail != "" {
			msg += ": " + pe.Detail
		}
	}
	level := slog.LevelInfo
	if code == payorder.CodeInternal {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "pay: pay_for_order refused", "code", code, "err", boundedText(err.Error(), maxLoggedErr))
	h.writeDRF(w, neg, code.HTTPStatus(), envelope{Status: code.Status(), Message: msg})
}

// writeDRF answers v the way DRF's JSONRenderer renders a Response: compact
// JSON without HTML escaping (so a charge's credential, an Alipay orderInfo
// full of '&', keeps the bytes Ping++ sent), indented when the accepted
// media type asks, with the headers DRF sends on every answer of the view.
func (h *Handler) writeDRF(w http.ResponseWriter, neg negotiation, status int, v any) {
	var buf bytes.Buffer
	if env, ok := v.(envelope); ok {
		// The charge is already compact JSON (what Ping++ sent, less
		// insignificant whitespace): written as it is, not re-scanned.
		buf.Grow(len(env.Ch) + 64)
		buf.WriteString(`{"status":`)
		buf.WriteString(strconv.Itoa(env.Status))
		buf.WriteString(`,"message":`)
		writeJSONString(&buf, env.Message)
		if len(env.Ch) > 0 {
			buf.WriteString(`,"ch":`)
			buf.Write(env.Ch)
		}
		buf.WriteByte('}')
		h.writeJSONBytes(w, neg, status, buf.Bytes())
		return
	}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"status":-5,"message":"服务器内部错误"}`)
	}
	h.writeJSONBytes(w, neg, status, buf.Bytes())
}

// writeJSONBytes answers the compact JSON body with DRF's headers, indented
// when the negotiation asked for it.
func (h *Handler) writeJSONBytes(w http.ResponseWriter, neg negotiation, status int, body []byte) {
	hd := w.Header()
	hd.Set("Allow", "PUT, OPTIONS")
	hd.Set("Vary", "Accept")
	hd.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(pyJSONText(body, neg.indent()))
}

// writeJSONString writes s as a JSON string, without HTML escaping, as
// DRF's renderer writes it.
func writeJSONString(buf *bytes.Buffer, s string) {
	if s == "" {
		buf.WriteString(`""`)
		return
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)               // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

// writePage answers one of Django's own HTML pages.
func writePage(w http.ResponseWriter, status int, page string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	w.Write([]byte(page))
}
