package pay

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
)

// Handler serves the documented endpoint PUT /pay/pay_for_order/, compatible
// with the Django REST framework view that existing mobile clients call:
//
//	mux.Handle("/pay/pay_for_order/", pay.NewHandler(svc, tokens))
//
// It authenticates "Authorization: Token <key>" through the TokenVerifier
// (401 with DRF's messages on failure), takes order_no, channel and extra from
// a form, multipart or JSON body (at most 1 MiB), pays the order for the
// token's buyer, and answers HTTP 200 with the envelope
// {"status":0,"message":"","ch":{…}} or {"status":-4,"message":"无效的支付通道"}
// and the other statuses of payorder's table. The charge is exactly the JSON
// Ping++ returned.
type Handler struct {
	svc    *Service
	tokens TokenVerifier
	log    *slog.Logger
}

// NewHandler returns the endpoint for svc, authenticating through tokens.
func NewHandler(svc *Service, tokens TokenVerifier) *Handler {
	return &Handler{svc: svc, tokens: tokens, log: svc.cfg.Logger}
}

// envelope is the endpoint's answer.
type envelope struct {
	Status  int             `json:"status"`
	Message string          `json:"message"`
	Ch      json.RawMessage `json:"ch,omitempty"`
}

// ServeHTTP implements http.Handler. Like DRF, it authenticates before it
// looks at the method.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	buyer, err := authenticate(ctx, r, h.tokens)
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			w.Header().Set("WWW-Authenticate", `Token`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": ae.message})
			return
		}
		h.log.ErrorContext(ctx, "pay: verifying token", "err", err)
		h.writeError(w, r, payorder.NewError(payorder.CodeInternal, "verifying token", err))
		return
	}
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", http.MethodPut)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	form, err := parsePayForm(r)
	if err != nil {
		var re *requestError
		if !errors.As(err, &re) {
			re = &requestError{http.StatusBadRequest, "Malformed request."}
		}
		writeJSON(w, re.status, map[string]string{"detail": re.detail})
		return
	}
	if form.orderNo == "" {
		h.writeError(w, r, payorder.NewError(payorder.CodeInvalidRequest, "order_no is required", nil))
		return
	}
	ch, err := h.svc.PayForOrder(ctx, form.orderNo, channel.Channel(form.channel),
		ForBuyer(buyer), ClientIP(clientIP(r, h.svc.cfg.TrustedProxies)), Extra(form.extra))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, envelope{Status: 0, Message: "", Ch: chargeJSON(ch)})
}

// writeError answers err with its envelope. Only *payorder.Error messages
// reach the client; anything else is an internal error.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := payorder.ErrorCode(err)
	msg := payorder.ClientMessage(err)
	if code == payorder.CodeInvalidRequest {
		var pe *payorder.Error
		if errors.As(err, &pe) && pe.Detail != "" {
			msg += ": " + pe.Detail
		}
	}
	h.log.InfoContext(r.Context(), "pay: pay_for_order refused", "code", code, "err", err)
	writeJSON(w, code.HTTPStatus(), envelope{Status: code.Status(), Message: msg})
}

// writeJSON answers v as JSON without HTML escaping, so that a charge's
// credential (an Alipay orderInfo full of '&') keeps the bytes Ping++ sent.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"status":-5,"message":"服务器内部错误"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
