package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
)

// minAdminToken is the shortest operator token the server accepts: a
// guessable one would hand out refunds.
const minAdminToken = 32

// refundHandler is the operator's refund routes, authorised by
// Authorization: Bearer <PAYORDER_ADMIN_TOKEN> (a buyer's login token,
// scheme Token, is never accepted): POST /admin/refunds/, a JSON body
// naming the order, the amount and the operator's own refund request id
// (pay.Service.Refund), and POST /admin/refunds/abandon/, naming the order,
// the request id of a refund_unconfirmed refund and the reason
// (pay.Service.AbandonRefund). Both answer the endpoint's envelope,
// {"status":0,"message":"","refund":{…}}, with the refund statuses of
// payorder's status table.
type refundHandler struct {
	svc   *pay.Service
	token []byte
	log   *slog.Logger
}

// refundBody is the request.
type refundBody struct {
	OrderNo       string         `json:"order_no"`
	Amount        int64          `json:"amount"`
	RequestID     string         `json:"request_id"`
	Description   string         `json:"description"`
	ChargeID      string         `json:"charge_id"`
	Anomaly       string         `json:"anomaly"`
	Metadata      map[string]any `json:"metadata"`
	FundingSource string         `json:"funding_source"`
}

// abandonBody is the request of the abandon route.
type abandonBody struct {
	OrderNo   string `json:"order_no"`
	RequestID string `json:"request_id"`
	Reason    string `json:"reason"`
}

// refundJSON is the refund attempt as answered.
type refundJSON struct {
	RequestID string `json:"request_id"`
	OrderNo   string `json:"order_no"`
	ChargeID  string `json:"charge_id"`
	Amount    int64  `json:"amount"`
	State     string `json:"state"`
	RefundID  string `json:"refund_id,omitempty"`
	Evidence  string `json:"evidence,omitempty"`
}

type refundEnvelope struct {
	Status  int         `json:"status"`
	Message string      `json:"message"`
	Refund  *refundJSON `json:"refund,omitempty"`
}

func (h *refundHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(token), h.token) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="payorder admin"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "operator token required"})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"detail": `Method "` + r.Method + `" not allowed.`})
		return
	}
	var (
		orderNo string
		att     ledger.RefundAttempt
		err     error
	)
	switch r.URL.Path {
	case "/admin/refunds/":
		var body refundBody
		if err = decodeBody(w, r, &body); err == nil {
			orderNo = body.OrderNo
			att, err = h.svc.Refund(r.Context(), body.OrderNo, body.Amount, pay.RefundRequest{
				ID: body.RequestID, Description: body.Description, ChargeID: body.ChargeID, Anomaly: body.Anomaly,
				Metadata: body.Metadata, FundingSource: body.FundingSource,
			})
		}
	case "/admin/refunds/abandon/":
		var body abandonBody
		if err = decodeBody(w, r, &body); err == nil {
			orderNo = body.OrderNo
			att, err = h.svc.AbandonRefund(r.Context(), body.OrderNo, body.RequestID, body.Reason)
		}
	default:
		http.NotFound(w, r)
		return
	}
	var out *refundJSON
	if att.ID != "" {
		out = &refundJSON{RequestID: att.ID, OrderNo: orderNo, ChargeID: att.ChargeID, Amount: att.Amount,
			State: string(att.State), RefundID: att.RefundID, Evidence: att.Evidence}
	}
	h.answer(w, r, out, err)
}

// decodeBody decodes the JSON body of r, at most 64 KiB and with no field
// v does not have, into v; its error is payorder.ErrInvalidRequest.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return payorder.NewError(payorder.CodeInvalidRequest, "body: "+err.Error(), nil).WithMessage("请求参数错误: " + err.Error())
	}
	return nil
}

// answer writes the envelope for err (nil: status 0) with the refund, if any.
func (h *refundHandler) answer(w http.ResponseWriter, r *http.Request, rf *refundJSON, err error) {
	code := payorder.ErrorCode(err)
	if err != nil {
		level := slog.LevelWarn
		if errors.Is(err, payorder.ErrInternal) {
			level = slog.LevelError
		}
		h.log.Log(r.Context(), level, "refund", "err", err)
	}
	msg := payorder.ClientMessage(err)
	writeJSON(w, code.HTTPStatus(), refundEnvelope{Status: code.Status(), Message: msg, Refund: rf})
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// mountRefunds mounts the refund route when PAYORDER_ADMIN_TOKEN holds a
// token of at least minAdminToken characters, and says why not otherwise.
func mountRefunds(mux *http.ServeMux, svc *pay.Service, token string, log *slog.Logger) (mounted bool, why string) {
	switch {
	case token == "":
		return false, "PAYORDER_ADMIN_TOKEN not set: the operator's refund route is not mounted"
	case len(token) < minAdminToken:
		return false, "PAYORDER_ADMIN_TOKEN is shorter than 32 characters: the operator's refund route is not mounted"
	}
	mux.Handle("/admin/refunds/", &refundHandler{svc: svc, token: []byte(token), log: log})
	return true, ""
}
