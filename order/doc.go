// Package order is the order side of payorder: the Order a buyer pays, the
// rules of its status, the record of the Ping++ charges made for it, and
// MemStore, a concurrency-safe in-memory store implementing everything the
// pay package needs.
//
// A charge record names its channel with package channel, the one import
// of this package beyond the root vocabulary (DESIGN.md's table had none).
//
// Amounts are int64 fen (1 yuan = 100 fen); order numbers are strings, since
// numbers such as 12134676899915430002 do not fit in an int64.
package order
