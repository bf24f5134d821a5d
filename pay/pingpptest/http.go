package pingpptest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/yianpay/payorder/pay/pingxx"
)

// Route names one of the emulator's routes, for faults.
type Route string

// The emulator's routes.
const (
	RouteAny            Route = "*"
	RouteCreateCharge   Route = "POST /v1/charges"
	RouteListCharges    Route = "GET /v1/charges"
	RouteRetrieveCharge Route = "GET /v1/charges/{id}"
	RouteReverseCharge  Route = "POST /v1/charges/{id}/reverse"
	RouteCreateRefund   Route = "POST /v1/charges/{id}/refunds"
	RouteListRefunds    Route = "GET /v1/charges/{id}/refunds"
	RouteRetrieveRefund Route = "GET /v1/charges/{id}/refunds/{re}"
	RouteRetrieveEvent  Route = "GET /v1/events/{id}"
	RouteNotify         Route = "GET /notify/charges/{id}"
	RouteMockPage       Route = "/mock.php"
	RouteUnknown        Route = "unknown"
)

// Error types of Ping++'s error envelope (API.md §6.3).
const (
	typeInvalidRequest = "invalid_request_error"
	typeAPI            = "api_error"
	typeChannel        = "channel_error"
)

// apiError is an answer in Ping++'s error envelope. en, when set, is the
// message for a request whose Accept-Language asks for English, as Ping++
// answers in English then (API.md §1; samples/errors/E3.http); only the
// messages a client is likely to show have one.
type apiError struct {
	status  int
	typ     string
	message string
	en      string
	code    string
	param   string
}

func (e *apiError) Error() string { return "pingpptest: " + e.message }

// body is the envelope; code and param are left out when empty, as Ping++
// does (and as pingpp-go needs: it panics on a null param).
func (e *apiError) body() []byte {
	inner := ordered{{"type", e.typ}, {"message", e.message}}
	if e.code != "" {
		inner = append(inner, kv{"code", e.code})
	}
	if e.param != "" {
		inner = append(inner, kv{"param", e.param})
	}
	return encodeJSON(ordered{{"error", inner}})
}

// invalidParam is a 400 invalid_request_error naming param.
func invalidParam(param, message string) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: typeInvalidRequest, message: message, param: param}
}

// notFound is Ping++'s 404 for an unknown object (samples/errors/E2.http;
// English as in E3.http).
func notFound(kind, id string) *apiError {
	return &apiError{status: http.StatusNotFound, typ: typeInvalidRequest,
		message: "未找到 " + kind + " : " + id + "。", en: "No such " + kind + ": " + id, param: "id"}
}

// unknownApp is the answer to a request naming an app id the emulator does
// not know. Ping++'s own message is only "提供了无效的 app id"; the emulator
// adds the ids it knows and how to add one, since a wrong app id is the
// usual first mistake against it.
func (e *Emulator) unknownApp(param, id string) *apiError {
	known := strings.Join(e.appList, ", ")
	return &apiError{status: http.StatusBadRequest, typ: typeInvalidRequest, param: param,
		message: "提供了无效的 app id: " + id + "。本模拟器（pingpptest）只认识 " + known +
			"；用 pingpp-emulator 的 -app-id 参数或 pingpptest.Config.AppIDs 添加。",
		en: "No such app: " + id + ". This emulator (pingpptest) knows " + known +
			"; add an app id with pingpp-emulator's -app-id flag or pingpptest.Config.AppIDs."}
}

// english reports whether r asks for English messages.
func english(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "en")
}

// handler serves one route; it returns an *apiError to answer with.
type handler func(w http.ResponseWriter, r *http.Request, req *request) error

// request is what the middleware learnt about an API request.
type request struct {
	livemode bool
	body     []byte
}

func (e *Emulator) routes() {
	e.controlRoutes()
	e.mux = http.NewServeMux()
	api := map[Route]handler{
		RouteCreateCharge:   e.createCharge,
		RouteListCharges:    e.listCharges,
		RouteRetrieveCharge: e.onCharge(e.retrieveCharge),
		RouteReverseCharge:  e.onCharge(e.reverseCharge),
		RouteCreateRefund:   e.onCharge(e.createRefund),
		RouteListRefunds:    e.onCharge(e.listRefunds),
		RouteRetrieveRefund: e.onCharge(e.retrieveRefund),
		RouteRetrieveEvent:  e.retrieveEvent,
	}
	for route, h := range api {
		e.mux.Handle(string(route), e.serve(route, true, h))
	}
	e.mux.Handle(string(RouteNotify), e.serve(RouteNotify, false, e.notify))
	e.mux.Handle(string(RouteMockPage), e.serve(RouteMockPage, false, e.mock))
	e.mux.Handle("/", e.serve(RouteUnknown, false, func(w http.ResponseWriter, r *http.Request, _ *request) error {
		return &apiError{status: http.StatusNotFound, typ: typeInvalidRequest,
			message: "请求的 URL 不存在: " + r.Method + " " + r.URL.Path}
	}))
}

// serve wraps a route handler with faults, authentication, request
// signature checks and error encoding.
func (e *Emulator) serve(route Route, auth bool, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &request{}
		run := func(w http.ResponseWriter) {
			rec := newRecorder()
			if err := e.handle(rec, r, req, auth, h); err != nil {
				writeError(rec, err, english(r))
			}
			if e.cfg.SignResponses {
				e.signResponse(rec)
			}
			rec.copyTo(w)
		}
		f := e.takeFault(route)
		switch {
		case f == nil:
			run(w)
		case !f.After:
			if !e.delay(r, f.Latency) {
				return
			}
			if f.Kind == FaultLatency {
				run(w)
				return
			}
			e.writeFault(w, r, f)
		default:
			rec := newRecorder()
			run(rec) // the answer is lost, the work is done
			if !e.delay(r, f.Latency) {
				return
			}
			if f.Kind == FaultLatency {
				rec.copyTo(w)
				return
			}
			e.writeFault(w, r, f)
		}
	})
}

func (e *Emulator) handle(w http.ResponseWriter, r *http.Request, req *request, auth bool, h handler) error {
	if auth {
		live, err := e.authenticate(r)
		if err != nil {
			return err
		}
		req.livemode = live
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		return invalidParam("", "请求体过大或读取失败。")
	}
	req.body = body
	if auth {
		if err := e.checkSignature(r, body); err != nil {
			return err
		}
	}
	return h(w, r, req)
}

// authenticate accepts "Basic base64(key:)" and "Bearer key" (API.md §1) and
// reports whether the key is a live key.
func (e *Emulator) authenticate(r *http.Request) (livemode bool, err error) {
	key, ok := apiKey(r.Header.Get("Authorization"))
	if !ok {
		return false, &apiError{status: http.StatusUnauthorized, typ: typeInvalidRequest,
			message: "没有提供 API KEY，请在 Authorization header 中提供 Secret Key。"}
	}
	if !e.keys[key] {
		return false, &apiError{status: http.StatusUnauthorized, typ: typeInvalidRequest,
			message: "提供了无效的 API KEY: " + maskKey(key) + "。", en: "Invalid API key provided: " + maskKey(key)}
	}
	return strings.HasPrefix(key, "sk_live_"), nil
}

// apiKey extracts the secret key from an Authorization header value.
func apiKey(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return cred, cred != ""
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", false
		}
		user, _, _ := strings.Cut(string(raw), ":")
		return user, user != ""
	}
	return "", false
}

// maskKey keeps the sk_test_/sk_live_ prefix and stars the rest, as Ping++
// echoes a wrong key (samples/errors/E1.http).
func maskKey(key string) string {
	keep := 0
	for _, p := range []string{"sk_test_", "sk_live_"} {
		if strings.HasPrefix(key, p) {
			keep = len(p)
		}
	}
	return key[:keep] + strings.Repeat("*", len([]rune(key[keep:])))
}

// checkSignature verifies Pingplusplus-Signature over body + request URI +
// timestamp when a merchant public key is configured. Ping++ documents the
// check for POST and PUT; the emulator requires it there and verifies a
// signature sent with any other method.
func (e *Emulator) checkSignature(r *http.Request, body []byte) error {
	if e.merchant == nil {
		return nil
	}
	sig := r.Header.Get(pingxx.HeaderSignature)
	if sig == "" && r.Method != http.MethodPost && r.Method != http.MethodPut {
		return nil
	}
	err := pingxx.VerifyRequest(e.merchant, body, r.URL.RequestURI(), r.Header.Get(pingxx.HeaderTimestamp), sig)
	switch {
	case errors.Is(err, pingxx.ErrNoSignature):
		return invalidParam("", "没有提供签名串，需要在 header 中加入签名串。")
	case err != nil:
		return invalidParam("", "提供了无效的签名")
	}
	return nil
}

// writeError answers with err in Ping++'s error envelope, in English when
// asked and available; an error that is not an *apiError becomes a 500
// api_error.
func writeError(w http.ResponseWriter, err error, english bool) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, typ: typeAPI, message: "服务器内部错误。"}
	}
	if english && ae.en != "" {
		en := *ae
		en.message = en.en
		ae = &en
	}
	writeJSON(w, ae.status, ae.body())
}

// writeJSON answers with a JSON body and Ping++'s headers.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// signResponse adds X-Pingplusplus-Signature, Ping++'s signature of the
// response body made with its webhook key (API.md §7.5: Java SDK ≥ 2.5.0 can
// verify it; which bytes Ping++ signs beyond the body is UNCONFIRMED).
func (e *Emulator) signResponse(rec *recorder) {
	if sig, err := pingxx.Sign(e.webhookKey, rec.body.Bytes()); err == nil {
		rec.header.Set(pingxx.HeaderWebhookSignature, sig)
	}
}

// recorder buffers an answer that a fault will replace (or, for latency,
// delay).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header), status: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func (r *recorder) copyTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	w.Write(r.body.Bytes())
}
