package postgres

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yianpay/payorder/order"
)

// Polling bounds of a waiting Lock: each wait is drawn from this range so
// that waiters on different instances do not poll in step.
const (
	lockPollMin = 10 * time.Millisecond
	lockPollMax = 50 * time.Millisecond
	// unlockTimeout bounds the release of a lock, which has no context of
	// its own; a release that fails leaves the lease to expire.
	unlockTimeout = 5 * time.Second
)

// Lock implements pay.Locker with a lease row in payorder_locks: it blocks
// until it holds the lock named key or ctx is done, and then returns
// ctx.Err(). The lease lasts ttl by the database clock and is renewed every
// ttl/3 until unlock is called, so a holder that waits long on Ping++ keeps
// it; a holder that dies stops renewing and its lease lapses after at most
// ttl. No connection or transaction is held between polls or while the lock
// is held. unlock may be called more than once.
//
// A renewal can fail (the database unreachable for longer than ttl); the
// lock may then pass to another holder, and the failure is logged.
func (s *Store) Lock(ctx context.Context, key string, ttl time.Duration) (unlock func(), err error) {
	holder, stopRenewal, err := s.lock(ctx, key, ttl, nil, nil)
	if err != nil {
		return nil, err
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			stopRenewal()
			s.release(key, holder)
		})
	}, nil
}

// LockOrder implements pay.OrderLocker: Lock, and order no and its charges
// read in the statements after the one that took the lease, in the same
// round trip, so they include every charge recorded and every payment
// applied by earlier holders. done records the new charge, if any, and
// deletes the lease in one transaction and one round trip; if that fails,
// the lease is still released. An unknown order releases the lease and
// returns an error wrapping payorder.ErrOrderNotFound.
func (s *Store) LockOrder(ctx context.Context, key string, ttl time.Duration, no string) (order.Order, []order.Charge, func(context.Context, *order.Charge) error, error) {
	var (
		o       order.Order
		charges []order.Charge
	)
	holder, stopRenewal, err := s.lock(ctx, key, ttl,
		func(b *pgx.Batch) {
			b.Queue(selectOrder, no)
			b.Queue(selectChargesOf, no)
		},
		func(br pgx.BatchResults) (err error) {
			if o, err = scanOrder(br.QueryRow()); err != nil {
				return notFound(err, "order "+no)
			}
			charges, err = scanCharges(br)
			return err
		})
	if err != nil {
		return order.Order{}, nil, nil, err
	}
	var once sync.Once
	done := func(ctx context.Context, c *order.Charge) (err error) {
		once.Do(func() {
			stopRenewal()
			if c == nil {
				s.release(key, holder)
				return
			}
			batch := &pgx.Batch{}
			batch.Queue(insertCharge, chargeArgs(*c)...)
			batch.Queue(deleteLease, key, holder)
			if err = s.pool.SendBatch(ctx, batch).Close(); err != nil {
				s.release(key, holder)
				err = addChargeError(*c, err)
			}
		})
		return err
	}
	return o, charges, done, nil
}

// lock takes the lease on key, polling until it is free or ctx ends. With
// also and read, every attempt sends also's queries after the one that takes
// the lease, in the same round trip, and read reads their answers once the
// lease is taken.
func (s *Store) lock(ctx context.Context, key string, ttl time.Duration, also func(*pgx.Batch), read func(pgx.BatchResults) error) (holder string, stopRenewal func(), err error) {
	if ttl < 3*time.Millisecond {
		return "", nil, fmt.Errorf("postgres: lock %s: ttl %v is too short", key, ttl)
	}
	if holder, err = newHolder(); err != nil {
		return "", nil, err
	}
	for {
		ok, err := s.tryLock(ctx, key, holder, ttl, also, read)
		if ctxErr := ctx.Err(); ctxErr != nil || err != nil {
			// The lease may have been taken even without a reply saying so:
			// release it by holder, which touches no one else's.
			s.release(key, holder)
			if ctxErr != nil {
				return "", nil, ctxErr
			}
			return "", nil, fmt.Errorf("postgres: lock %s: %w", key, err)
		}
		if ok {
			return holder, s.renewUntilStopped(key, holder, ttl), nil
		}
		wait := time.NewTimer(lockPollMin + rand.N(lockPollMax-lockPollMin))
		select {
		case <-ctx.Done():
			wait.Stop()
			return "", nil, ctx.Err()
		case <-wait.C:
		}
	}
}

// tryLock takes the lease on key for holder when no one else holds an
// unexpired one, in one statement, followed in the same round trip by
// also's queries, whose answers read takes when the lease was taken.
func (s *Store) tryLock(ctx context.Context, key, holder string, ttl time.Duration, also func(*pgx.Batch), read func(pgx.BatchResults) error) (bool, error) {
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO payorder_locks (key, holder, expires_at)
		VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE payorder_locks.expires_at < now()`, key, holder, ttl.Microseconds())
	if also != nil {
		also(batch)
	}
	br := s.pool.SendBatch(ctx, batch)
	defer br.Close()
	tag, err := br.Exec()
	if err != nil || tag.RowsAffected() != 1 {
		return false, err
	}
	if read != nil {
		if err := read(br); err != nil {
			return true, err
		}
	}
	return true, br.Close()
}

// renewUntilStopped renews the lease of holder on key every ttl/3 until the
// returned stop is called; stop returns once renewal has ended.
func (s *Store) renewUntilStopped(key, holder string, ttl time.Duration) (stop func()) {
	stopc := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-stopc:
				return
			case <-tick.C:
			}
			if !s.renew(stopc, key, holder, ttl) {
				return
			}
		}
	}()
	return func() {
		close(stopc)
		<-done
	}
}

// renew extends holder's lease on key by ttl from now, giving up when stop
// closes or ttl passes. It reports whether renewing is still worth trying:
// false once the lease belongs to another holder.
func (s *Store) renew(stop <-chan struct{}, key, holder string, ttl time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), ttl)
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	tag, err := s.pool.Exec(ctx, `UPDATE payorder_locks SET expires_at = now() + $3 * interval '1 microsecond'
		WHERE key = $1 AND holder = $2`, key, holder, ttl.Microseconds())
	switch {
	case errors.Is(err, context.Canceled):
		// unlock stopped the renewal.
	case err != nil:
		s.log.Error("postgres: renewing lock lease", "key", key, "err", err)
	case tag.RowsAffected() == 0:
		s.log.Error("postgres: lock lease lost: it expired and another holder may have taken it", "key", key)
		return false
	}
	return true
}

// deleteLease deletes a lease if it is still its holder's.
const deleteLease = `DELETE FROM payorder_locks WHERE key = $1 AND holder = $2`

// release deletes holder's lease on key, if it is still holder's.
func (s *Store) release(key, holder string) {
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	if _, err := s.pool.Exec(ctx, deleteLease, key, holder); err != nil {
		s.log.Error("postgres: releasing lock; it lapses by itself", "key", key, "err", err)
	}
}

// newHolder returns a random holder id, unique to one Lock call.
func newHolder() (string, error) {
	b := make([]byte, 16)
	if _, err := crand.Read(b); err != nil {
		return "", fmt.Errorf("postgres: lock holder id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
