package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/pay/ledger"
)

// Config holds the optional settings of a Ledger. The zero value works.
type Config struct {
	// Logger receives what the ledger cannot return to a caller: a
	// transaction retried after a serialization failure or a deadlock, a
	// rollback that failed. Default: discard.
	Logger *slog.Logger
}

// Ledger is a ledger.Ledger in PostgreSQL, safe for concurrent use by many
// goroutines and by many processes sharing one database. Its tables (see
// the package documentation) are named without a schema, so they live in
// the schema the pool's search_path selects.
type Ledger struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// New returns a ledger over pool. The tables must exist: run Migrate first.
// The pool's configuration (size, timeouts, search_path) is the caller's.
func New(pool *pgxpool.Pool, cfg Config) *Ledger {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ledger{pool: pool, log: log}
}

// readRecord reads order $1 in one statement, and so one snapshot: the
// ledger's clock, the record (NULL for an unknown order) and the raw JSON
// of its charges. The aggregate yields one row even without charges.
const readRecord = `SELECT clock_timestamp(),
	(SELECT record FROM payorder_ledger WHERE order_no = $1),
	c.ids, c.raws
	FROM (SELECT array_agg(id) AS ids, array_agg(raw) AS raws FROM payorder_charges WHERE order_no = $1) c`

// Read implements ledger.Ledger in one round trip.
func (l *Ledger) Read(ctx context.Context, no string) (*ledger.Record, error) {
	r, err := scanRecord(no, l.pool.QueryRow(ctx, readRecord, no))
	if err != nil {
		return nil, fmt.Errorf("postgres: reading order %s: %w", no, err)
	}
	return r, nil
}

// scanRecord reads the row of readRecord for order no.
func scanRecord(no string, row pgx.Row) (*ledger.Record, error) {
	var (
		now    time.Time
		record *string
		ids    []string
		raws   [][]byte
	)
	if err := row.Scan(&now, &record, &ids, &raws); err != nil {
		return nil, err
	}
	raw := make(map[string][]byte, len(ids))
	for i, id := range ids {
		raw[id] = raws[i]
	}
	var text string
	if record != nil {
		text = *record
	}
	r, err := ledger.UnmarshalRecord(no, []byte(text), raw)
	if err != nil {
		return nil, err
	}
	r.Now = now.UTC()
	return r, nil
}

// maxTries bounds how often Update runs a transaction that failed with a
// serialization failure or a deadlock.
const maxTries = 3

// Update implements ledger.Ledger in one transaction (READ COMMITTED) of
// three round trips: BEGIN; the insertion of an empty row for a new order,
// the row's lock (SELECT … FOR UPDATE) and the read of the record, taken
// after the lock is held so that r.Now is not the time before a wait for
// another Update; then, after fn, the new numbers, charges and anomalies,
// the record and COMMIT.
//
// db is a pgx.Tx: what fn writes through it commits or rolls back with the
// record. fn must not commit or roll it back (the Tx refuses to). A
// serialization failure or deadlock is retried, running fn again; fn's own
// error is returned as it is, without a retry.
//
// A new attempt's number held by another order, or by another attempt of
// this order, returns an error wrapping ledger.ErrNumberTaken. When ctx is
// cancelled or the connection fails during COMMIT, the update may or may
// not have been saved: read the record again to know.
func (l *Ledger) Update(ctx context.Context, no string, fn func(r *ledger.Record, db any) error) (*ledger.Record, error) {
	for try := 1; ; try++ {
		var fnErr error
		r, err := l.update(ctx, no, func(r *ledger.Record, db any) error { fnErr = fn(r, db); return fnErr })
		if err != nil && fnErr == nil && try < maxTries && retryable(err) {
			l.log.WarnContext(ctx, "postgres: retrying ledger update", "order_no", no, "try", try, "error", err)
			continue
		}
		return r, err
	}
}

// retryable reports whether err ended a transaction that may simply run
// again: a serialization failure or a deadlock, or a failure before
// anything was sent.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialization_failure, deadlock_detected
	}
	return pgconn.SafeToRetry(err)
}

func (l *Ledger) update(ctx context.Context, no string, fn func(r *ledger.Record, db any) error) (*ledger.Record, error) {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: updating order %s: %w", no, err)
	}
	// A connection released inside a transaction (when the rollback below
	// fails) is closed by the pool, never reused.
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("postgres: updating order %s: %w", no, err)
	}
	defer l.rollback(ctx, conn, tx)

	var r *ledger.Record
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO payorder_ledger (order_no, record) VALUES ($1, '') ON CONFLICT (order_no) DO NOTHING`, no)
	b.Queue(`SELECT 1 FROM payorder_ledger WHERE order_no = $1 FOR UPDATE`, no)
	// A statement of its own, so that its snapshot, and clock, are taken
	// once the lock is held: it sees the charges of the Update it waited for.
	b.Queue(readRecord, no).QueryRow(func(row pgx.Row) (err error) {
		r, err = scanRecord(no, row)
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("postgres: updating order %s: %w", no, err)
	}

	nAttempts, nCharges := len(r.Attempts), len(r.Charges)
	if err := fn(r, hostTx{tx}); err != nil {
		return nil, err
	}
	r.OrderNo = no
	for _, a := range r.Attempts[nAttempts:] {
		if r.NumberUsedTwice(a.PingppOrderNo) {
			return nil, fmt.Errorf("postgres: order %s: Ping++ order number %s: %w", no, a.PingppOrderNo, ledger.ErrNumberTaken)
		}
	}
	// saved is r as Read will return it (times to the microsecond, in
	// UTC): what Update returns, and what due_until is computed from.
	encoded, err := ledger.MarshalRecord(r)
	record := string(encoded)
	var saved *ledger.Record
	if err == nil {
		saved, err = ledger.UnmarshalRecord(no, encoded, charges(r))
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: updating order %s: %w", no, err)
	}
	saved.Now = r.Now

	w := &writes{no: no}
	for _, a := range r.Attempts[nAttempts:] {
		// The order's own numbers (its charges') are skipped; any other
		// holder makes the insertion a unique violation, and so
		// ErrNumberTaken, even one whose insertion has not committed yet.
		w.queue(numberTaken(no, a.PingppOrderNo), `INSERT INTO payorder_numbers (pingpp_order_no, order_no) SELECT $1::text, $2::text
			WHERE NOT EXISTS (SELECT 1 FROM payorder_numbers WHERE pingpp_order_no = $1 AND order_no = $2)`, a.PingppOrderNo, no)
	}
	for _, c := range r.Charges[nCharges:] {
		raw := []byte(c.JSON)
		if raw == nil {
			raw = []byte{}
		}
		w.queue(chargeTaken(no, c.ID), `INSERT INTO payorder_charges (id, order_no, raw) SELECT $1::text, $2::text, $3::bytea
			WHERE NOT EXISTS (SELECT 1 FROM payorder_charges WHERE id = $1 AND order_no = $2)`, c.ID, no, raw)
		// A charge's number is Ping++'s fact: kept in the record whoever
		// holds it, and taken here only when it is free.
		w.queue(nil, `INSERT INTO payorder_numbers (pingpp_order_no, order_no) VALUES ($1, $2) ON CONFLICT DO NOTHING`, c.PingppOrderNo, no)
	}
	w.queue(nil, `UPDATE payorder_ledger SET record = $2, due_until = $3 WHERE order_no = $1`, no, record, nullTime(saved.DueUntil()))
	for _, a := range r.Anomalies {
		w.queue(nil, insertAnomaly, anomalyArgs(a)...)
	}
	w.queue(nil, `COMMIT`)
	if err := w.send(ctx, tx); err != nil {
		return nil, err
	}
	return saved, nil
}

// charges maps the ids of r's charges to their JSON.
func charges(r *ledger.Record) map[string][]byte {
	m := make(map[string][]byte, len(r.Charges))
	for _, c := range r.Charges {
		m[c.ID] = c.JSON
	}
	return m
}

// rollback ends tx unless it is over (committed by the write batch, or
// never begun), so that the connection can return to the pool.
func (l *Ledger) rollback(ctx context.Context, conn *pgxpool.Conn, tx pgx.Tx) {
	if conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	// The caller's ctx may be what ended the transaction.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := tx.Rollback(ctx); err != nil {
		// pgx closes the connection; the pool then discards it.
		l.log.WarnContext(ctx, "postgres: rolling back a ledger update", "error", err)
	}
}

// hostTx is the transaction handed to Update's fn: a pgx.Tx that fn may
// write through, nest (Begin makes a savepoint) but not end, since the
// ledger's record is saved after fn returns.
type hostTx struct{ pgx.Tx }

// Commit refuses: the ledger commits after fn returns.
func (hostTx) Commit(context.Context) error {
	return errors.New("postgres: the ledger's transaction is committed by Update, not by fn")
}

// Rollback refuses: fn returns an error instead.
func (hostTx) Rollback(context.Context) error {
	return errors.New("postgres: the ledger's transaction is rolled back by Update when fn returns an error")
}

// writes is the batch that ends Update: statements, each with what its
// failure means (nil: a plain failure).
type writes struct {
	no    string
	batch pgx.Batch
	fails []func(error) error
}

func (w *writes) queue(fail func(error) error, sql string, args ...any) {
	w.batch.Queue(sql, args...)
	w.fails = append(w.fails, fail)
}

// send runs the batch in one round trip. The first statement that fails
// ends it: PostgreSQL skips the rest, COMMIT among them.
func (w *writes) send(ctx context.Context, tx pgx.Tx) error {
	br := tx.SendBatch(ctx, &w.batch)
	defer br.Close()
	for _, fail := range w.fails {
		if _, err := br.Exec(); err != nil {
			if fail != nil {
				if converted := fail(err); converted != nil {
					return converted
				}
			}
			return fmt.Errorf("postgres: updating order %s: %w", w.no, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("postgres: updating order %s: %w", w.no, err)
	}
	return nil
}

// uniqueViolation reports whether err is a violation of constraint.
func uniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

// numberTaken converts the failure to take Ping++ number n for order no.
func numberTaken(no, n string) func(error) error {
	return func(err error) error {
		if uniqueViolation(err, "payorder_numbers_pkey") {
			return fmt.Errorf("postgres: order %s: Ping++ order number %s: %w", no, n, ledger.ErrNumberTaken)
		}
		return nil
	}
}

// chargeTaken converts the failure to record charge id for order no.
func chargeTaken(no, id string) func(error) error {
	return func(err error) error {
		if uniqueViolation(err, "payorder_charges_pkey") {
			return fmt.Errorf("postgres: charge %s is recorded for another order than %s", id, no)
		}
		return nil
	}
}

// OrderOfCharge implements ledger.Ledger: an unknown charge returns an
// error wrapping ledger.ErrNotFound.
func (l *Ledger) OrderOfCharge(ctx context.Context, chargeID string) (string, error) {
	var no string
	err := l.pool.QueryRow(ctx, `SELECT order_no FROM payorder_charges WHERE id = $1`, chargeID).Scan(&no)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", fmt.Errorf("postgres: charge %s: %w", chargeID, ledger.ErrNotFound)
	case err != nil:
		return "", fmt.Errorf("postgres: order of charge %s: %w", chargeID, err)
	}
	return no, nil
}

// insertAnomaly records an anomaly, once per id.
const insertAnomaly = `INSERT INTO payorder_anomalies
	(id, kind, order_no, charge_id, amount, currency, detail, event, created_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`

// anomalyArgs are insertAnomaly's arguments for a.
func anomalyArgs(a ledger.Anomaly) []any {
	event := a.Event
	if event == nil {
		event = []byte{}
	}
	return []any{a.ID, string(a.Kind), a.OrderNo, a.ChargeID, a.Amount, a.Currency, a.Detail, event, nullTime(a.CreatedAt)}
}

// RecordAnomaly implements ledger.Ledger.
func (l *Ledger) RecordAnomaly(ctx context.Context, a ledger.Anomaly) (bool, error) {
	tag, err := l.pool.Exec(ctx, insertAnomaly, anomalyArgs(a)...)
	if err != nil {
		return false, fmt.Errorf("postgres: recording anomaly %s: %w", a.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Anomalies implements ledger.Ledger, oldest recorded first.
func (l *Ledger) Anomalies(ctx context.Context) ([]ledger.Anomaly, error) {
	rows, err := l.pool.Query(ctx, `SELECT id, kind, order_no, charge_id, amount, currency, detail, event, created_at, resolved_at
		FROM payorder_anomalies ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("postgres: anomalies: %w", err)
	}
	anomalies, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ledger.Anomaly, error) {
		var (
			a                 ledger.Anomaly
			kind              string
			created, resolved *time.Time
		)
		err := row.Scan(&a.ID, &kind, &a.OrderNo, &a.ChargeID, &a.Amount, &a.Currency, &a.Detail, &a.Event, &created, &resolved)
		a.Kind = ledger.AnomalyKind(kind)
		if created != nil {
			a.CreatedAt = created.UTC()
		}
		if resolved != nil {
			a.Resolved = resolved.UTC()
		}
		if len(a.Event) == 0 {
			a.Event = nil
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: anomalies: %w", err)
	}
	return anomalies, nil
}

// ResolveAnomaly implements ledger.Ledger, at the database's clock, in one
// statement.
func (l *Ledger) ResolveAnomaly(ctx context.Context, id string) (bool, error) {
	var exists, resolved bool
	err := l.pool.QueryRow(ctx, `WITH u AS (
			UPDATE payorder_anomalies SET resolved_at = clock_timestamp() WHERE id = $1 AND resolved_at IS NULL RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM payorder_anomalies WHERE id = $1), EXISTS (SELECT 1 FROM u)`, id).Scan(&exists, &resolved)
	switch {
	case err != nil:
		return false, fmt.Errorf("postgres: resolving anomaly %s: %w", id, err)
	case !exists:
		return false, fmt.Errorf("postgres: anomaly %s: %w", id, ledger.ErrNotFound)
	}
	return resolved, nil
}

// Due implements ledger.Ledger with a range scan of the partial index on
// due_until, which holds only the orders with something due: settled
// orders cost it nothing. The numbers come sorted.
func (l *Ledger) Due(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := l.pool.Query(ctx, dueSQL, since)
	if err != nil {
		return nil, fmt.Errorf("postgres: due orders: %w", err)
	}
	due, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: due orders: %w", err)
	}
	return due, nil
}

// dueSQL lists the orders due after $1.
const dueSQL = `SELECT order_no FROM payorder_ledger WHERE due_until > $1 ORDER BY order_no`

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
