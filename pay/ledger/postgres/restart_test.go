package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/pay/ledger/internal/restarttest"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
)

// openRestart is the restart suite's ledger on a PostgreSQL server of t's
// own, through a pool of 8 connections.
func openRestart(t *testing.T) *restarttest.DB {
	t.Helper()
	srv := pgtest.Private(t)
	cfg, err := pgxpool.ParseConfig(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `CREATE TABLE host_unlocks (fulfilment_id text PRIMARY KEY, order_no text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &restarttest.DB{
		Server: srv,
		Ledger: postgres.New(pool, postgres.Config{}),
		Unlock: func(ctx context.Context, db any, id, no string) error {
			_, err := db.(pgx.Tx).Exec(ctx, `INSERT INTO host_unlocks (fulfilment_id, order_no) VALUES ($1, $2)`, id, no)
			return err
		},
		Unlocks: func(t testing.TB) (rows, orders int) {
			t.Helper()
			if err := pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT order_no) FROM host_unlocks`).Scan(&rows, &orders); err != nil {
				t.Fatal(err)
			}
			return rows, orders
		},
	}
}

// TestOnPaidRunsOnceAcrossADatabaseRestart: see restarttest.OnPaid.
func TestOnPaidRunsOnceAcrossADatabaseRestart(t *testing.T) {
	restarttest.OnPaid(t, openRestart)
}

// TestOnPaidTxExactlyOnceAcrossADatabaseRestart: see restarttest.OnPaidTx.
func TestOnPaidTxExactlyOnceAcrossADatabaseRestart(t *testing.T) {
	restarttest.OnPaidTx(t, openRestart)
}
