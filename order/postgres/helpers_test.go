package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/order/postgres"
)

const databaseURLEnv = "PAYORDER_TEST_DATABASE_URL"

// testSchema creates a fresh schema for one test, migrated, and drops it
// when the test ends. It returns a pool configuration whose search_path
// selects that schema; every pool made from it shares the tables.
func testSchema(t testing.TB) *pgxpool.Config {
	t.Helper()
	url := os.Getenv(databaseURLEnv)
	if url == "" {
		t.Skip(databaseURLEnv + " not set: set it to a PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable, to run the PostgreSQL tests")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatalf("parsing %s: %v", databaseURLEnv, err)
	}
	schema := "payorder_test_" + randomHex(t, 8)
	ctx := context.Background()
	admin, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		t.Fatalf("connecting to %s: %v", databaseURLEnv, err)
	}
	defer admin.Close(ctx)
	ident := pgx.Identifier{schema}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
		if err != nil {
			t.Errorf("connecting to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	return cfg
}

// newPool opens a pool on cfg, closed when the test ends (before the schema
// is dropped, since cleanups run last-registered first).
func newPool(t testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg.Copy())
	if err != nil {
		t.Fatalf("opening pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// migratedPool returns a pool on a fresh, migrated schema.
func migratedPool(t testing.TB) (*pgxpool.Pool, *pgxpool.Config) {
	t.Helper()
	cfg := testSchema(t)
	pool := newPool(t, cfg)
	if err := postgres.Migrate(t.Context(), pool); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return pool, cfg
}

// newStore returns a Store on a fresh, migrated schema.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	pool, _ := migratedPool(t)
	return postgres.New(pool, postgres.Config{})
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
