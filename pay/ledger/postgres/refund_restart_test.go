package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/yianpay/payorder/pay"
)

// TestOnRefundedRunsOnceAcrossADatabaseRestart: the database crashes while
// 20 OnRefunded hooks run and is back two seconds later. Each hook's
// success is recorded once the ledger is back, so no hook runs twice, and
// every refund ends with its hook done.
func TestOnRefundedRunsOnceAcrossADatabaseRestart(t *testing.T) {
	const n = 20
	e := setupRestart(t, n)
	for i, err := range e.syncAll(e.newSvc(pay.Config{})) {
		if err != nil {
			t.Fatalf("order %s: %v", e.orders[i], err)
		}
	}
	var mu sync.Mutex
	runs := map[string]int{} // by notice id
	started := make(chan struct{}, n)
	finish := make(chan struct{})
	svc := e.newSvc(pay.Config{OnRefunded: func(ctx context.Context, rn pay.RefundNotice) error {
		mu.Lock()
		runs[rn.ID]++
		mu.Unlock()
		started <- struct{}{}
		<-finish
		return nil
	}})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, no := range e.orders {
		wg.Go(func() {
			_, errs[i] = svc.Refund(context.Background(), no, 40, pay.RefundRequest{ID: "restart-" + no, Description: "退款"})
		})
	}
	for range n {
		<-started
	}
	e.srv.Stop(t)
	close(finish)               // the hooks succeed while the database is down
	time.Sleep(2 * time.Second) // the outage itself, not a synchronisation
	e.srv.Start(t)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Refund of %s: %v", e.orders[i], err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err := svc.Reconcile(context.Background(), time.Hour)
		done := 0
		for _, no := range e.orders {
			rec, rerr := svc.Record(context.Background(), no)
			if rerr == nil && len(rec.Refunds) == 1 && !rec.Refunds[0].Notice.FulfilledAt.IsZero() {
				done++
			}
		}
		if done == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d refund hooks recorded after a minute of reconciling; last error: %v", done, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != n {
		t.Errorf("hooks ran for %d refunds, want %d", len(runs), n)
	}
	for id, k := range runs {
		if k != 1 {
			t.Errorf("refund notice %s: OnRefunded ran %d times, want 1", id, k)
		}
	}
}
