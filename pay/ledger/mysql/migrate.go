package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"github.com/yianpay/payorder/pay/ledger/internal/sqlshared"
	"slices"
	"strings"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded schema change, split into its statements.
type migration struct {
	sqlshared.Migration
	statements []string
}

// migrations returns the embedded migrations, oldest first.
func migrations() ([]migration, error) {
	loaded, err := sqlshared.Migrations(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	ms := make([]migration, len(loaded))
	for i, m := range loaded {
		ms[i] = migration{m, statements(m.SQL)}
	}
	return ms, nil
}

// statements splits a migration into its statements: each ends with a
// semicolon at the end of a line, and lines starting with -- are comments.
// Splitting here, rather than sending the file whole, spares the caller's
// DSN multiStatements.
func statements(file string) []string {
	var out []string
	var cur strings.Builder
	for line := range strings.Lines(file) {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line)
		if trimmed := strings.TrimRight(line, " \t\r\n"); strings.HasSuffix(trimmed, ";") {
			out = append(out, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// migrateLock names the GET_LOCK lock of Migrate: one per database, so that
// ledgers in different databases of one server migrate independently. A
// lock name is at most 64 characters, so the database's name is hashed.
const migrateLock = `CONCAT('payorder.migrate:', SHA1(COALESCE(DATABASE(), '')))`

// Migrate creates or upgrades the ledger's tables in the connection's
// database, applying the embedded migrations that the table
// payorder_schema_migrations does not list yet. It is idempotent, and safe
// when several processes run it at once: each holds the database's
// GET_LOCK lock while it migrates, so they apply the migrations one after
// another and the later ones find nothing to do. A Migrate waiting for
// the lock waits until ctx is done.
//
// MySQL commits each DDL statement on its own: a migration is recorded
// after all its statements ran, and every statement is written to be run
// again, so a Migrate that stopped half way (a crash, a cancelled ctx) is
// completed by the next one.
func Migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	// GET_LOCK belongs to a session: everything runs on one connection.
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("mysql: migrate: %w", err)
	}
	defer conn.Close()
	if err := lock(ctx, conn); err != nil {
		return fmt.Errorf("mysql: migrate: locking: %w", err)
	}
	err = migrate(ctx, conn, ms)
	var released sql.NullInt64
	if rerr := conn.QueryRowContext(context.WithoutCancel(ctx), `SELECT RELEASE_LOCK(`+migrateLock+`)`).Scan(&released); rerr != nil || released.Int64 != 1 {
		// A pooled session must not keep the lock: discard it.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		err = errors.Join(err, fmt.Errorf("releasing the lock: %v (released %v)", rerr, released))
	}
	if err != nil {
		return fmt.Errorf("mysql: migrate: %w", err)
	}
	return nil
}

// lock waits for the migration lock until ctx is done, a second at a time
// so that cancelling ctx never leaves a statement waiting in the server.
func lock(ctx context.Context, conn *sql.Conn) error {
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(`+migrateLock+`, 1)`).Scan(&got); err != nil {
			return err
		}
		if got.Valid && got.Int64 == 1 {
			return nil
		}
		if !got.Valid {
			return errors.New("GET_LOCK failed")
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

func migrate(ctx context.Context, conn *sql.Conn, ms []migration) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS payorder_schema_migrations (
		version    INT NOT NULL PRIMARY KEY,
		name       VARCHAR(255) NOT NULL,
		applied_at DATETIME(6) NOT NULL
	) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`); err != nil {
		return fmt.Errorf("creating payorder_schema_migrations: %w", err)
	}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM payorder_schema_migrations`)
	if err != nil {
		return fmt.Errorf("reading applied versions: %w", err)
	}
	var applied []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("reading applied versions: %w", err)
		}
		applied = append(applied, v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading applied versions: %w", err)
	}
	for _, m := range ms {
		if slices.Contains(applied, m.Version) {
			continue
		}
		for _, s := range m.statements {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("applying %s: %w", m.Name, err)
			}
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO payorder_schema_migrations (version, name, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))`, m.Version, m.Name); err != nil {
			return fmt.Errorf("recording %s: %w", m.Name, err)
		}
	}
	return nil
}
