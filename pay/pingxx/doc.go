// Package pingxx speaks the Ping++ API: the charge object decoded tolerantly
// and re-encoded exactly as Ping++ sent it, charge parameters, events, the
// API error type, request signing, webhook signature verification, and a
// Client that creates, retrieves and lists charges with a context, its own
// key, HTTP client and logger.
//
// The Client is built on the official SDK's wire types and its transport seam
// (pingpp.Backend) but never reads or writes the SDK's package globals.
//
// A cancelled context or a timeout during CreateCharge does not prove that no
// charge was created: Ping++ may have received the request. The Client reports
// such an outcome as ErrOutcomeUnknown so that callers look the charge up
// before charging again.
package pingxx
