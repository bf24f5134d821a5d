package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations, oldest first. Their file names
// are NNN_name.sql; a name that does not start with a version is an error.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: reading migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration %s: name must start with a positive version and _", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("postgres: reading migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("postgres: migrations %s and %s share a version", ms[i-1].name, ms[i].name)
		}
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
			if name, ok := applied[int32(m.version)]; ok {
				if name != m.name {
					return fmt.Errorf("version %d is %s, not %s: the schema holds another store's tables", m.version, name, m.name)
				}
				continue
			}
			// Exec without arguments uses the simple protocol, which runs
			// every statement of the file.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("applying %s: %w", m.name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO payorder_schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return fmt.Errorf("recording %s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}
