package postgres

import (
	"context"
	"embed"
	"fmt"
	"github.com/yianpay/payorder/pay/ledger/internal/sqlshared"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations, oldest first.
func migrations() ([]sqlshared.Migration, error) {
	ms, err := sqlshared.Migrations(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

// Migrate creates or upgrades the ledger's tables in the first schema of the
// pool's search_path, applying the embedded migrations that the table
// payorder_schema_migrations does not list yet, all in one transaction.
// It is idempotent, and safe when several processes run it at once: each
// takes a transaction-scoped advisory lock for the schema first, so they
// apply the migrations one after another and the later ones find nothing to
// do. A schema whose payorder_schema_migrations lists a version under
// another name (the tables of another payorder store, such as the former
// order/postgres) is an error, never silently taken for the ledger's.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The lock is per schema, so stores in different schemas of one
		// database migrate independently.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('payorder.migrate:' || coalesce(current_schema(), ''), 0))`); err != nil {
			return fmt.Errorf("locking: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS payorder_schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return fmt.Errorf("creating payorder_schema_migrations: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT version, name FROM payorder_schema_migrations`)
		if err != nil {
			return fmt.Errorf("reading applied versions: %w", err)
		}
		applied := make(map[int32]string)
		var (
			version int32
			name    string
		)
		_, err = pgx.ForEachRow(rows, []any{&version, &name}, func() error { applied[version] = name; return nil })
		if err != nil {
			return fmt.Errorf("reading applied versions: %w", err)
		}
		for _, m := range ms {
			if name, ok := applied[int32(m.Version)]; ok {
				if name != m.Name {
					return fmt.Errorf("version %d is %s, not %s: the schema holds another store's tables", m.Version, name, m.Name)
				}
				continue
			}
			// Exec without arguments uses the simple protocol, which runs
			// every statement of the file.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("applying %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO payorder_schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				return fmt.Errorf("recording %s: %w", m.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}
