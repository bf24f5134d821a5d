package restarttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Server is the ledger's database server: pgtest.Server, mysqltest.Server.
type Server interface {
	// Stop stops the server at once, as a crash would.
	Stop(t testing.TB)
	// Start starts it and waits until it accepts connections.
	Start(t testing.TB)
}

// DB is a ledger on a private server, migrated, with the host's table of
// unlocks (fulfilment id, order number) created.
type DB struct {
	Server Server
	Ledger ledger.Ledger
	// Unlock inserts the host's row for fulfilment id of order no through
	// db, the ledger transaction OnPaidTx is given.
	Unlock func(ctx context.Context, db any, id, no string) error
	// Unlocks returns how many rows the host's table holds, and for how
	// many distinct orders.
	Unlocks func(t testing.TB) (rows, orders int)
}

// Open returns the DB of a private server of t's own.
type Open func(t *testing.T) *DB

// hooks is how many hooks are in flight when the database crashes.
const hooks = 20

// env is a Service on the ledger of a private server that the test
// crashes, with orders paid at the emulator and not yet reported.
type env struct {
	db     *DB
	orders []string
	newSvc func(cfg pay.Config) *pay.Service
}

// setup opens the DB and pays n orders at the emulator.
func setup(t *testing.T, open Open, n int) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("crashes and restarts a database server")
	}
	e := &env{db: open(t)}
	emu := pingpptest.NewServer(pingpptest.Config{})
	t.Cleanup(emu.Close)
	client, err := pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: emu.APIBase(), HTTPClient: emu.Client(), RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	store := &order.MemStore{}
	e.newSvc = func(cfg pay.Config) *pay.Service {
		cfg.AppID = pingpptest.DefaultAppID
		svc, err := pay.New(cfg, store, e.db.Ledger, client)
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
func (e *env) syncAll(svc *pay.Service) []error {
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
func (e *env) outage(t *testing.T, started <-chan struct{}, n int, finish chan struct{}) {
	t.Helper()
	for range n {
		<-started
	}
	e.db.Server.Stop(t)
	close(finish)               // the hooks succeed while the database is down
	time.Sleep(2 * time.Second) // the outage itself, not a synchronisation
	e.db.Server.Start(t)
}

// reconcileUntilFulfilled runs Reconcile until every order is fulfilled.
func (e *env) reconcileUntilFulfilled(t *testing.T, svc *pay.Service) {
	t.Helper()
	e.reconcileUntil(t, svc, "fulfilled", func(rec *ledger.Record) bool { return !rec.Fulfilment.FulfilledAt.IsZero() })
}

// reconcileUntil runs Reconcile until done holds for every order's record.
func (e *env) reconcileUntil(t *testing.T, svc *pay.Service, what string, done func(rec *ledger.Record) bool) {
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
		time.Sleep(100 * time.Millisecond) // between rounds of polling the ledger
	}
}

// OnPaid: the database crashes while 20 OnPaid hooks run and is back two
// seconds later. Each hook's success is recorded once the ledger is back,
// so no hook runs twice (on the first design, all 20 ran twice), and every
// order ends fulfilled.
func OnPaid(t *testing.T, open Open) {
	e := setup(t, open, hooks)
	var mu sync.Mutex
	runs := map[string]int{}
	ids := map[string]string{}
	started := make(chan struct{}, hooks)
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
	e.outage(t, started, hooks, finish)
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

// OnPaidTx: the transactional hook writes the host's table in the ledger
// transaction; the database crashes with those transactions open. What
// they wrote is rolled back with the unrecorded fulfilment, and
// reconciliation runs them again: one row per order, every order
// fulfilled.
func OnPaidTx(t *testing.T, open Open) {
	e := setup(t, open, hooks)
	started := make(chan struct{}, hooks)
	finish := make(chan struct{})
	svc := e.newSvc(pay.Config{OnPaidTx: func(ctx context.Context, db any, f pay.Fulfilment) error {
		if err := e.db.Unlock(ctx, db, f.ID, f.Order.No); err != nil {
			return err
		}
		// The hooks of the first run wait, their transactions open, until
		// the database has crashed; those of later runs do not.
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
	e.db.Server.Stop(t)
	close(finish)
	<-errs
	e.db.Server.Start(t)
	e.reconcileUntilFulfilled(t, svc)
	if rows, orders := e.db.Unlocks(t); rows != hooks || orders != hooks {
		t.Errorf("host table holds %d rows for %d orders, want %d and %d", rows, orders, hooks, hooks)
	}
}
