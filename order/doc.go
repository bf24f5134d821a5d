// Package order is the host's side of payorder: the Order a buyer pays, as
// payorder reads it from the host (number, buyer, amount, currency, texts,
// metadata, creation and expiry, closed or not), the checks that decide
// whether it can be charged, and MemStore, an in-memory order source for
// examples and tests.
//
// payorder never writes the host's orders: what it records about paying
// them (attempts, charges, payments, refunds, fulfilment) is its own ledger,
// package pay/ledger.
//
// Amounts are int64 fen (1 yuan = 100 fen); order numbers are strings, since
// numbers such as 12134676899915430002 do not fit in an int64.
package order
