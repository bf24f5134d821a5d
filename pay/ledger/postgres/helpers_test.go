package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
)

// newLedger returns a Ledger on a fresh, migrated schema, and the schema.
func newLedger(t testing.TB) (*postgres.Ledger, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	return postgres.New(db.Pool(t), postgres.Config{}), db
}

// roundTrips counts what a pool sends the server: each query or Exec
// outside a batch, and each batch, is one round trip.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (c *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (c *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// fillSettled adds n settled orders (paid and fulfilled, nothing due) with
// their charges and numbers, in three statements.
func fillSettled(t testing.TB, pool *pgxpool.Pool, n int) {
	t.Helper()
	const record = `'{"attempts":[{"id":"att","pingpp_order_no":"S' || i || '","state":"charged","charge_id":"ch_S' || i || '"}],` +
		`"charges":[{"id":"ch_S' || i || '","attempt_id":"att","pingpp_order_no":"S' || i || '","amount":9900,"currency":"cny","expires_at":"2026-11-30T10:00:00Z"}],` +
		`"payment":{"charge_id":"ch_S' || i || '","amount":9900,"currency":"cny","paid_at":"2026-11-29T10:05:00Z"},` +
		`"fulfilment":{"id":"ful_ch_S' || i || '","claim":1,"runs":1,"fulfilled_at":"2026-11-29T10:06:00Z"}}'`
	for _, sql := range []string{
		`INSERT INTO payorder_ledger (order_no, record) SELECT 'S' || i, ` + record + ` FROM generate_series(1, $1) i`,
		`INSERT INTO payorder_charges (id, order_no, raw) SELECT 'ch_S' || i, 'S' || i, convert_to('{"id":"ch_S' || i || '","object":"charge"}', 'UTF8') FROM generate_series(1, $1) i`,
		`INSERT INTO payorder_numbers (pingpp_order_no, order_no) SELECT 'S' || i, 'S' || i FROM generate_series(1, $1) i`,
	} {
		if _, err := pool.Exec(t.Context(), sql, n); err != nil {
			t.Fatalf("filling %d settled orders: %v", n, err)
		}
	}
}

// addOpen adds n orders with an open attempt, due Forever: open0, open1, ….
func addOpen(t testing.TB, l *postgres.Ledger, n int) {
	t.Helper()
	for i := range n {
		if _, err := l.Update(t.Context(), fmt.Sprintf("open%d", i), func(r *ledger.Record, _ any) error {
			r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: r.OrderNo, State: ledger.AttemptOpen})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
