// Package channel knows the Ping++ charge channels: their names, the extra
// parameters each requires or accepts and how to check them, the order number
// and expiry rules per channel, Ping++'s idempotency window for a repeated
// order number, and the typed payment credentials a charge carries back to
// the mobile or web client.
//
// Everything here is taken from the Ping++ API reference and SDKs; see
// pingpp/API.md §2 and §3 in the project's shared notes.
package channel
