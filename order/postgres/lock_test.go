package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/order/ordertest"
	"github.com/yianpay/payorder/order/postgres"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// instance is a Store with the pool it uses, which tests read directly.
type instance struct {
	*postgres.Store
	pool *pgxpool.Pool
}

// newInstance returns a Store on a fresh, migrated schema.
func newInstance(t testing.TB) instance {
	t.Helper()
	pool, _ := migratedPool(t)
	return instance{postgres.New(pool, postgres.Config{}), pool}
}

// twoInstances returns two stores on one schema, each with its own pool:
// two processes sharing a database.
func twoInstances(t testing.TB) [2]instance {
	t.Helper()
	pool, db := migratedPool(t)
	other := db.Pool(t)
	return [2]instance{{postgres.New(pool, postgres.Config{}), pool}, {postgres.New(other, postgres.Config{}), other}}
}

func mustLock(t testing.TB, s instance, key string, ttl time.Duration) func() {
	t.Helper()
	unlock, err := s.Lock(t.Context(), key, ttl)
	if err != nil {
		t.Fatalf("Lock(%s): %v", key, err)
	}
	return unlock
}

// lockHolder returns the holder of key's lease, or "" when there is none.
func lockHolder(t testing.TB, s instance, key string) string {
	t.Helper()
	var holder string
	err := s.pool.QueryRow(t.Context(), `SELECT coalesce((SELECT holder FROM payorder_locks WHERE key = $1), '')`, key).Scan(&holder)
	if err != nil {
		t.Fatal(err)
	}
	return holder
}

func TestLockExcludesAcrossPools(t *testing.T) {
	stores := twoInstances(t)
	pool := stores[0].pool
	if _, err := pool.Exec(t.Context(), `CREATE TABLE counter (n int NOT NULL); INSERT INTO counter VALUES (0)`); err != nil {
		t.Fatal(err)
	}
	const workers = 10
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			s := stores[i%2]
			unlock, err := s.Lock(context.Background(), "payorder:test:exclusion", 10*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			n := inside.Add(1)
			defer inside.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			// A read, then a write, in two statements: lost updates unless
			// the lock excludes.
			var c int
			if err := s.pool.QueryRow(context.Background(), `SELECT n FROM counter`).Scan(&c); err != nil {
				t.Error(err)
				return
			}
			if _, err := s.pool.Exec(context.Background(), `UPDATE counter SET n = $1`, c+1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var n int
	if err := pool.QueryRow(t.Context(), `SELECT n FROM counter`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != workers || most.Load() != 1 {
		t.Errorf("counter %d (want %d), at most %d holders at once (want 1)", n, workers, most.Load())
	}
	if h := lockHolder(t, stores[0], "payorder:test:exclusion"); h != "" {
		t.Errorf("lease left behind after every unlock, held by %q", h)
	}
}

func TestLockTakesAbandonedLeaseAfterExpiry(t *testing.T) {
	s := newInstance(t)
	const key = "payorder:test:crashed"
	// A holder that crashed: its lease is never renewed nor released.
	var expires time.Time
	err := s.pool.QueryRow(t.Context(), `INSERT INTO payorder_locks (key, holder, expires_at)
		VALUES ($1, 'crashed', now() + interval '400 milliseconds') RETURNING expires_at`, key).Scan(&expires)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Lock(short, key, time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock before the lease expired = %v, want context.DeadlineExceeded", err)
	}
	unlock := mustLock(t, s, key, time.Second)
	defer unlock()
	var after bool
	if err := s.pool.QueryRow(t.Context(), `SELECT now() >= $1`, expires).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if h := lockHolder(t, s, key); !after || h == "crashed" || h == "" {
		t.Errorf("lock taken at or after expiry: %v; holder %q, want a new one", after, h)
	}
}

func TestLockRenewsLeaseWhileHeld(t *testing.T) {
	stores := twoInstances(t)
	const key, ttl = "payorder:test:renew", 300 * time.Millisecond
	unlock := mustLock(t, stores[0], key, ttl)
	// The holder is slow, as when Ping++ takes long: the lease must outlive
	// several ttls while the holder lives.
	ctx, cancel := context.WithTimeout(t.Context(), 4*ttl)
	defer cancel()
	if _, err := stores[1].Lock(ctx, key, ttl); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while another instance holds it = %v, want context.DeadlineExceeded", err)
	}
	unlock()
	ctx, cancel = context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	release, err := stores[1].Lock(ctx, key, ttl)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	release()
}

func TestLockReturnsCtxErrWhileWaiting(t *testing.T) {
	s := newInstance(t)
	const key = "payorder:test:cancel"
	unlock := mustLock(t, s, key, 10*time.Second)
	defer unlock()
	holder := lockHolder(t, s, key)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	release, err := s.Lock(ctx, key, 10*time.Second)
	if !errors.Is(err, context.Canceled) || release != nil {
		t.Fatalf("Lock cancelled while waiting = %v, %v; want nil, context.Canceled", release != nil, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Lock returned %v after it was cancelled", d)
	}
	if h := lockHolder(t, s, key); h != holder {
		t.Errorf("holder changed from %q to %q by a cancelled Lock", holder, h)
	}
}

func TestUnlockKeepsAnotherHoldersLease(t *testing.T) {
	s := newInstance(t)
	const key = "payorder:test:takeover"
	unlock := mustLock(t, s, key, 10*time.Second)
	// The lease lapsed (the database was unreachable) and another holder took it.
	if _, err := s.pool.Exec(t.Context(), `UPDATE payorder_locks SET holder = 'other' WHERE key = $1`, key); err != nil {
		t.Fatal(err)
	}
	unlock()
	unlock() // a second call is a no-op
	if h := lockHolder(t, s, key); h != "other" {
		t.Errorf("after the old holder's unlock the holder is %q, want other", h)
	}
}

func TestLockRejectsTooShortTTL(t *testing.T) {
	s := newInstance(t)
	if unlock, err := s.Lock(t.Context(), "payorder:test:ttl", 0); err == nil {
		unlock()
		t.Error("Lock with ttl 0 succeeded, want an error")
	}
}

// TestTwoInstancesUpdateOrder runs the webhook paths of two instances at
// once on one order: every refund survives and one delivery of a payment
// applies it.
func TestTwoInstancesUpdateOrder(t *testing.T) {
	stores := twoInstances(t)
	o := ordertest.SampleOrder("20261129000000000100")
	if err := stores[0].PutContext(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	const deliveries = 12
	outcomes := make(chan order.PaymentOutcome, deliveries)
	var wg sync.WaitGroup
	for i := range deliveries {
		wg.Go(func() {
			_, err := stores[i%2].UpdateOrder(context.Background(), o.No, func(o *order.Order) error {
				outcomes <- o.ApplyPayment(order.Payment{ChargeID: "ch_twice", Channel: channel.Alipay, Amount: 9900, Currency: "cny"})
				o.ApplyRefund(order.Refund{ID: fmt.Sprintf("re_%d", i), ChargeID: "ch_twice", Amount: 1})
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	close(outcomes)
	count := map[order.PaymentOutcome]int{}
	for oc := range outcomes {
		count[oc]++
	}
	if diff := cmp.Diff(map[order.PaymentOutcome]int{order.PaymentApplied: 1, order.PaymentDuplicate: deliveries - 1}, count); diff != "" {
		t.Errorf("payment outcomes (-want +got):\n%s", diff)
	}
	got, err := stores[1].Order(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Refunds) != deliveries || got.Status != order.StatusPartiallyRefunded || got.AmountRefunded() != deliveries {
		t.Errorf("after concurrent updates: %d refunds, status %s, refunded %d", len(got.Refunds), got.Status, got.AmountRefunded())
	}
}

// chargeCounter counts the charges created through it. It holds each
// create until a second one arrives or a while passes, so that two
// instances that both decide to create a charge are both seen doing it.
type chargeCounter struct {
	next    http.RoundTripper
	creates atomic.Int32
	second  chan struct{}
	once    sync.Once
}

func (c *chargeCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost {
		if c.creates.Add(1) == 2 {
			c.once.Do(func() { close(c.second) })
		}
		select {
		case <-c.second:
		case <-time.After(300 * time.Millisecond):
		}
	}
	return c.next.RoundTrip(r)
}

// TestPayForOrderOnTwoInstancesCreatesOneCharge runs the Service of two
// instances, each with its own pool and in-process locks, on one order at
// once: the Locker must keep them to one Ping++ charge.
// lockOnly hides the Store's combined calls (LockOrder,
// OrderWithCharges), so that PayForOrder takes the plain Locker path.
type lockOnly struct {
	pay.PaymentStore
	pay.Locker
}

func TestPayForOrderOnTwoInstancesCreatesOneCharge(t *testing.T) {
	for name, wrap := range map[string]func(*postgres.Store) pay.OrderStore{
		"LockOrder":    func(s *postgres.Store) pay.OrderStore { return s },
		"LockThenRead": func(s *postgres.Store) pay.OrderStore { return lockOnly{s, s} },
	} {
		t.Run(name, func(t *testing.T) { testPayForOrderOnTwoInstances(t, wrap) })
	}
}

func testPayForOrderOnTwoInstances(t *testing.T, wrap func(*postgres.Store) pay.OrderStore) {
	stores := twoInstances(t)
	emu := pingpptest.NewServer(pingpptest.Config{})
	t.Cleanup(emu.Close)
	counter := &chargeCounter{next: emu.Client().Transport, second: make(chan struct{})}
	var svcs [2]*pay.Service
	for i, s := range stores {
		client, err := pingxx.NewClient(pingxx.Config{
			SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
			BaseURL: emu.APIBase(), HTTPClient: &http.Client{Transport: counter},
		})
		if err != nil {
			t.Fatal(err)
		}
		if svcs[i], err = pay.New(pay.Config{}, wrap(s.Store), client); err != nil {
			t.Fatal(err)
		}
	}
	o := ordertest.SampleOrder("20261129000000000101")
	o.ExpiresAt = time.Time{}
	if err := stores[0].PutContext(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	const callers = 8
	ids := make(chan string, callers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			<-start
			ch, err := svcs[i%2].PayForOrder(context.Background(), o.No, channel.Alipay, pay.ForBuyer(o.Buyer))
			if err != nil {
				t.Error(err)
				return
			}
			ids <- ch.ID
		})
	}
	close(start)
	wg.Wait()
	close(ids)
	distinct := map[string]bool{}
	for id := range ids {
		distinct[id] = true
	}
	charges, err := stores[1].Charges(t.Context(), o.No)
	if err != nil {
		t.Fatal(err)
	}
	if n := counter.creates.Load(); n != 1 || len(distinct) != 1 || len(charges) != 1 {
		t.Errorf("%d charge requests, %d distinct charges returned, %d recorded; want 1 each", n, len(distinct), len(charges))
	}
}

// logRecords is a slog.Handler that hands each record's message to a channel.
type logRecords chan string

func (l logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l logRecords) WithGroup(string) slog.Handler            { return l }
func (l logRecords) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r.Message:
	default:
	}
	return nil
}

func TestLockLogsLostLease(t *testing.T) {
	pool, _ := migratedPool(t)
	logs := make(logRecords, 10)
	s := instance{postgres.New(pool, postgres.Config{Logger: slog.New(logs)}), pool}
	const key = "payorder:test:lost"
	unlock := mustLock(t, s, key, 60*time.Millisecond)
	defer unlock()
	// Another holder took the lease (ours lapsed while the database was
	// unreachable): the next renewal finds it gone and says so.
	if _, err := s.pool.Exec(t.Context(), `UPDATE payorder_locks SET holder = 'other' WHERE key = $1`, key); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-logs:
		if !strings.Contains(msg, "lease lost") {
			t.Errorf("logged %q, want a lost lease", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no log of the lost lease")
	}
	if h := lockHolder(t, s, key); h != "other" {
		t.Errorf("holder %q after the lease was lost, want other", h)
	}
}

func TestLockOrderReadsUnderTheLockAndRecordsOnRelease(t *testing.T) {
	stores := twoInstances(t)
	o := ordertest.SampleOrder("20261129000000000102")
	if err := stores[0].PutContext(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	const key = "payorder:test:charges"
	got, charges, done, err := stores[0].LockOrder(t.Context(), key, time.Minute, o.No)
	if err != nil || got.No != o.No || got.Amount != o.Amount || len(charges) != 0 {
		t.Fatalf("first LockOrder: %+v, %v, %v", got, charges, err)
	}
	// A second instance waits, and then sees the charge the first recorded
	// and the payment applied meanwhile.
	type read struct {
		o       order.Order
		charges []order.Charge
	}
	second := make(chan read, 1)
	go func() {
		o, charges, done, err := stores[1].LockOrder(context.Background(), key, time.Minute, o.No)
		if err != nil {
			t.Error(err)
			second <- read{}
			return
		}
		done(context.Background(), nil)
		second <- read{o, charges}
	}()
	c := ordertest.SampleCharge(o.No, "ch_lockcharges0000000000001", channel.Alipay)
	if _, err := stores[0].UpdateOrder(t.Context(), o.No, func(o *order.Order) error {
		o.ApplyPayment(order.Payment{ChargeID: c.ID, Amount: c.Amount, Currency: c.Currency})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := done(t.Context(), &c); err != nil {
		t.Fatal(err)
	}
	r := <-second
	if len(r.charges) != 1 || r.charges[0].ID != c.ID || r.o.Status != order.StatusPaid {
		t.Errorf("the second holder read %s with charges %v, want paid with the charge recorded on release", r.o.Status, r.charges)
	}
	if h := lockHolder(t, stores[0], key); h != "" {
		t.Errorf("lease left behind, held by %q", h)
	}
}

func TestLockOrderReleases(t *testing.T) {
	s := twoInstances(t)[0]
	o := ordertest.SampleOrder("20261129000000000103")
	if err := s.PutContext(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	t.Run("WhenRecordingFails", func(t *testing.T) {
		const key = "payorder:test:fail"
		_, _, done, err := s.LockOrder(t.Context(), key, time.Minute, o.No)
		if err != nil {
			t.Fatal(err)
		}
		c := ordertest.SampleCharge("nosuchorder1", "ch_orphan", channel.Alipay)
		if err := done(t.Context(), &c); !errors.Is(err, payorder.ErrOrderNotFound) {
			t.Errorf("recording a charge of an unknown order = %v, want ErrOrderNotFound", err)
		}
		if h := lockHolder(t, s, key); h != "" {
			t.Errorf("a failed record kept the lease, held by %q", h)
		}
	})
	t.Run("WhenTheOrderIsGone", func(t *testing.T) {
		const key = "payorder:test:gone"
		if _, _, _, err := s.LockOrder(t.Context(), key, time.Minute, "nosuchorder1"); !errors.Is(err, payorder.ErrOrderNotFound) {
			t.Errorf("LockOrder(unknown order) = %v, want ErrOrderNotFound", err)
		}
		if h := lockHolder(t, s, key); h != "" {
			t.Errorf("the lease was kept, held by %q", h)
		}
	})
}
