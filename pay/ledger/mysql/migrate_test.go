package mysql_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yianpay/payorder/pay/ledger/internal/migratetest"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

func TestMigrateTwiceAppliesOnce(t *testing.T) {
	t.Parallel()
	db := mysqltest.Empty(t)
	pool := db.Open(t)
	migratetest.Twice(t, func(ctx context.Context) error { return mysql.Migrate(ctx, pool) })
	assertMigrated(t, pool, db.Name)
}

func TestMigrateConcurrentlyAppliesOnce(t *testing.T) {
	t.Parallel()
	db := mysqltest.Empty(t)
	// Three pools stand for three processes starting at once; two goroutines
	// share each pool.
	pools := []*sql.DB{db.Open(t), db.Open(t), db.Open(t)}
	var migrates []migratetest.Migrate
	for _, p := range pools {
		migrates = append(migrates, func(ctx context.Context) error { return mysql.Migrate(ctx, p) })
	}
	migratetest.AtOnce(t, migrates...)
	assertMigrated(t, pools[0], db.Name)
}

func TestMigrateCompletesAnInterruptedMigration(t *testing.T) {
	t.Parallel()
	db := mysqltest.Empty(t)
	pool := db.Open(t)
	if err := mysql.Migrate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	// As if the process died after the DDL, which commits by itself, and
	// before recording the version: the next Migrate runs it again.
	if _, err := pool.Exec(`DELETE FROM payorder_schema_migrations`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(`DROP TABLE payorder_anomalies`); err != nil {
		t.Fatal(err)
	}
	if err := mysql.Migrate(t.Context(), pool); err != nil {
		t.Fatalf("Migrate after an interrupted one: %v", err)
	}
	assertMigrated(t, pool, db.Name)
}

func TestMigrateReleasesItsLock(t *testing.T) {
	t.Parallel()
	db := mysqltest.Empty(t)
	pool := db.Open(t)
	pool.SetMaxOpenConns(1) // the session that migrated is the one asked
	if err := mysql.Migrate(t.Context(), pool); err != nil {
		t.Fatal(err)
	}
	var held int
	if err := pool.QueryRow(`SELECT COUNT(IS_USED_LOCK(CONCAT('payorder.migrate:', SHA1(DATABASE()))))`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Error("the migration lock is still held after Migrate returned")
	}
}

func TestStatementsSplitsAtLineEndSemicolons(t *testing.T) {
	got := mysql.Statements("-- a comment; not a statement\nCREATE TABLE a (\n\tx INT, -- x; y\n\tz INT\n);\n\n  -- another\nCREATE TABLE b (y TEXT DEFAULT 'a;b');\nSELECT 1")
	want := []string{"CREATE TABLE a (\n\tx INT, -- x; y\n\tz INT\n)", "CREATE TABLE b (y TEXT DEFAULT 'a;b')", "SELECT 1"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("statements (-want +got):\n%s", d)
	}
}

// assertMigrated checks that every embedded migration is recorded once and
// that the tables exist.
func assertMigrated(t testing.TB, pool *sql.DB, database string) {
	t.Helper()
	type applied struct {
		Version int
		Name    string
	}
	var got []applied
	rows, err := pool.Query(`SELECT version, name FROM payorder_schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a applied
		if err := rows.Scan(&a.Version, &a.Name); err != nil {
			t.Fatal(err)
		}
		got = append(got, a)
	}
	if diff := cmp.Diff([]applied{{1, "001_ledger.sql"}, {2, "002_refunds.sql"}}, got); diff != "" {
		t.Errorf("payorder_schema_migrations (-want +got):\n%s", diff)
	}
	tables := queryStrings(t, pool, `SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name`, database)
	if diff := cmp.Diff(migratetest.WantTables, tables); diff != "" {
		t.Errorf("tables in the test database (-want +got):\n%s", diff)
	}
}
