package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// restartEnv is a Service on the PostgreSQL ledger of a private server that
// the test restarts, with orders paid at the emulator and not yet reported.
type restartEnv struct {
	srv    *pgtest.Server
	pool   *pgxpool.Pool
	orders []string
	newSvc func(cfg pay.Config) *pay.Service
}

func setupRestart(t *testing.T, n int) *restartEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("restarts a PostgreSQL server")
	}
	srv := pgtest.Private(t)
	cfg, err := pgxpool.ParseConfig(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := postgres.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), `CREATE TABLE host_unlocks (fulfilment_id text PRIMARY KEY, order_no text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	emu := pingpptest.NewServer(pingpptest.Config{})
	t.Cleanup(emu.Close)
	client, err := pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: emu.APIBase(), HTTPClient: emu.Client(), RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	store := &order.MemStore{}
	e := &restartEnv{srv: srv, pool: pool}
	e.newSvc = func(cfg pay.Config) *pay.Service {
		cfg.AppID = pingpptest.DefaultAppID
		svc, err := pay.New(cfg, store, postgres.New(pool, postgres.Config{}), client)
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	creator := e.newSvc(pay.Config{})
	for i := range n {
		no := fmt.Sprintf("RESTART%03d", i)
		if err := store.Put(order.Order{No: no, Buyer: "b", Amount: 100}); err != nil {
			t.Fatal(err)
		}
		c, err := creator.PayForOrder(context.Background(), no, channel.Alipay, pay.AsServer())
		if err != nil {
			t.Fatal(err)
		}
		if err := emu.Pay(c.ID); err != nil {
			t.Fatal(err)
		}
		e.orders = append(e.orders, no)
	}
	return e
}

// syncAll reports every order's payment at once, as webhooks delivered
// together would, and returns their errors.
func (e *restartEnv) syncAll(svc *pay.Service) []error {
	errs := make([]error, len(e.orders))
	var wg sync.WaitGroup
	for i, no := range e.orders {
		wg.Go(func() { _, errs[i] = svc.SyncOrder(context.Background(), no) })
	}
	wg.Wait()
	return errs
}

// outage waits until n hooks have started, crashes the database, lets the
// hooks succeed while it is down (closing finish) and starts it again two
// seconds later.
func (e *restartEnv) outage(t *testing.T, started <-chan struct{}, n int, finish chan struct{}) {
	t.Helper()
	for range n {
		<-started
	}
	e.srv.Stop(t)
	close(finish)               // the hooks succeed while the database is down
	time.Sleep(2 * time.Second) // the outage itself, not a synchronisation
	e.srv.Start(t)
}

// reconcileUntilFulfilled runs Reconcile until every order is fulfilled.
func (e *restartEnv) reconcileUntilFulfilled(t *testing.T, svc *pay.Service) {
	t.Helper()
	e.reconcileUntil(t, svc, "fulfilled", func(rec *ledger.Record) bool { return !rec.Fulfilment.FulfilledAt.IsZero() })
}

// reconcileUntil runs Reconcile until done holds for every order's record.
func (e *restartEnv) reconcileUntil(t *testing.T, svc *pay.Service, what string, done func(rec *ledger.Record) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		err := svc.Reconcile(context.Background(), time.Hour)
		n := 0
		for _, no := range e.orders {
			rec, rerr := svc.Record(context.Background(), no)
			if rerr == nil && done(rec) {
				n++
			}
		}
		if n == len(e.orders) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d orders %s after a minute of reconciling; last error: %v", n, len(e.orders), what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOnPaidRunsOnceAcrossADatabaseRestart: the database crashes while 20
// OnPaid hooks run and is back two seconds later. Each hook's success is
// recorded once the ledger is back, so no hook runs twice (on the first
// design, all 20 ran twice), and every order ends fulfilled.
func TestOnPaidRunsOnceAcrossADatabaseRestart(t *testing.T) {
	const n = 20
	e := setupRestart(t, n)
	var mu sync.Mutex
	runs := map[string]int{}
	ids := map[string]string{}
	started := make(chan struct{}, n)
	finish := make(chan struct{})
	svc := e.newSvc(pay.Config{OnPaid: func(ctx context.Context, f pay.Fulfilment) error {
		mu.Lock()
		runs[f.Order.No]++
		if old, ok := ids[f.Order.No]; ok && old != f.ID {
			t.Errorf("order %s: fulfilment id %s, earlier %s", f.Order.No, f.ID, old)
		}
		ids[f.Order.No] = f.ID
		mu.Unlock()
		started <- struct{}{}
		<-finish
		return nil
	}})
	errs := make(chan []error, 1)
	go func() { errs <- e.syncAll(svc) }()
	e.outage(t, started, n, finish)
	<-errs
	e.reconcileUntilFulfilled(t, svc)
	mu.Lock()
	defer mu.Unlock()
	for _, no := range e.orders {
		if runs[no] != 1 {
			t.Errorf("order %s: OnPaid ran %d times, want 1", no, runs[no])
		}
	}
}

// TestOnPaidTxExactlyOnceAcrossADatabaseRestart: the transactional hook
// writes the host's table in the ledger transaction; the database crashes
// with those transactions open. What they wrote is rolled back with the
// unrecorded fulfilment, and reconciliation runs them again: one row per
// order, every order fulfilled.
func TestOnPaidTxExactlyOnceAcrossADatabaseRestart(t *testing.T) {
	const n = 20
	e := setupRestart(t, n)
	started := make(chan struct{}, n)
	var crashed sync.Once
	finish := make(chan struct{})
	svc := e.newSvc(pay.Config{OnPaidTx: func(ctx context.Context, db any, f pay.Fulfilment) error {
		tx := db.(pgx.Tx)
		if _, err := tx.Exec(ctx, `INSERT INTO host_unlocks (fulfilment_id, order_no) VALUES ($1, $2)`, f.ID, f.Order.No); err != nil {
			return err
		}
		select {
		case started <- struct{}{}:
			<-finish
		default:
		}
		return nil
	}})
	errs := make(chan []error, 1)
	go func() { errs <- e.syncAll(svc) }()
	// Crash once the first hook has written and waits, its transaction open.
	<-started
	crashed.Do(func() { e.srv.Stop(t) })
	close(finish)
	<-errs
	e.srv.Start(t)
	e.reconcileUntilFulfilled(t, svc)
	var rows, distinct int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT order_no) FROM host_unlocks`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n {
		t.Errorf("host table holds %d rows for %d orders, want %d and %d", rows, distinct, n, n)
	}
}
