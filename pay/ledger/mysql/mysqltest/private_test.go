package mysqltest_test

import (
	"database/sql"
	"testing"

	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

// TestPrivate crashes the server twice, each time after committing a row:
// while it is down nothing connects, and once it is back every committed
// row is there.
func TestPrivate(t *testing.T) {
	s := mysqltest.Private(t)
	db, err := sql.Open("mysql", s.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE kept (n int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		if _, err := db.Exec(`INSERT INTO kept (n) VALUES (?)`, round); err != nil {
			t.Fatal(err)
		}
		s.Stop(t)
		if err := db.Ping(); err == nil {
			t.Fatal("pinged a stopped server")
		}
		s.Start(t)
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM kept`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != round+1 {
			t.Fatalf("after crash %d the table holds %d committed rows, want %d", round+1, n, round+1)
		}
	}
}
