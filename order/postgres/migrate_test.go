package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/order/postgres"
	"github.com/yianpay/payorder/order/postgres/pgtest"
)

var wantTables = []string{
	"payorder_anomalies", "payorder_charges", "payorder_locks", "payorder_orders", "payorder_schema_migrations",
}

func TestMigrateTwiceAppliesOnce(t *testing.T) {
	pool := pgtest.Empty(t).Pool(t)
	for i := range 2 {
		if err := postgres.Migrate(t.Context(), pool); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	assertMigrated(t, pool)
}

func TestMigrateConcurrentlyAppliesOnce(t *testing.T) {
	db := pgtest.Empty(t)
	// Three pools stand for three processes starting at once; two goroutines
	// share each pool.
	pools := []*pgxpool.Pool{db.Pool(t), db.Pool(t), db.Pool(t)}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(pools))
	start := make(chan struct{})
	for _, p := range pools {
		for range 2 {
			wg.Go(func() {
				<-start
				errs <- postgres.Migrate(context.Background(), p)
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
	assertMigrated(t, pools[0])
}

func TestMigrateCreatesTablesInSearchPathSchema(t *testing.T) {
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
	if diff := cmp.Diff(wantTables, got); diff != "" {
		t.Errorf("tables in the test schema (-want +got):\n%s", diff)
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
	if diff := cmp.Diff([]applied{{1, "001_init.sql"}}, got); diff != "" {
		t.Errorf("payorder_schema_migrations (-want +got):\n%s", diff)
	}
}
