// Package payorder is the vocabulary of the payorder library: the one *Error
// type, its codes, the sentinels of every documented outcome and the table
// that maps them to the status envelope of the endpoint PUT /pay/pay_for_order/.
//
// The work is done in sub-packages:
//
//   - channel: Ping++ charge channels, their extra parameters and credentials;
//   - order: the order model, its status rules and an in-memory store;
//   - pay: the Service with PayForOrder, the HTTP handlers and webhooks;
//   - pay/pingxx: the Ping++ wire protocol and a context-aware client;
//   - pay/pingpptest: an offline emulator of Ping++ for tests and examples.
//
// Errors returned by the library are, or wrap, *Error; compare them with
// errors.Is against the sentinels:
//
//	if errors.Is(err, payorder.ErrInvalidChannel) { ... }
package payorder
