package restarttest

import (
	"context"
	"sync"
	"testing"

	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
)

// OnRefunded: the database crashes while 20 OnRefunded hooks run and is
// back two seconds later. Each hook's success is recorded once the ledger
// is back, so no hook runs twice, and every refund ends with its hook done.
func OnRefunded(t *testing.T, open Open) {
	e := setup(t, open, hooks)
	for i, err := range e.syncAll(e.newSvc(pay.Config{})) {
		if err != nil {
			t.Fatalf("order %s: %v", e.orders[i], err)
		}
	}
	var mu sync.Mutex
	runs := map[string]int{} // by notice id
	started := make(chan struct{}, hooks)
	finish := make(chan struct{})
	svc := e.newSvc(pay.Config{OnRefunded: func(ctx context.Context, rn pay.RefundNotice) error {
		mu.Lock()
		runs[rn.ID]++
		mu.Unlock()
		started <- struct{}{}
		<-finish
		return nil
	}})
	errs := make([]error, len(e.orders))
	var wg sync.WaitGroup
	for i, no := range e.orders {
		wg.Go(func() {
			_, errs[i] = svc.Refund(context.Background(), no, 40, pay.RefundRequest{ID: "restart-" + no, Description: "退款"})
		})
	}
	e.outage(t, started, hooks, finish)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Refund of %s: %v", e.orders[i], err)
		}
	}
	e.reconcileUntil(t, svc, "with their refund hook recorded", func(rec *ledger.Record) bool {
		return len(rec.Refunds) == 1 && !rec.Refunds[0].Notice.FulfilledAt.IsZero()
	})
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != hooks {
		t.Errorf("hooks ran for %d refunds, want %d", len(runs), hooks)
	}
	for id, k := range runs {
		if k != 1 {
			t.Errorf("refund notice %s: OnRefunded ran %d times, want 1", id, k)
		}
	}
}
