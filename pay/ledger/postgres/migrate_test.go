package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/pay/ledger/internal/migratetest"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
)

func TestMigrateTwiceAppliesOnce(t *testing.T) {
	t.Parallel()
	pool := pgtest.Empty(t).Pool(t)
	migratetest.Twice(t, func(ctx context.Context) error { return postgres.Migrate(ctx, pool) })
	assertMigrated(t, pool)
}

func TestMigrateConcurrentlyAppliesOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	// Three pools stand for three processes starting at once; two goroutines
	// share each pool.
	pools := []*pgxpool.Pool{db.Pool(t), db.Pool(t), db.Pool(t)}
	var migrates []migratetest.Migrate
	for _, p := range pools {
		migrates = append(migrates, func(ctx context.Context) error { return postgres.Migrate(ctx, p) })
	}
	migratetest.AtOnce(t, migrates...)
	assertMigrated(t, pools[0])
}

func TestMigrateCreatesTablesInSearchPathSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	pool := db.Pool(t)
	if err := postgres.Migrate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(t.Context(), `SELECT table_name::text FROM information_schema.tables
		WHERE table_schema = $1 ORDER BY table_name`, db.Config.ConnConfig.RuntimeParams["search_path"])
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(migratetest.WantTables, got); diff != "" {
		t.Errorf("tables in the test schema (-want +got):\n%s", diff)
	}
}

func TestMigrateRefusesAnotherStoresSchema(t *testing.T) {
	t.Parallel()
	// What the former order/postgres store left: its own version 1.
	pool := pgtest.Empty(t).Pool(t)
	if _, err := pool.Exec(t.Context(), `CREATE TABLE payorder_schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO payorder_schema_migrations (version, name) VALUES (1, '001_init.sql')`); err != nil {
		t.Fatal(err)
	}
	err := postgres.Migrate(t.Context(), pool)
	if err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Fatalf("Migrate over another store's version 1 = %v, want a postgres: error", err)
	}
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_name = 'payorder_ledger'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("payorder_ledger tables after the refusal: %d, %v; want none", n, err)
	}
}

// assertMigrated checks that every embedded migration is recorded once.
func assertMigrated(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT version, name FROM payorder_schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	type applied struct {
		Version int32
		Name    string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[applied])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]applied{{1, "001_ledger.sql"}, {2, "002_refunds.sql"}}, got); diff != "" {
		t.Errorf("payorder_schema_migrations (-want +got):\n%s", diff)
	}
}
