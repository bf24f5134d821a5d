package main

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/order/postgres"
	"github.com/yianpay/payorder/pay"
)

// store is what the server needs of its order store: payments, and Put to
// load the seed orders.
type store interface {
	pay.PaymentStore
	PutContext(ctx context.Context, o order.Order) error
}

// memStore adapts order.MemStore's Put to store.
type memStore struct{ *order.MemStore }

func (m memStore) PutContext(_ context.Context, o order.Order) error { return m.Put(o) }

// openStore returns the PostgreSQL store at databaseURL, migrated, or an
// in-memory store when databaseURL is empty.
func openStore(ctx context.Context, databaseURL string, out io.Writer) (store, func(), error) {
	if databaseURL == "" {
		fmt.Fprintln(out, "payorder: orders in memory (set DATABASE_URL for PostgreSQL)")
		return memStore{&order.MemStore{}}, func() {}, nil
	}
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	if err := postgres.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	fmt.Fprintln(out, "payorder: orders in PostgreSQL (migrated)")
	return postgres.New(pool, postgres.Config{}), pool.Close, nil
}
