package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
)

// Config holds the optional settings of a Store. The zero value works.
type Config struct {
	// Logger receives what the store cannot return to a caller, such as a
	// lock lease that could not be renewed; default discards.
	Logger *slog.Logger
}

// Store keeps orders, their charges, their payment state and payment
// anomalies in PostgreSQL. It implements pay.PaymentStore and pay.Locker and
// is safe for concurrent use by many goroutines and many processes sharing
// one database. Its tables (see the package documentation) are named without
// a schema, so they live in the schema that the pool's search_path selects.
type Store struct {
	pool *pgxpool.Pool
	log  *slog.Logger
}

// New returns a store over pool. The tables must exist: run Migrate first.
// The pool's configuration (size, timeouts, search_path) is the caller's.
func New(pool *pgxpool.Pool, cfg Config) *Store {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{pool: pool, log: log}
}

const orderColumns = `no, buyer, amount, currency, subject, body, metadata, status,
	created_at, expires_at, paid, refunds, fulfilled_at, fulfilment_lease_until, fulfilment_claim`

const chargeColumns = `id, order_no, pingpp_order_no, channel, amount, currency, extra_key,
	app_id, livemode, created_at, expires_at, raw`

// Put stores o like PutContext, without a deadline. It exists so that the
// Store satisfies ordertest.Store; prefer PutContext.
func (s *Store) Put(o order.Order) error {
	return s.PutContext(context.Background(), o)
}

// PutContext inserts o, or replaces the order with its number. Replacing
// keeps what the store owns: the charges recorded and the payment state
// (status, payment, refunds, fulfilment). An empty status becomes
// order.StatusUnpaid and an empty currency "cny". An invalid order returns
// an error wrapping payorder.ErrInvalidRequest. Times are kept to the
// microsecond, PostgreSQL's precision.
func (s *Store) PutContext(ctx context.Context, o order.Order) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Status == "" {
		o.Status = order.StatusUnpaid
	}
	if o.Currency == "" {
		o.Currency = "cny"
	}
	args, err := orderArgs(&o)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO payorder_orders (`+orderColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (no) DO UPDATE SET
			buyer = excluded.buyer, amount = excluded.amount, currency = excluded.currency,
			subject = excluded.subject, body = excluded.body, metadata = excluded.metadata,
			created_at = excluded.created_at, expires_at = excluded.expires_at,
			updated_at = now()`, args...)
	if err != nil {
		return fmt.Errorf("postgres: putting order %s: %w", o.No, err)
	}
	return nil
}

// Order returns the order numbered no, or an error wrapping
// payorder.ErrOrderNotFound.
func (s *Store) Order(ctx context.Context, no string) (order.Order, error) {
	row := s.pool.QueryRow(ctx, selectOrder, no)
	o, err := scanOrder(row)
	if err != nil {
		return order.Order{}, notFound(err, "order "+no)
	}
	return o, nil
}

// Charges returns the charges recorded for order no, oldest recorded first,
// or an error wrapping payorder.ErrOrderNotFound.
func (s *Store) Charges(ctx context.Context, no string) ([]order.Charge, error) {
	// One round trip answers both whether the order exists and its charges:
	// the LEFT JOIN yields one row of NULLs for an order without charges.
	rows, err := s.pool.Query(ctx, `SELECT `+prefixed("c.", chargeColumns)+`
		FROM payorder_orders o LEFT JOIN payorder_charges c ON c.order_no = o.no
		WHERE o.no = $1 ORDER BY c.seq`, no)
	if err != nil {
		return nil, fmt.Errorf("postgres: charges of order %s: %w", no, err)
	}
	defer rows.Close()
	var (
		charges []order.Charge
		found   bool
	)
	for rows.Next() {
		found = true
		var id pgtype.Text
		c, err := scanCharge(rows, &id)
		if err != nil {
			return nil, fmt.Errorf("postgres: charges of order %s: %w", no, err)
		}
		if id.Valid {
			charges = append(charges, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: charges of order %s: %w", no, err)
	}
	if !found {
		return nil, payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	return charges, nil
}

// OrderWithCharges returns the order numbered no and its charges, oldest
// recorded first, read in one round trip and one snapshot: what PayForOrder
// reads on every call. An unknown order wraps payorder.ErrOrderNotFound.
func (s *Store) OrderWithCharges(ctx context.Context, no string) (order.Order, []order.Charge, error) {
	batch := &pgx.Batch{}
	batch.Queue(selectOrder, no)
	batch.Queue(selectChargesOf, no)
	br := s.pool.SendBatch(ctx, batch)
	defer br.Close()
	o, err := scanOrder(br.QueryRow())
	if err != nil {
		return order.Order{}, nil, notFound(err, "order "+no)
	}
	charges, err := scanCharges(br)
	if err != nil {
		return order.Order{}, nil, fmt.Errorf("postgres: charges of order %s: %w", no, err)
	}
	return o, charges, nil
}

// selectOrder reads order $1.
const selectOrder = `SELECT ` + orderColumns + ` FROM payorder_orders WHERE no = $1`

// selectChargesOf reads the charges of order $1, oldest recorded first.
const selectChargesOf = `SELECT ` + chargeColumns + ` FROM payorder_charges WHERE order_no = $1 ORDER BY seq`

// scanCharges reads the answer to the next query of br, selectChargesOf.
func scanCharges(br pgx.BatchResults) ([]order.Charge, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var charges []order.Charge
	for rows.Next() {
		c, err := scanCharge(rows, nil)
		if err != nil {
			return nil, err
		}
		charges = append(charges, c)
	}
	return charges, rows.Err()
}

// AddCharge records c for its order, or returns an error wrapping
// payorder.ErrOrderNotFound when the order does not exist. Recording a
// charge id again is a no-op.
func (s *Store) AddCharge(ctx context.Context, c order.Charge) error {
	_, err := s.pool.Exec(ctx, insertCharge, chargeArgs(c)...)
	return addChargeError(c, err)
}

// insertCharge records a charge, once per id.
const insertCharge = `INSERT INTO payorder_charges (` + chargeColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
	ON CONFLICT (id) DO NOTHING`

// chargeArgs are insertCharge's arguments for c.
func chargeArgs(c order.Charge) []any {
	raw := []byte(c.JSON)
	if raw == nil {
		raw = []byte{}
	}
	return []any{c.ID, c.OrderNo, c.PingppOrderNo, string(c.Channel), c.Amount, c.Currency, c.ExtraKey,
		c.AppID, c.Livemode, nullTime(c.CreatedAt), nullTime(c.ExpiresAt), raw}
}

// addChargeError converts the error of insertCharge for c.
func addChargeError(c order.Charge, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation
		return payorder.NewError(payorder.CodeOrderNotFound, "order "+c.OrderNo, nil)
	}
	if err != nil {
		return fmt.Errorf("postgres: adding charge %s: %w", c.ID, err)
	}
	return nil
}

// UpdateOrder applies fn to the order numbered no and saves the result
// atomically: it reads the order with SELECT … FOR UPDATE in a transaction,
// so no other update of that order, in this process or another, runs in
// between. When fn returns an error nothing is saved and that error is
// returned as is. An unknown order returns an error wrapping
// payorder.ErrOrderNotFound. fn runs while the order's row is locked: it
// must not wait on anything slow. The order returned is the one stored,
// with times kept to the microsecond.
func (s *Store) UpdateOrder(ctx context.Context, no string, fn func(*order.Order) error) (order.Order, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return order.Order{}, fmt.Errorf("postgres: updating order %s: %w", no, err)
	}
	// A connection released inside a transaction (when the rollback below
	// fails) is closed by the pool, never reused.
	defer conn.Release()
	// Two round trips: BEGIN with the locking read, then the write with
	// COMMIT, each pair pipelined, so the row stays locked for little more
	// than one round trip plus fn.
	var o order.Order
	err = sendBatch(ctx, conn, func(b *pgx.Batch) {
		b.Queue(`BEGIN`)
		b.Queue(`SELECT `+orderColumns+` FROM payorder_orders WHERE no = $1 FOR UPDATE`, no).QueryRow(func(row pgx.Row) error {
			var err error
			o, err = scanOrder(row)
			return err
		})
	})
	if err == nil {
		if err = fn(&o); err != nil {
			rollback(conn)
			return order.Order{}, err
		}
		o.No = no
		var args []any
		if args, err = orderArgs(&o); err == nil {
			err = sendBatch(ctx, conn, func(b *pgx.Batch) {
				b.Queue(`UPDATE payorder_orders SET
					buyer = $2, amount = $3, currency = $4, subject = $5, body = $6, metadata = $7,
					status = $8, created_at = $9, expires_at = $10, paid = $11, refunds = $12,
					fulfilled_at = $13, fulfilment_lease_until = $14, fulfilment_claim = $15, updated_at = now()
					WHERE no = $1`, args...)
				b.Queue(`COMMIT`)
			})
		}
	}
	switch {
	case err == nil:
		return o, nil
	case isAppError(err):
		rollback(conn)
		return order.Order{}, err
	default:
		rollback(conn)
		return order.Order{}, notFound(err, "order "+no)
	}
}

// sendBatch sends the queries queue adds in one round trip and reads every
// result.
func sendBatch(ctx context.Context, conn *pgxpool.Conn, queue func(*pgx.Batch)) error {
	b := &pgx.Batch{}
	queue(b)
	return conn.SendBatch(ctx, b).Close()
}

// rollback ends the transaction open on conn, if any, so that the
// connection can return to the pool.
func rollback(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	conn.Exec(ctx, `ROLLBACK`) // on failure the pool closes the connection
}

// OrderByCharge returns the order a recorded charge belongs to, or an error
// wrapping payorder.ErrOrderNotFound.
func (s *Store) OrderByCharge(ctx context.Context, chargeID string) (order.Order, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+prefixed("o.", orderColumns)+`
		FROM payorder_charges c JOIN payorder_orders o ON o.no = c.order_no WHERE c.id = $1`, chargeID)
	o, err := scanOrder(row)
	if err != nil {
		return order.Order{}, notFound(err, "charge "+chargeID)
	}
	return o, nil
}

// RecordAnomaly keeps a durably, once per a.ID, and reports whether it was new.
func (s *Store) RecordAnomaly(ctx context.Context, a order.Anomaly) (bool, error) {
	event := a.Event
	if event == nil {
		event = []byte{}
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO payorder_anomalies
		(id, kind, order_no, charge_id, amount, currency, detail, event, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
		a.ID, string(a.Kind), a.OrderNo, a.ChargeID, a.Amount, a.Currency, a.Detail, event, nullTime(a.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("postgres: recording anomaly %s: %w", a.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Anomalies returns every anomaly recorded, oldest recorded first.
func (s *Store) Anomalies(ctx context.Context) ([]order.Anomaly, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, kind, order_no, charge_id, amount, currency, detail, event, created_at
		FROM payorder_anomalies ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("postgres: anomalies: %w", err)
	}
	anomalies, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (order.Anomaly, error) {
		var (
			a       order.Anomaly
			kind    string
			created pgtype.Timestamptz
		)
		err := row.Scan(&a.ID, &kind, &a.OrderNo, &a.ChargeID, &a.Amount, &a.Currency, &a.Detail, &a.Event, &created)
		a.Kind, a.CreatedAt = order.AnomalyKind(kind), timeOf(created)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: anomalies: %w", err)
	}
	return anomalies, nil
}

// PendingCharges returns the charges that may still need work, oldest
// first: those of unpaid orders that expire after since (a lost webhook may
// have left them paid at Ping++ without the order knowing), and every charge
// of a paid order whose fulfilment has not succeeded (the host's hook must
// still run).
func (s *Store) PendingCharges(ctx context.Context, since time.Time) ([]order.Charge, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+prefixed("c.", chargeColumns)+`
		FROM payorder_charges c JOIN payorder_orders o ON o.no = c.order_no
		WHERE o.fulfilled_at IS NULL AND (o.paid IS NOT NULL OR c.expires_at > $1)
		ORDER BY c.created_at, c.seq`, since)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending charges: %w", err)
	}
	charges, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (order.Charge, error) {
		return scanCharge(row, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: pending charges: %w", err)
	}
	return charges, nil
}

// notFound turns pgx.ErrNoRows into payorder.ErrOrderNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return payorder.NewError(payorder.CodeOrderNotFound, what, nil)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// isAppError reports whether err is one of payorder's, to be returned as is.
func isAppError(err error) bool {
	var e *payorder.Error
	return errors.As(err, &e)
}

// prefixed qualifies each column of a column list with a table alias.
func prefixed(alias, columns string) string {
	var b bytes.Buffer
	for i, c := range bytes.Split([]byte(columns), []byte(",")) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(alias)
		b.Write(bytes.TrimSpace(c))
	}
	return b.String()
}

// paymentJSON is order.Payment as stored in payorder_orders.paid.
type paymentJSON struct {
	ChargeID      string    `json:"charge_id"`
	Channel       string    `json:"channel"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	TransactionNo string    `json:"transaction_no"`
	PaidAt        time.Time `json:"paid_at"`
	EventID       string    `json:"event_id"`
}

// refundJSON is order.Refund as stored in payorder_orders.refunds.
type refundJSON struct {
	ID          string    `json:"id"`
	ChargeID    string    `json:"charge_id"`
	Amount      int64     `json:"amount"`
	SucceededAt time.Time `json:"succeeded_at"`
	EventID     string    `json:"event_id"`
}

// orderArgs returns the arguments of orderColumns for o, after keeping o's
// column times to the microsecond so that o is what the database will hold.
func orderArgs(o *order.Order) ([]any, error) {
	o.CreatedAt = o.CreatedAt.Truncate(time.Microsecond)
	o.ExpiresAt = o.ExpiresAt.Truncate(time.Microsecond)
	o.FulfilledAt = o.FulfilledAt.Truncate(time.Microsecond)
	o.FulfilmentLeaseUntil = o.FulfilmentLeaseUntil.Truncate(time.Microsecond)
	var metadata []byte
	if o.Metadata != nil {
		b, err := json.Marshal(o.Metadata)
		if err != nil {
			return nil, payorder.NewError(payorder.CodeInvalidRequest, "postgres: metadata of order "+o.No+" is not JSON", err)
		}
		metadata = b
	}
	var paid []byte
	if p := o.Paid; p != nil {
		b, err := json.Marshal(paymentJSON{p.ChargeID, string(p.Channel), p.Amount, p.Currency, p.TransactionNo, p.PaidAt, p.EventID})
		if err != nil {
			return nil, fmt.Errorf("postgres: encoding payment of order %s: %w", o.No, err)
		}
		paid = b
	}
	refunds := make([]refundJSON, len(o.Refunds))
	for i, r := range o.Refunds {
		refunds[i] = refundJSON{r.ID, r.ChargeID, r.Amount, r.SucceededAt, r.EventID}
	}
	refundsJSON, err := json.Marshal(refunds)
	if err != nil {
		return nil, fmt.Errorf("postgres: encoding refunds of order %s: %w", o.No, err)
	}
	return []any{
		o.No, o.Buyer, o.Amount, o.Currency, o.Subject, o.Body, jsonArg(metadata), string(o.Status),
		nullTime(o.CreatedAt), nullTime(o.ExpiresAt), jsonArg(paid), string(refundsJSON),
		nullTime(o.FulfilledAt), nullTime(o.FulfilmentLeaseUntil), o.FulfilmentClaim,
	}, nil
}

// jsonArg passes encoded JSON as text (NULL when nil), which PostgreSQL
// casts to jsonb.
func jsonArg(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// scanOrder reads a row of orderColumns.
func scanOrder(row pgx.Row) (order.Order, error) {
	var (
		o                                   order.Order
		status                              string
		metadata, paid, refunds             []byte
		created, expires, fulfilled, leased pgtype.Timestamptz
	)
	err := row.Scan(&o.No, &o.Buyer, &o.Amount, &o.Currency, &o.Subject, &o.Body, &metadata, &status,
		&created, &expires, &paid, &refunds, &fulfilled, &leased, &o.FulfilmentClaim)
	if err != nil {
		return order.Order{}, err
	}
	o.Status = order.Status(status)
	o.CreatedAt, o.ExpiresAt = timeOf(created), timeOf(expires)
	o.FulfilledAt, o.FulfilmentLeaseUntil = timeOf(fulfilled), timeOf(leased)
	if metadata != nil {
		// Numbers stay json.Number, so that large integers such as order ids
		// survive exactly.
		d := json.NewDecoder(bytes.NewReader(metadata))
		d.UseNumber()
		if err := d.Decode(&o.Metadata); err != nil {
			return order.Order{}, fmt.Errorf("decoding metadata: %w", err)
		}
	}
	if paid != nil {
		var p paymentJSON
		if err := json.Unmarshal(paid, &p); err != nil {
			return order.Order{}, fmt.Errorf("decoding payment: %w", err)
		}
		o.Paid = &order.Payment{ChargeID: p.ChargeID, Channel: channel.Channel(p.Channel), Amount: p.Amount,
			Currency: p.Currency, TransactionNo: p.TransactionNo, PaidAt: p.PaidAt, EventID: p.EventID}
	}
	var rs []refundJSON
	if err := json.Unmarshal(refunds, &rs); err != nil {
		return order.Order{}, fmt.Errorf("decoding refunds: %w", err)
	}
	for _, r := range rs {
		o.Refunds = append(o.Refunds, order.Refund{ID: r.ID, ChargeID: r.ChargeID, Amount: r.Amount, SucceededAt: r.SucceededAt, EventID: r.EventID})
	}
	return o, nil
}

// scanCharge reads a row of chargeColumns. With id non-nil the row may be
// all NULLs (an outer join without a match), and id tells.
func scanCharge(row pgx.Row, id *pgtype.Text) (order.Charge, error) {
	var (
		c                                           order.Charge
		orderNo, pingppNo, ch, currency, extra, app pgtype.Text
		amount                                      pgtype.Int8
		livemode                                    pgtype.Bool
		created, expires                            pgtype.Timestamptz
		raw                                         []byte
	)
	if id == nil {
		id = new(pgtype.Text)
	}
	if err := row.Scan(id, &orderNo, &pingppNo, &ch, &amount, &currency, &extra, &app, &livemode, &created, &expires, &raw); err != nil {
		return order.Charge{}, err
	}
	c = order.Charge{
		ID: id.String, OrderNo: orderNo.String, PingppOrderNo: pingppNo.String, Channel: channel.Channel(ch.String),
		Amount: amount.Int64, Currency: currency.String, ExtraKey: extra.String, AppID: app.String,
		Livemode: livemode.Bool, CreatedAt: timeOf(created), ExpiresAt: timeOf(expires),
	}
	if len(raw) > 0 {
		c.JSON = raw
	}
	return c, nil
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeOf reads a nullable timestamptz, NULL as the zero time.
func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
