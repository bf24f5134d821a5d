package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/postgres"
)

// openLedger returns the ledger at databaseURL, migrated: PostgreSQL for
// postgres:// URLs, MySQL or MariaDB for mysql:// ones, memory when
// databaseURL is empty.
func openLedger(ctx context.Context, databaseURL string, out io.Writer) (ledger.Ledger, func(), error) {
	switch {
	case databaseURL == "":
		fmt.Fprintln(out, "payorder: ledger in memory (set DATABASE_URL to postgres://… or mysql://… for a database)")
		return &ledger.Memory{}, func() {}, nil
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		pool, err := pgxpool.New(ctx, databaseURL)
		if err != nil {
			return nil, nil, fmt.Errorf("database: %w", err)
		}
		if err := postgres.Migrate(ctx, pool); err != nil {
			pool.Close()
			return nil, nil, fmt.Errorf("database: %w", err)
		}
		fmt.Fprintln(out, "payorder: ledger in PostgreSQL (migrated)")
		return postgres.New(pool, postgres.Config{}), pool.Close, nil
	case strings.HasPrefix(databaseURL, "mysql://"), strings.HasPrefix(databaseURL, "mariadb://"):
		dsn, err := mysql.DSN(databaseURL)
		if err != nil {
			return nil, nil, fmt.Errorf("database: %w", err)
		}
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, nil, fmt.Errorf("database: %w", err)
		}
		// The size of pgxpool's default: a few connections serve many
		// callers (README, "Pool size"), and database/sql's default keeps
		// two idle, so that bursts would open and close connections.
		conns := max(4, runtime.NumCPU())
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		if err := mysql.Migrate(ctx, db); err != nil {
			db.Close()
			return nil, nil, fmt.Errorf("database: %w", err)
		}
		fmt.Fprintln(out, "payorder: ledger in MySQL (migrated)")
		return mysql.New(db, mysql.Config{}), func() { db.Close() }, nil
	}
	return nil, nil, fmt.Errorf("database: DATABASE_URL must start with postgres:// or mysql://")
}
