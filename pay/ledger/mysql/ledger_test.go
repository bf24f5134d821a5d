package mysql_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/ledgertest"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

var _ ledger.Ledger = (*mysql.Ledger)(nil)

// newLedger returns a Ledger on a fresh, migrated database.
func newLedger(t testing.TB) *mysql.Ledger {
	t.Helper()
	return mysql.New(mysqltest.New(t).Open(t), mysql.Config{})
}

func TestLedger(t *testing.T) {
	ledgertest.Run(t, func(t testing.TB) ledger.Ledger { return newLedger(t) })
}

func TestTwoPoolsUpdateOneOrderAtomically(t *testing.T) {
	t.Parallel()
	db := mysqltest.New(t)
	// Two pools stand for two processes on one database.
	ledgers := []*mysql.Ledger{mysql.New(db.Open(t), mysql.Config{}), mysql.New(db.Open(t), mysql.Config{})}
	const perLedger = 15
	var wg sync.WaitGroup
	errs := make(chan error, 2*perLedger)
	for li, l := range ledgers {
		for i := range perLedger {
			wg.Go(func() {
				_, err := l.Update(context.Background(), "P1", func(r *ledger.Record, _ any) error {
					// A read-modify-write: lost if another update runs in between.
					r.Refunds = append(r.Refunds, ledger.Refund{ID: fmt.Sprintf("re_%d_%d", li, i), Amount: int64(len(r.Refunds))})
					return nil
				})
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range ledgers {
		r, err := l.Read(t.Context(), "P1")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Refunds) != 2*perLedger {
			t.Fatalf("%d concurrent appends through two pools left %d refunds", 2*perLedger, len(r.Refunds))
		}
		for i, rf := range r.Refunds {
			if rf.Amount != int64(i) {
				t.Fatalf("refund %d saw %d before it: an update ran in between", i, rf.Amount)
			}
		}
	}
}

func TestUpdateGivesFnTheTransaction(t *testing.T) {
	t.Parallel()
	db := mysqltest.New(t)
	pool := db.Open(t)
	if _, err := pool.Exec(`CREATE TABLE host_log (order_no VARCHAR(64) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	l := mysql.New(pool, mysql.Config{})
	write := func(no string, fail error) error {
		_, err := l.Update(t.Context(), no, func(r *ledger.Record, db any) error {
			tx, ok := db.(*sql.Tx)
			if !ok {
				return fmt.Errorf("db is %T, want *sql.Tx", db)
			}
			if _, err := tx.Exec(`INSERT INTO host_log VALUES (?)`, no); err != nil {
				return err
			}
			return fail
		})
		return err
	}
	if err := write("T1", nil); err != nil {
		t.Fatal(err)
	}
	if err := write("T2", errFn); err != errFn {
		t.Fatalf("Update = %v, want fn's error unchanged", err)
	}
	var got []string
	rows, err := pool.Query(`SELECT order_no FROM host_log`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var no string
		if err := rows.Scan(&no); err != nil {
			t.Fatal(err)
		}
		got = append(got, no)
	}
	if len(got) != 1 || got[0] != "T1" {
		t.Errorf("host rows written through fn's tx = %v, want [T1]: the failed update's must roll back", got)
	}
}

var errFn = fmt.Errorf("fn failed")
