// Package pingxx speaks the Ping++ API: the charge object decoded tolerantly
// and re-encoded exactly as Ping++ sent it, charge parameters, events, the
// API error type, request signing, webhook signature verification, and a
// Client that creates, retrieves and lists charges, and creates and lists
// refunds, with a context, its own key, HTTP client and logger.
//
// The Client is built on the official SDK's wire types and its transport seam
// (pingpp.Backend) but never reads or writes the SDK's package globals.
//
// A cancelled context or a timeout during CreateCharge does not prove that no
// charge was created: Ping++ may have received the request. The Client reports
// such an outcome as ErrOutcomeUnknown so that callers look the charge up
// before charging again.
//
// # Charges as Ping++ sent them
//
// Charge decodes the shapes Ping++'s PHP back end really produces ([] for an
// empty object, null for unset numbers and strings, app as an id or an
// expanded object, numbers and strings used interchangeably) and keeps the
// bytes it was decoded from: json.Marshal of a decoded Charge gives those
// bytes back, compacted, so the mobile Ping++ SDK receives exactly what
// Ping++ sent. Refund and Event do the same.
//
// # Errors
//
// A non-2xx answer is an *Error with the HTTP status and Ping++'s type,
// code, param and message. A 2xx answer that is not the expected object
// (empty, null, HTML, invalid or oversized JSON, a charge without an id) is
// ErrMalformedResponse. Bodies are read through a 1 MiB limit. Error strings
// and log lines never carry the secret key, a signature or a credential.
//
// # Retries
//
// Reads (GET) are retried on transport errors, 5xx and malformed answers,
// with jittered exponential backoff that wakes when the context is done.
// CreateCharge resends its identical body only inside half of Ping++'s
// idempotency window for the channel (one minute for most channels, two
// hours for WeChat), where Ping++ answers a repeat with the first charge;
// when its outcome stays unknown it returns ErrOutcomeUnknown, and the
// caller resolves it with FindCharges. CreateRefund, for which Ping++ has no
// idempotency, is resent only when the request surely never left; otherwise
// it returns ErrOutcomeUnknown, resolved with ListRefunds. A 4xx is never
// retried.
//
// # Webhooks
//
// ParseEvent verifies the X-Pingplusplus-Signature header over the raw body
// with Ping++'s public key (ParsePublicKey) before decoding anything;
// SignWebhook signs payloads for tests of a webhook receiver.
//
// # Telemetry
//
// Config.MeterProvider receives the latency of every HTTP request to Ping++
// by route template and status code, and the count of retries;
// Config.TracerProvider a client span per call with its retries as events.
// Both are optional, and no global provider is read.
package pingxx
