// Package ledgertest is the conformance suite of ledger.Ledger: every
// implementation (ledger.Memory, the PostgreSQL and MySQL ledgers, a host's
// own) runs it in its tests:
//
//	func TestLedger(t *testing.T) {
//		ledgertest.Run(t, func(t testing.TB) ledger.Ledger { return newEmptyLedger(t) })
//	}
package ledgertest
