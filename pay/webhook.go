package pay

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/yianpay/payorder/pay/pingxx"
)

// WebhookHandler receives Ping++ webhooks:
//
//	mux.Handle("POST /pay/webhook/", pay.NewWebhookHandler(svc, pingppPublicKey))
//
// It reads the raw body (at most 1 MiB), verifies X-Pingplusplus-Signature
// with Ping++'s public key before decoding anything, and hands the event to
// Service.HandleEvent. A signed payload that is not a readable event is
// kept whole as an anomaly (Service.KeepUnreadable). Answers: 200 once the
// event is durably handled; 400 for a missing or bad signature (nothing
// changes); 405 for other methods; 413 for an oversized body; 500 when
// handling failed, so that Ping++ delivers the event again.
type WebhookHandler struct {
	svc *Service
	key *rsa.PublicKey
	log *slog.Logger
}

// NewWebhookHandler returns the webhook receiver for svc, trusting events
// signed by key (the "Ping++ 公钥" of the dashboard, see pingxx.ParsePublicKey).
// Events are checked against svc's Config.AppID and Config.Livemode.
func NewWebhookHandler(svc *Service, key *rsa.PublicKey) (*WebhookHandler, error) {
	if key == nil {
		return nil, errors.New("pay: webhook handler needs Ping++'s public key")
	}
	return &WebhookHandler{svc: svc, key: key, log: svc.cfg.Logger}, nil
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, pingxx.MaxEventBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		h.svc.tel.refusedEvent(r.Context())
		if errors.As(err, &tooLarge) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	// Header names are case-insensitive; Apache lower-cases them.
	ev, err := pingxx.ParseEvent(body, r.Header.Get(pingxx.HeaderWebhookSignature), h.key)
	switch {
	case errors.Is(err, pingxx.ErrMalformedEvent):
		// Genuinely signed, yet not an event we can read: keep it.
		err = h.svc.keepUnreadableEvent(r.Context(), body, err)
	case err != nil:
		h.log.WarnContext(r.Context(), "pay: webhook rejected", "err", err, "remote", r.RemoteAddr)
		h.svc.tel.refusedEvent(r.Context())
		http.Error(w, webhookRejection(err), http.StatusBadRequest)
		return
	default:
		err = h.svc.HandleEvent(r.Context(), ev)
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "pay: webhook not handled; Ping++ will deliver it again", "err", err)
		http.Error(w, "not handled, deliver again", http.StatusInternalServerError)
		return
	}
	fmt.Fprintln(w, "ok")
}

func webhookRejection(err error) string {
	if errors.Is(err, pingxx.ErrNoSignature) {
		return "missing signature"
	}
	return "bad signature"
}
