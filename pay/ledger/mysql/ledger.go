package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/yianpay/payorder/pay/ledger"
)

// Config holds the Ledger's optional settings; the zero value works.
type Config struct {
	// Retries is how many more times Update runs a transaction that MySQL
	// aborted to break a deadlock (error 1213) or for a lock wait timeout
	// (1205). Zero means 10; a negative value, none.
	Retries int
}

// Ledger is a ledger.Ledger in a MySQL or MariaDB database (see the package
// doc for its tables and for the DSN it needs).
type Ledger struct {
	db      *sql.DB
	retries int
}

// New returns the ledger kept in db's database, whose tables Migrate made.
// The caller configures db (pool size, timeouts) and closes it.
func New(db *sql.DB, cfg Config) *Ledger {
	switch {
	case cfg.Retries == 0:
		cfg.Retries = 10
	case cfg.Retries < 0:
		cfg.Retries = 0
	}
	return &Ledger{db: db, retries: cfg.Retries}
}

// The lengths of the key columns, checked before a write so that a value
// too long is an error of its own, never silently cut.
const (
	maxNumber    = 64  // order numbers, Ping++ order numbers, charge ids
	maxAnomalyID = 255 // anomalies' id, order_no and charge_id
)

// checkKey returns an error when key s, the what of order no, does not fit
// its column of max bytes.
func checkKey(what, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("mysql: %s %.80q is longer than %d bytes", what, s, max)
	}
	return nil
}

// Times are sent and read as UTC text in this layout, never as time.Time,
// so that the ledger depends neither on the DSN's loc and parseTime nor on
// the session's time_zone: DATETIME(6) columns hold UTC.
const sqlTimeLayout = "2006-01-02 15:04:05.000000"

// clock is the database's clock, in UTC and sqlTimeLayout. It is the time
// the statement began, so a statement run after the row lock is held reads
// a clock no earlier than the previous holder's commit.
const clock = `DATE_FORMAT(UTC_TIMESTAMP(6), '%Y-%m-%d %H:%i:%s.%f')`

// sqlTime is t as a DATETIME(6) parameter (written CAST(? AS DATETIME(6))):
// NULL for the zero time.
func sqlTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(sqlTimeLayout)
}

func parseSQLTime(s string) (time.Time, error) {
	t, err := time.ParseInLocation(sqlTimeLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("mysql: reading a time: %w", err)
	}
	return t, nil
}

// querier is what reading a record needs: *sql.DB or *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readSQL returns, in one statement and so from one snapshot, the clock and
// the record (tag 0; the record NULL for an unknown order), then each charge
// id and raw JSON of the order (tag 1).
const readSQL = `SELECT 0, ` + clock + `, (SELECT record FROM payorder_ledger WHERE order_no = ?)
UNION ALL
SELECT 1, id, raw FROM payorder_charges WHERE order_no = ?`

// read returns the record of order no, with Now set to the database's clock.
func read(ctx context.Context, q querier, no string) (*ledger.Record, error) {
	rows, err := q.QueryContext(ctx, readSQL, no, no)
	if err != nil {
		return nil, fmt.Errorf("mysql: reading order %s: %w", no, err)
	}
	defer rows.Close()
	var (
		now    string
		record []byte
		raw    = map[string][]byte{}
	)
	for rows.Next() {
		var (
			tag  int
			key  string
			blob []byte
		)
		if err := rows.Scan(&tag, &key, &blob); err != nil {
			return nil, fmt.Errorf("mysql: reading order %s: %w", no, err)
		}
		if tag == 0 {
			now, record = key, blob
		} else {
			raw[key] = blob
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql: reading order %s: %w", no, err)
	}
	r, err := ledger.UnmarshalRecord(no, record, raw)
	if err != nil {
		return nil, err
	}
	if r.Now, err = parseSQLTime(now); err != nil {
		return nil, err
	}
	return r, nil
}

// Read implements ledger.Ledger in one statement: the clock, the record and
// its charges' JSON, read from one snapshot. With a DSN from DSN
// (interpolateParams) that is one round trip; with prepared statements, two.
func (l *Ledger) Read(ctx context.Context, no string) (*ledger.Record, error) {
	return read(ctx, l.db, no)
}

// Update implements ledger.Ledger in one transaction, whose *sql.Tx fn gets
// as db. Its first statement inserts the order's row or, when it exists,
// locks it exclusively (INSERT … ON DUPLICATE KEY UPDATE): taking the lock
// at once, rather than a shared lock first and an exclusive one later, is
// what keeps concurrent updates of one order from deadlocking each other.
// The record, its charges and the clock are read after that, so r.Now is no
// earlier than the commit of the update before.
//
// A new attempt's Ping++ order number held by another attempt or order
// makes it return ledger.ErrNumberTaken, and a new charge recorded for
// another order an error; either saves nothing. fn's error is returned as
// it is.
//
// A transaction that MySQL aborts for a deadlock or a lock wait timeout
// runs again (Config.Retries), fn with it. A cancelled ctx rolls back
// whatever was not committed; an error of the commit itself (a connection
// lost) leaves it unknown whether the update was saved: read the record.
func (l *Ledger) Update(ctx context.Context, no string, fn func(r *ledger.Record, db any) error) (*ledger.Record, error) {
	if err := checkKey("order number", no, maxNumber); err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		r, err := l.update(ctx, no, fn)
		if err == nil || try >= l.retries || !retryable(err) {
			return r, err
		}
		// A short, random pause, growing with the tries, spreads out the
		// transactions that deadlocked together.
		pause := time.Duration(1+rand.IntN(5*(try+1))) * time.Millisecond
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
	}
}

// retryable reports whether err aborted a transaction that may simply run
// again: a deadlock (1213) or a lock wait timeout (1205).
func retryable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)
}

// duplicate reports whether err is a duplicate key (1062).
func duplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

func (l *Ledger) update(ctx context.Context, no string, fn func(r *ledger.Record, db any) error) (*ledger.Record, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("mysql: updating order %s: %w", no, err)
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO payorder_ledger (order_no, record, updated_at)
		VALUES (?, '', UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE order_no = order_no`, no); err != nil {
		return nil, fmt.Errorf("mysql: locking order %s: %w", no, err)
	}
	r, err := read(ctx, tx, no)
	if err != nil {
		return nil, err
	}
	nAttempts, nCharges := len(r.Attempts), len(r.Charges)
	if err := fn(r, tx); err != nil {
		return nil, err
	}
	r.OrderNo = no
	if len(r.Attempts) < nAttempts || len(r.Charges) < nCharges {
		return nil, fmt.Errorf("mysql: updating order %s: fn removed attempts or charges, which only grow", no)
	}
	saved, err := save(ctx, tx, r, nAttempts, nCharges)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("mysql: updating order %s: committing: %w", no, err)
	}
	return saved, nil
}

// save writes r, whose first nAttempts attempts and nCharges charges were
// loaded, in tx, and returns it as saved.
func save(ctx context.Context, tx *sql.Tx, r *ledger.Record, nAttempts, nCharges int) (*ledger.Record, error) {
	no := r.OrderNo
	for _, a := range r.Attempts[nAttempts:] {
		if err := takeNumber(ctx, tx, r, a.PingppOrderNo); err != nil {
			return nil, err
		}
	}
	for _, c := range r.Charges[nCharges:] {
		// A charge made by one of the order's attempts has the attempt's
		// number, which payorder_numbers holds already.
		numbered := slices.ContainsFunc(r.Attempts, func(a ledger.Attempt) bool { return a.PingppOrderNo == c.PingppOrderNo })
		if err := insertCharge(ctx, tx, no, c, numbered); err != nil {
			return nil, err
		}
	}
	b, err := ledger.MarshalRecord(r)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payorder_ledger
		SET record = ?, due_until = CAST(? AS DATETIME(6)), updated_at = UTC_TIMESTAMP(6) WHERE order_no = ?`,
		b, sqlTime(r.DueUntil()), no); err != nil {
		return nil, fmt.Errorf("mysql: saving order %s: %w", no, err)
	}
	if _, err := insertAnomalies(ctx, tx, r.Anomalies); err != nil {
		return nil, err
	}
	raw := make(map[string][]byte, len(r.Charges))
	for _, c := range r.Charges {
		raw[c.ID] = c.JSON
	}
	saved, err := ledger.UnmarshalRecord(no, b, raw)
	if err != nil {
		return nil, err
	}
	saved.Now = r.Now
	return saved, nil
}

// takeNumber records Ping++ order number pno as r's order's, for one of its
// new attempts: ErrNumberTaken when another of its attempts, or another
// order, holds it.
func takeNumber(ctx context.Context, tx *sql.Tx, r *ledger.Record, pno string) error {
	no := r.OrderNo
	if err := checkKey("Ping++ order number", pno, maxNumber); err != nil {
		return err
	}
	if r.NumberUsedTwice(pno) {
		return ledger.ErrNumberTaken
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO payorder_numbers (pingpp_order_no, order_no) VALUES (?, ?)`, pno, no)
	if !duplicate(err) {
		if err != nil {
			return fmt.Errorf("mysql: recording Ping++ order number %s for order %s: %w", pno, no, err)
		}
		return nil
	}
	switch owner, err := ownerOf(ctx, tx, "payorder_numbers", "pingpp_order_no", pno); {
	case err != nil:
		return err
	case owner != no:
		return ledger.ErrNumberTaken
	}
	// The order's own already (one of its charges has it): still free for it.
	return nil
}

// ownerOf returns the order_no of the row of table whose key column is
// key. It is a locking read: the row may have been committed after this
// transaction's snapshot was taken.
func ownerOf(ctx context.Context, tx *sql.Tx, table, column, key string) (string, error) {
	var owner string
	err := tx.QueryRowContext(ctx, `SELECT order_no FROM `+table+` WHERE `+column+` = ? LOCK IN SHARE MODE`, key).Scan(&owner)
	if err != nil {
		return "", fmt.Errorf("mysql: reading the order of %s %s: %w", column, key, err)
	}
	return owner, nil
}

// insertCharge records new charge c of order no: its raw JSON, and its
// Ping++ order number when no other order holds that. A charge id recorded
// for another order is an error.
func insertCharge(ctx context.Context, tx *sql.Tx, no string, c ledger.Charge, numbered bool) error {
	if err := checkKey("charge id", c.ID, maxNumber); err != nil {
		return err
	}
	if err := checkKey("Ping++ order number", c.PingppOrderNo, maxNumber); err != nil {
		return err
	}
	raw := []byte(c.JSON)
	if raw == nil {
		raw = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO payorder_charges (id, order_no, raw) VALUES (?, ?, ?)`, c.ID, no, raw)
	switch {
	case duplicate(err):
		owner, err := ownerOf(ctx, tx, "payorder_charges", "id", c.ID)
		if err != nil {
			return err
		}
		if owner != no {
			return fmt.Errorf("mysql: charge %s is recorded for order %s, not %s", c.ID, owner, no)
		}
	case err != nil:
		return fmt.Errorf("mysql: recording charge %s of order %s: %w", c.ID, no, err)
	}
	if numbered {
		return nil
	}
	// A charge's number is Ping++'s fact: taken when free, and otherwise
	// left to its holder. (The length was checked: IGNORE only skips the
	// duplicate.)
	if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO payorder_numbers (pingpp_order_no, order_no) VALUES (?, ?)`,
		c.PingppOrderNo, no); err != nil {
		return fmt.Errorf("mysql: recording Ping++ order number %s for order %s: %w", c.PingppOrderNo, no, err)
	}
	return nil
}

// execer is what writing anomalies needs: *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertAnomalies records as, each unless its ID is recorded already, and
// returns how many were new.
func insertAnomalies(ctx context.Context, e execer, as []ledger.Anomaly) (int64, error) {
	if len(as) == 0 {
		return 0, nil
	}
	args := make([]any, 0, 9*len(as))
	for _, a := range as {
		if err := errors.Join(checkKey("anomaly id", a.ID, maxAnomalyID), checkKey("anomaly order number", a.OrderNo, maxAnomalyID),
			checkKey("anomaly charge id", a.ChargeID, maxAnomalyID)); err != nil {
			return 0, err
		}
		// Text columns take valid UTF-8 only; Event keeps the report's bytes.
		args = append(args, a.ID, strings.ToValidUTF8(string(a.Kind), "\uFFFD"), a.OrderNo, a.ChargeID, a.Amount,
			strings.ToValidUTF8(a.Currency, "\uFFFD"), strings.ToValidUTF8(a.Detail, "\uFFFD"), a.Event, sqlTime(a.CreatedAt))
	}
	values := strings.Repeat(", (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS DATETIME(6)))", len(as))[2:]
	// ON DUPLICATE KEY UPDATE rather than INSERT IGNORE: a duplicate id is
	// skipped (0 rows affected), any other fault stays an error.
	res, err := e.ExecContext(ctx, `INSERT INTO payorder_anomalies
		(id, kind, order_no, charge_id, amount, currency, detail, event, created_at)
		VALUES `+values+` ON DUPLICATE KEY UPDATE id = id`, args...)
	if err != nil {
		return 0, fmt.Errorf("mysql: recording anomalies: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("mysql: recording anomalies: %w", err)
	}
	return n, nil
}

// OrderOfCharge implements ledger.Ledger; it returns ledger.ErrNotFound for
// a charge the ledger does not hold.
func (l *Ledger) OrderOfCharge(ctx context.Context, chargeID string) (string, error) {
	var no string
	err := l.db.QueryRowContext(ctx, `SELECT order_no FROM payorder_charges WHERE id = ?`, chargeID).Scan(&no)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ledger.ErrNotFound
	case err != nil:
		return "", fmt.Errorf("mysql: reading the order of charge %s: %w", chargeID, err)
	}
	return no, nil
}

// RecordAnomaly implements ledger.Ledger.
func (l *Ledger) RecordAnomaly(ctx context.Context, a ledger.Anomaly) (bool, error) {
	n, err := insertAnomalies(ctx, l.db, []ledger.Anomaly{a})
	return n == 1, err
}

// Anomalies implements ledger.Ledger, in the order they were inserted.
func (l *Ledger) Anomalies(ctx context.Context) ([]ledger.Anomaly, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, kind, order_no, charge_id, amount, currency, detail, event,
		DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(resolved_at, '%Y-%m-%d %H:%i:%s.%f')
		FROM payorder_anomalies ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("mysql: reading anomalies: %w", err)
	}
	defer rows.Close()
	var out []ledger.Anomaly
	for rows.Next() {
		var (
			a                 ledger.Anomaly
			created, resolved sql.NullString
		)
		if err := rows.Scan(&a.ID, &a.Kind, &a.OrderNo, &a.ChargeID, &a.Amount, &a.Currency, &a.Detail, &a.Event, &created, &resolved); err != nil {
			return nil, fmt.Errorf("mysql: reading anomalies: %w", err)
		}
		if created.Valid {
			if a.CreatedAt, err = parseSQLTime(created.String); err != nil {
				return nil, err
			}
		}
		if resolved.Valid {
			if a.Resolved, err = parseSQLTime(resolved.String); err != nil {
				return nil, err
			}
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql: reading anomalies: %w", err)
	}
	return out, nil
}

// ResolveAnomaly implements ledger.Ledger, at the database's clock.
func (l *Ledger) ResolveAnomaly(ctx context.Context, id string) (bool, error) {
	res, err := l.db.ExecContext(ctx, `UPDATE payorder_anomalies SET resolved_at = UTC_TIMESTAMP(6) WHERE id = ? AND resolved_at IS NULL`, id)
	if err != nil {
		return false, fmt.Errorf("mysql: resolving anomaly %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return n == 1, err
	}
	var one int
	err = l.db.QueryRowContext(ctx, `SELECT 1 FROM payorder_anomalies WHERE id = ?`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, fmt.Errorf("mysql: anomaly %s: %w", id, ledger.ErrNotFound)
	case err != nil:
		return false, fmt.Errorf("mysql: resolving anomaly %s: %w", id, err)
	}
	return false, nil
}

// Due implements ledger.Ledger through the index on due_until: settled
// orders have a NULL due_until, which the range never reads.
func (l *Ledger) Due(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, dueSQL, since.UTC().Format(sqlTimeLayout))
	if err != nil {
		return nil, fmt.Errorf("mysql: reading due orders: %w", err)
	}
	defer rows.Close()
	var due []string
	for rows.Next() {
		var no string
		if err := rows.Scan(&no); err != nil {
			return nil, fmt.Errorf("mysql: reading due orders: %w", err)
		}
		due = append(due, no)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql: reading due orders: %w", err)
	}
	// Sorted here, not by ORDER BY, which could tempt the optimiser to walk
	// the primary key instead of the index.
	slices.Sort(due)
	return due, nil
}

// dueSQL selects the orders due after its parameter (UTC, sqlTimeLayout).
const dueSQL = `SELECT order_no FROM payorder_ledger WHERE due_until > CAST(? AS DATETIME(6))`
