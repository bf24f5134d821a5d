package pgtest_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
)

func TestPrivate(t *testing.T) {
	s := pgtest.Private(t)
	for range 2 {
		c, err := pgx.Connect(context.Background(), s.URL)
		if err != nil {
			t.Fatal(err)
		}
		c.Close(context.Background())
		s.Stop(t)
		if c, err := pgx.Connect(context.Background(), s.URL); err == nil {
			c.Close(context.Background())
			t.Fatal("connected to a stopped server")
		}
		s.Start(t)
	}
}
