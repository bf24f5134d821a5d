package pay

import (
	"context"
	"time"

	"github.com/yianpay/payorder"

	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/pingxx"
)

// OrderStore is what the Service needs of the host's orders. order.MemStore
// implements it; so does the PostgreSQL store.
type OrderStore interface {
	// Order returns the order numbered no, or an error wrapping
	// payorder.ErrOrderNotFound.
	Order(ctx context.Context, no string) (order.Order, error)
	// Charges returns the charges recorded for order no, oldest first.
	Charges(ctx context.Context, no string) ([]order.Charge, error)
	// AddCharge records a charge; recording the same charge id again is a no-op.
	AddCharge(ctx context.Context, c order.Charge) error
}

// LockerFunc adapts a function to Locker, so that a store can take its lock
// from elsewhere by embedding one: struct{ *MyStore; pay.LockerFunc }.
type LockerFunc func(ctx context.Context, key string, ttl time.Duration) (unlock func(), err error)

// Lock calls f.
func (f LockerFunc) Lock(ctx context.Context, key string, ttl time.Duration) (func(), error) {
	return f(ctx, key, ttl)
}

// OrderWithCharges is an optional capability of an OrderStore: reading an
// order and its charges together, in one round trip where the store is
// remote. PayForOrder uses it when the store has it, and Order followed by
// Charges otherwise.
type OrderWithCharges interface {
	// OrderWithCharges returns what Order and Charges would return for no.
	OrderWithCharges(ctx context.Context, no string) (order.Order, []order.Charge, error)
}

// Locker is an optional capability of an OrderStore: exclusion across the
// processes that share the store. When the store implements it, the Service
// holds the lock named key while it checks for a live charge and creates one,
// so that concurrent calls on different instances create at most one charge.
type Locker interface {
	// Lock blocks until it holds the lock named key or ctx is done. The lock
	// lapses by itself after ttl, so a crashed holder cannot block others for
	// ever. unlock releases it early.
	Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), err error)
}

// OrderLocker is an optional capability of a store that implements Locker:
// the lock around one charge's creation, with the order and its charges read
// as the lock is taken and the new charge recorded as it is released, each
// in one round trip where the store is remote. PayForOrder prefers it to Lock.
type OrderLocker interface {
	// LockOrder takes the lock named key, as Lock does, and then reads order
	// no and its charges, as Order and Charges do. done records c, unless it
	// is nil, as AddCharge does, and releases the lock (also when recording
	// fails, and when LockOrder's read fails after the lock was taken, in
	// which case LockOrder releases it itself). done is called exactly once.
	LockOrder(ctx context.Context, key string, ttl time.Duration, no string) (o order.Order, charges []order.Charge, done func(ctx context.Context, c *order.Charge) error, err error)
}

// Gateway is what the Service needs of Ping++. *pingxx.Client implements it.
type Gateway interface {
	// CreateCharge asks Ping++ for a charge. An error wrapping
	// pingxx.ErrOutcomeUnknown means the charge may exist.
	CreateCharge(ctx context.Context, p *pingxx.ChargeParams) (*pingxx.Charge, error)
	// FindCharges returns this app's charges with the given Ping++ order_no
	// created since the given time.
	FindCharges(ctx context.Context, orderNo string, since time.Time) ([]*pingxx.Charge, error)
}

// ChargeRetriever is an optional capability of a Gateway: fetching one
// charge by id. SyncOrder and Reconcile use it to ask Ping++ about an order's
// recorded charges one by one rather than searching the app's whole charge
// list. *pingxx.Client has it.
type ChargeRetriever interface {
	// RetrieveCharge returns the charge with id as Ping++ holds it now.
	RetrieveCharge(ctx context.Context, id string) (*pingxx.Charge, error)
}

// TokenVerifier maps a login token of the host's mobile clients to the buyer
// it belongs to.
type TokenVerifier interface {
	// VerifyToken returns the buyer of token, an error wrapping
	// payorder.ErrInvalidToken when the token is unknown, or one wrapping
	// payorder.ErrUserInactive when its user is inactive or deleted. Any
	// other error is a failure of the verifier (answered 500).
	VerifyToken(ctx context.Context, token string) (buyer string, err error)
}

// TokenVerifierFunc adapts a function to TokenVerifier.
type TokenVerifierFunc func(ctx context.Context, token string) (string, error)

// VerifyToken calls f.
func (f TokenVerifierFunc) VerifyToken(ctx context.Context, token string) (string, error) {
	return f(ctx, token)
}

// StaticTokens is a TokenVerifier over a fixed token → buyer map, for
// examples and tests.
type StaticTokens map[string]string

// VerifyToken implements TokenVerifier.
func (m StaticTokens) VerifyToken(_ context.Context, token string) (string, error) {
	if b, ok := m[token]; ok {
		return b, nil
	}
	return "", payorder.ErrInvalidToken
}

// PaymentStore is what webhooks and reconciliation need of the store, on top
// of OrderStore. order.MemStore implements it; so does the PostgreSQL store.
// All payment logic (what a payment, refund or fulfilment claim does to an
// order) lives in package order; a store only has to run it atomically.
type PaymentStore interface {
	OrderStore
	// UpdateOrder applies fn to the order numbered no and saves the result
	// atomically: no other update of that order, in this process or another,
	// runs in between. When fn returns an error nothing is saved and that
	// error is returned. An unknown order wraps payorder.ErrOrderNotFound.
	UpdateOrder(ctx context.Context, no string, fn func(*order.Order) error) (order.Order, error)
	// OrderByCharge returns the order a recorded charge belongs to, or an
	// error wrapping payorder.ErrOrderNotFound.
	OrderByCharge(ctx context.Context, chargeID string) (order.Order, error)
	// RecordAnomaly keeps a durably, once per a.ID, and reports whether it was new.
	RecordAnomaly(ctx context.Context, a order.Anomaly) (bool, error)
	// Anomalies returns every anomaly recorded, oldest first.
	Anomalies(ctx context.Context) ([]order.Anomaly, error)
	// PendingCharges returns the charges that may still need work: those of
	// unpaid orders that expire after since, and every charge of a paid order
	// that is not yet fulfilled (FulfilledAt zero).
	PendingCharges(ctx context.Context, since time.Time) ([]order.Charge, error)
}
