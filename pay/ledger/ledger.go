package ledger

import (
	"context"
	"time"
)

// Ledger is where payorder keeps its records. Memory implements it, and so
// do the PostgreSQL and MySQL ledgers; ledgertest.Run checks an
// implementation against this contract.
type Ledger interface {
	// Read returns the record of order no as it stands, with Now set to the
	// ledger's clock: a record with only OrderNo and Now set when the ledger
	// holds nothing about the order. Where the ledger is remote it is one
	// round trip.
	Read(ctx context.Context, no string) (*Record, error)

	// Update runs fn on the record of order no (created empty if there is
	// none) and saves what fn changed, atomically: no other Update of the
	// order, in this process or another, runs in between. r.Now is the
	// ledger's clock, the only clock leases and claims are measured by. When
	// fn returns an error nothing is saved and Update returns that error.
	// fn must not keep r, and may run more than once if the implementation
	// retries a transaction.
	//
	// db is the implementation's transaction (pgx.Tx for PostgreSQL, *sql.Tx
	// for MySQL, nil for Memory): what fn writes through it commits or rolls
	// back with the record.
	//
	// The new attempts' Ping++ order numbers must be unique across the whole
	// ledger: one already held by another order's attempt or charge makes
	// Update return ErrNumberTaken and save nothing. A new charge whose id is
	// recorded for another order is an error too. (A charge's own number is
	// Ping++'s fact and is kept even when another order's attempt holds it.) r.Anomalies are recorded in the
	// same transaction, once per ID. Update returns the record as saved.
	Update(ctx context.Context, no string, fn func(r *Record, db any) error) (*Record, error)

	// OrderOfCharge returns the number of the order that charge id is
	// recorded for, or ErrNotFound.
	OrderOfCharge(ctx context.Context, chargeID string) (string, error)

	// RecordAnomaly keeps a durably, once per a.ID, and reports whether it
	// was new.
	RecordAnomaly(ctx context.Context, a Anomaly) (bool, error)

	// Anomalies returns every anomaly recorded, oldest first, resolved ones
	// included.
	Anomalies(ctx context.Context) ([]Anomaly, error)

	// ResolveAnomaly marks anomaly id resolved (its money refunded), at the
	// ledger's clock, and reports whether it was unresolved until now; an
	// anomaly resolved already keeps its time. An unknown id is ErrNotFound.
	ResolveAnomaly(ctx context.Context, id string) (bool, error)

	// Due returns the numbers of the orders whose DueUntil, as last saved, is
	// after since: those with open work, and the unpaid ones with a charge
	// expiring after since. Its cost follows the number of such orders, not
	// the size of the ledger.
	Due(ctx context.Context, since time.Time) ([]string, error)
}
