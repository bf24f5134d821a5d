package mysql_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/yianpay/payorder/pay/ledger/internal/restarttest"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

// openRestart is the restart suite's ledger on a MariaDB server of t's own,
// through a pool of 8 connections.
func openRestart(t *testing.T) *restarttest.DB {
	t.Helper()
	srv := mysqltest.Private(t)
	pool, err := sql.Open("mysql", srv.DSN)
	if err != nil {
		t.Fatal(err)
	}
	pool.SetMaxOpenConns(8)
	t.Cleanup(func() { pool.Close() })
	if err := mysql.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(`CREATE TABLE host_unlocks (fulfilment_id varchar(255) PRIMARY KEY, order_no varchar(64) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	return &restarttest.DB{
		Server: srv,
		Ledger: mysql.New(pool, mysql.Config{}),
		Unlock: func(ctx context.Context, db any, id, no string) error {
			_, err := db.(*sql.Tx).ExecContext(ctx, `INSERT INTO host_unlocks (fulfilment_id, order_no) VALUES (?, ?)`, id, no)
			return err
		},
		Unlocks: func(t testing.TB) (rows, orders int) {
			t.Helper()
			if err := pool.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT order_no) FROM host_unlocks`).Scan(&rows, &orders); err != nil {
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

// TestOnRefundedRunsOnceAcrossADatabaseRestart: see restarttest.OnRefunded.
func TestOnRefundedRunsOnceAcrossADatabaseRestart(t *testing.T) {
	restarttest.OnRefunded(t, openRestart)
}
