// Package ledger is payorder's own record of paying orders: payment attempts
// (written before Ping++ is asked), the charges Ping++ made, the payment of an
// order, its refunds, the fulfilment of a paid order, and the anomalies that
// need a person. The host's orders are not here: payorder reads them through
// pay.OrderStore and never writes them.
//
// The package holds three things:
//   - the Ledger contract, which every implementation keeps: a Record per
//     order, read in one round trip and changed atomically by Update under the
//     ledger's own clock; charge ids and Ping++ order numbers unique across all
//     orders; the orders with open work found through an index, never by a
//     scan of history;
//   - the rules, as methods of Record: what beginning, taking over and
//     finishing a payment attempt, a payment, a refund or a fulfilment claim
//     does to an order's record. They are pure functions of the record and the
//     clock, shared by every implementation, so that a database
//     implementation only makes them atomic;
//   - Memory, the in-memory implementation, for tests, examples and a single
//     instance that may lose its ledger on restart.
//
// The PostgreSQL and MySQL implementations are in the packages postgres and
// mysql below this one; ledgertest is the conformance suite all of them pass.
//
// The rules live here rather than in package order (where DESIGN.md first put
// them) because they operate on payorder's records, not on the host's orders.
package ledger
