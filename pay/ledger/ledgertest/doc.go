// Package ledgertest is the conformance suite of ledger.Ledger: every
// implementation (ledger.Memory, the PostgreSQL and MySQL ledgers, a host's
// own) runs it in its tests, and an implementation that several processes
// share runs RunInstances with ledgers over one store too:
//
//	func TestLedger(t *testing.T) {
//		ledgertest.Run(t, func(t testing.TB) ledger.Ledger { return newEmptyLedger(t) })
//	}
//
//	func TestLedgerInstances(t *testing.T) {
//		ledgertest.RunInstances(t, func(t testing.TB) []ledger.Ledger {
//			store := newEmptyStore(t)
//			return []ledger.Ledger{newLedger(t, store), newLedger(t, store)}
//		})
//	}
package ledgertest
