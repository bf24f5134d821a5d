package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/pay/ledger/postgres"
)

// EnvVar names the environment variable holding the test server's URL.
const EnvVar = "PAYORDER_TEST_DATABASE_URL"

// DB is a migrated schema of one test.
type DB struct {
	// Config is a pool configuration whose search_path selects the schema;
	// set MaxConns and the like before calling Pool.
	Config *pgxpool.Config
	// URL is a connection URL selecting the schema, for other processes.
	URL string
}

// New creates and migrates a fresh schema, dropped when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	db := Empty(t)
	if err := postgres.Migrate(context.Background(), db.Pool(t)); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return db
}

// Empty creates a fresh schema without tables, dropped when t ends: for
// tests of the migrations themselves.
func Empty(t testing.TB) *DB {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skip(EnvVar + " not set: set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the PostgreSQL tests")
	}
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		t.Fatalf("parsing %s: %v", EnvVar, err)
	}
	var b [8]byte
	rand.Read(b[:])
	schema := "payorder_test_" + hex.EncodeToString(b[:])
	ident := pgx.Identifier{schema}.Sanitize()
	exec(t, cfg, "CREATE SCHEMA "+ident)
	t.Cleanup(func() { exec(t, cfg, "DROP SCHEMA "+ident+" CASCADE") })

	cfg = cfg.Copy()
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing %s: %v", EnvVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return &DB{Config: cfg, URL: u.String()}
}

// Pool opens a pool on the schema, closed when t ends (before the schema is
// dropped: cleanups run last-registered first).
func (db *DB) Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), db.Config.Copy())
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Count returns the number of rows of table in the schema.
func (db *DB) Count(t testing.TB, table string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, db.Config.ConnConfig.Copy())
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

func exec(t testing.TB, cfg *pgxpool.Config, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		t.Fatalf("connecting to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Errorf("%s: %v", sql, err)
	}
}
