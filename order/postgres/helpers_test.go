package postgres_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/order/postgres"
	"github.com/yianpay/payorder/order/postgres/pgtest"
)

// migratedPool returns a pool on a fresh, migrated schema, and the schema.
func migratedPool(t testing.TB) (*pgxpool.Pool, *pgtest.DB) {
	t.Helper()
	db := pgtest.New(t)
	return db.Pool(t), db
}

// newStore returns a Store on a fresh, migrated schema.
func newStore(t testing.TB) *postgres.Store {
	t.Helper()
	pool, _ := migratedPool(t)
	return postgres.New(pool, postgres.Config{})
}
