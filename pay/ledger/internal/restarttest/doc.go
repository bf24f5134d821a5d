// Package restarttest is the suite of database crashes that both SQL
// ledgers (postgres, mysql) pass, on a private server of each test's own:
// 20 fulfilment hooks (OnPaid, OnPaidTx) or refund hooks (OnRefunded) are
// in flight when the ledger's database crashes, and it is back about two
// seconds later. Each hook must run exactly once and every order end with
// its hook recorded, as the README promises.
//
// A ledger package's test supplies a DB: its ledger on the private server,
// the server to crash and start, and the host's table that OnPaidTx writes
// through the ledger's transaction, in its own dialect.
package restarttest
