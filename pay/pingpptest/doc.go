// Package pingpptest is an offline, stateful emulator of the Ping++ API
// (pingxx.com) for tests, examples and users' own tests, shaped like
// net/http/httptest.
//
// NewServer starts an emulator on a loopback port; point a Ping++ client at
// Server.APIBase() with DefaultSecretKey and DefaultAppID:
//
//	srv := pingpptest.NewServer(pingpptest.Config{WebhookURL: receiver.URL})
//	defer srv.Close()
//
// New returns the same emulator as an http.Handler, for mounting on a fixed
// address (Listen does that for you; examples/pingpp-emulator runs it as a
// program).
//
// The emulator follows the rules of Ping++'s documentation (shared
// pingpp/API.md): routes POST/GET /v1/charges, GET /v1/charges/{id},
// refunds under /v1/charges/{id}/refunds, GET /v1/events/{id} and the test
// mode payment trigger GET /notify/charges/{id}?livemode=false; Basic and
// Bearer authentication with the configured secret keys; request signature
// checks when a merchant public key is configured; parameter validation with
// Ping++'s error envelope; charges in the field order of real responses, with
// a plausible credential per channel; the repeated order_no window; signed
// webhooks redelivered on Ping++'s schedule.
//
// Choices where Ping++'s behaviour is not documented (UNCONFIRMED in
// API.md) are marked so in the documentation of the affected identifiers.
// The most visible: a create request that repeats an order_no on the same
// channel inside the idempotency window with a different amount, subject or
// body answers 400 invalid_request_error with param "order_no".
//
// Pay (or the notify route) pays a charge and sends a charge.succeeded event
// signed with the webhook key (WebhookPublicKey, WebhookPublicKeyPEM) to
// Config.WebhookURL, redelivering on Ping++'s schedule scaled by
// Config.RetryScale. Tests wait for deliveries with WaitDeliveries instead of
// sleeping; with Config.ManualWebhooks they send events themselves with
// Deliver (twice, out of order), and DeliverRaw posts forged or unsigned
// bodies.
//
// Test-mode refunds finish by themselves as Config.RefundOutcome and
// Config.RefundDelay say (by default they succeed at once, with a
// refund.succeeded event); SucceedRefund, FailRefund and HoldRefund decide
// one by hand. The emulator has its own clock (Now, Advance): moving it
// expires charges, closes idempotency windows and finishes delayed refunds.
//
// The test payment page /mock.php is the page Ping++'s browser SDK
// (pingpp-js) opens for a test-mode charge: it shows the charge in Chinese
// and pays it, fails it or cancels, returning the browser to the charge's
// success_url or cancel_url.
//
// The control API under /_emulator/ does over HTTP what the methods do, for
// tests in any language: faults, the clock, paying or failing charges,
// finishing refunds, redelivering events, counters (Stats) and Reset.
//
// Tests inject faults per route (Fail): latency, 5xx answers with JSON or
// nginx HTML bodies, malformed or empty bodies, error bodies with missing or
// null fields, connection resets and requests that never get an answer,
// either instead of processing the request or after it (Fault.After), which
// is how callers' "unknown outcome" paths are exercised.
package pingpptest
