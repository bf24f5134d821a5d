// Package mysql is payorder's ledger (ledger.Ledger) in a MySQL or MariaDB
// database, through database/sql and github.com/go-sql-driver/mysql, and a
// token verifier (pay.TokenVerifier) that reads Django REST framework's
// authtoken_token table there.
//
// Ledger passes the conformance suite of package ledgertest. Create its
// tables with Migrate, which applies the embedded, versioned migrations
// (migrations/NNN_name.sql) once, under a GET_LOCK lock of the database,
// even when several processes start at once.
//
// The tables, InnoDB and utf8mb4, in the connection's database:
//
//	payorder_schema_migrations  versions applied by Migrate
//	payorder_ledger             one row per order: the record (payorder's own JSON, LONGBLOB) and due_until (indexed)
//	payorder_numbers            the Ping++ order numbers and the order holding each
//	payorder_charges            the JSON of each charge exactly as Ping++ sent it (raw, LONGBLOB)
//	payorder_anomalies          anomalies, in the order recorded (seq), the reporting event in event (LONGBLOB);
//	                            resolved_at (migration 002) is set by ResolveAnomaly
//
// Keys (order numbers, Ping++ order numbers, charge and anomaly ids) are
// VARBINARY, compared byte for byte: MySQL's utf8mb4 collations, even
// utf8mb4_bin, ignore trailing spaces. Amounts are BIGINT fen. Times are
// DATETIME(6) holding UTC (NULL for the zero time); the ledger writes and
// reads them as UTC text, so it does not depend on the DSN's loc or
// parseTime nor on the session's time_zone. The ledger's clock is the
// database's, UTC_TIMESTAMP(6), read after the order's row lock is held.
//
// Open the *sql.DB with a DSN from DSN, which turns a mysql:// URL into a
// DSN with utf8mb4, UTC times and interpolateParams (one round trip per
// statement); the caller configures the pool and closes it.
package mysql
