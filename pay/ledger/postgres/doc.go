// Package postgres is payorder's ledger in PostgreSQL: Ledger implements
// ledger.Ledger and passes the conformance suite ledgertest, like
// ledger.Memory. The package also holds TokenVerifier, which reads the login
// tokens of a Django REST framework application.
//
// Create the tables with Migrate before New, at every start: it applies the
// embedded, versioned migrations (migrations/NNN_name.sql) that the schema
// lacks, once, even when several processes start at once (they take a
// transaction-scoped advisory lock per schema in turn):
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	if err := postgres.Migrate(ctx, pool); err != nil { ... }
//	l := postgres.New(pool, postgres.Config{})
//
// The tables, named without a schema so that the pool's search_path
// chooses where they live (the first schema of it):
//
//	payorder_schema_migrations  versions applied by Migrate
//	payorder_ledger             one row per order: the record as JSON text (record), and due_until,
//	                            the record's DueUntil (NULL for zero) under a partial index
//	payorder_numbers            every Ping++ order number used, and the order holding it (unique)
//	payorder_charges            every charge, with the JSON Ping++ sent byte for byte (raw bytea)
//	payorder_anomalies          payments that need a person, in the order recorded (seq);
//	                            resolved_at (migration 002) is set by ResolveAnomaly
//
// Times are kept to the microsecond and come back in UTC. The record's
// charge entries hold every field of ledger.Charge but its JSON, which is
// in payorder_charges only.
//
// # Clock
//
// The ledger's clock is the database server's: clock_timestamp(), read in
// the same statement as the record. In Update it is read after the order's
// row lock is held, never now() (the start of the transaction, which may be
// long before a wait for the lock), so that leases and claims are measured
// from when the caller really holds the record.
//
// # Round trips
//
// Read is one statement: the clock, the record and its charges' JSON, from
// one snapshot. Update is one READ COMMITTED transaction of three round
// trips: BEGIN; the row's insertion for a new order (INSERT … ON CONFLICT DO
// NOTHING), its lock (SELECT … FOR UPDATE) and the read, pipelined; then,
// after fn, the new numbers and charges, the record, the anomalies and
// COMMIT, pipelined. Due is a range scan of the index on due_until, which
// holds no settled order: its cost follows the orders due, not the size of
// the ledger.
//
// # Transactions of the host
//
// The db argument of Update's fn is the ledger's transaction, a pgx.Tx: a
// host's hook can write its own tables through it, and what it writes
// commits or rolls back with the record. fn must not commit or roll it back
// itself, and, since a deadlock or serialization failure is retried, must
// expect to run again.
//
// The Ledger takes a *pgxpool.Pool that the caller configures (size,
// timeouts, search_path) and closes.
package postgres
