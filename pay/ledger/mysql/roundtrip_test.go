package mysql_test

import (
	"testing"

	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

// TestRoundTrips counts the statements the server receives (its session
// status Questions, on a pool of one connection): Read is one, the
// statement the contract asks for, and an Update that adds nothing new is
// five (begin, lock, read, write, commit).
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	pool := mysqltest.New(t).Open(t)
	pool.SetMaxOpenConns(1)
	l := mysql.New(pool, mysql.Config{})
	questions := func() int {
		t.Helper()
		var name string
		var n int
		if err := pool.QueryRow(`SHOW SESSION STATUS LIKE 'Questions'`).Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		return n - 1 // not counting this statement
	}
	if _, err := l.Update(t.Context(), "Q1", func(r *ledger.Record, _ any) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		op   func() error
		want int
	}{
		{"Read", func() error { _, err := l.Read(t.Context(), "Q1"); return err }, 1},
		{"Update", func() error {
			_, err := l.Update(t.Context(), "Q1", func(r *ledger.Record, _ any) error { r.Fulfilment.Runs++; return nil })
			return err
		}, 5},
	} {
		before := questions()
		if err := tt.op(); err != nil {
			t.Fatal(err)
		}
		if got := questions() - before - 1; got != tt.want {
			t.Errorf("%s sent %d statements, want %d", tt.name, got, tt.want)
		}
	}
}
