// Package postgres is a PostgreSQL store for payorder: orders, their Ping++
// charges, their payment state and payment anomalies, a lock shared by every
// process on the database (pay.Locker), and a token verifier that reads
// Django REST framework's authtoken_token table.
//
// Store implements pay.PaymentStore and pay.Locker and passes the same
// conformance suite as order.MemStore (package ordertest). Create its tables
// with Migrate, which applies the embedded, versioned migrations
// (migrations/NNN_name.sql) once, even when several processes start at once.
//
// The tables, all named without a schema so that the connection's
// search_path chooses where they live:
//
//	payorder_schema_migrations  versions applied by Migrate
//	payorder_orders             one row per order; payment state in paid and refunds (jsonb)
//	payorder_charges            Ping++ charges, the raw charge JSON in raw (bytea)
//	payorder_anomalies          payments that need a person, the reporting event in event (bytea)
//	payorder_locks              leases of Store.Lock: key, holder, expires_at
//
// Amounts are bigint fen, order numbers text, times timestamptz (kept to the
// microsecond; a zero time is NULL), and metadata jsonb whose numbers come
// back as json.Number.
//
// The Store takes a *pgxpool.Pool that the caller configures (size,
// timeouts, search_path) and closes.
package postgres
