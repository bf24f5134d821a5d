package pay_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
)

// TestPausedHookLosesItsClaim: an OnPaid run outlives its claim (a process
// paused past FulfilmentLease, as the ledger's clock counts it); another
// instance claims the fulfilment and runs the hook with the same
// Fulfilment.ID. The first run's context is cancelled, with a cause saying
// the claim was lost, and the order is recorded fulfilled once.
func TestPausedHookLosesItsClaim(t *testing.T) {
	var (
		mu      sync.Mutex
		ids     []string
		started = make(chan struct{})
		causes  = make(chan error, 1)
	)
	hook := func(ctx context.Context, f pay.Fulfilment) error {
		mu.Lock()
		ids = append(ids, f.ID)
		first := len(ids) == 1
		mu.Unlock()
		if !first {
			return nil
		}
		close(started)
		<-ctx.Done()
		causes <- context.Cause(ctx)
		return ctx.Err()
	}
	configure := func(c *pay.Config) { c.OnPaid, c.FulfilmentLease = hook, 300*time.Millisecond }
	e := setup(t, func(c *pay.Config, _ *pingpptest.Config) { configure(c) })
	c, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.emu.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	firstDone := make(chan error, 1)
	go func() {
		_, err := e.svc.SyncOrder(context.Background(), seedOrderNo)
		firstDone <- err
	}()
	<-started
	e.clock.Advance(time.Minute) // past the first run's lease, by the ledger's clock
	rec, err := newInstance(t, e, configure).SyncOrder(t.Context(), seedOrderNo)
	if err != nil {
		t.Fatalf("the second instance: %v", err)
	}
	if rec.Fulfilment.FulfilledAt.IsZero() {
		t.Error("not recorded fulfilled after the second run succeeded")
	}
	if cause := <-causes; cause == nil || !strings.Contains(cause.Error(), "claim") {
		t.Errorf("the first run's context ended with %v, want the lost claim as its cause", cause)
	}
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Errorf("the first run's report = %v, want its hook's cancellation", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] == "" {
		t.Errorf("hook calls had fulfilment ids %v, want two calls with one id", ids)
	}
	if rec, _ := e.svc.Record(t.Context(), seedOrderNo); rec.Fulfilment.Runs != 2 || rec.NeedsFulfilment() {
		t.Errorf("fulfilment %+v, want 2 runs and done", rec.Fulfilment)
	}
}

// failingUpdates is a ledger whose Updates fail while down is set.
type failingUpdates struct {
	ledger.Ledger
	down *atomic.Bool
}

func (l failingUpdates) Update(ctx context.Context, no string, fn func(*ledger.Record, any) error) (*ledger.Record, error) {
	if l.down.Load() {
		return nil, errors.New("ledger unreachable")
	}
	return l.Ledger.Update(ctx, no, fn)
}

// TestHookStopsWhenItsClaimCannotBeRenewed: while the ledger cannot be
// reached, an OnPaid run cannot renew its claim, which may lapse by the
// ledger's clock; its context is cancelled before the lease could have
// run out, so that it never runs on beside another instance's run.
func TestHookStopsWhenItsClaimCannotBeRenewed(t *testing.T) {
	var down atomic.Bool
	causes := make(chan error, 1)
	e := setup(t)
	l := failingUpdates{e.ledger, &down}
	svc, err := pay.New(pay.Config{
		AppID: pingpptest.DefaultAppID, Now: e.clock.Now, FulfilmentLease: 600 * time.Millisecond,
		OnPaid: func(ctx context.Context, f pay.Fulfilment) error {
			down.Store(true) // the ledger goes away as the hook starts
			began := time.Now()
			<-ctx.Done()
			if d := time.Since(began); d >= 600*time.Millisecond {
				t.Errorf("the hook ran %v without a renewed claim, past its lease", d)
			}
			causes <- context.Cause(ctx)
			down.Store(false)
			return ctx.Err()
		},
	}, e.store, l, e.client)
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.emu.Pay(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SyncOrder(t.Context(), seedOrderNo); !errors.Is(err, context.Canceled) {
		t.Errorf("SyncOrder = %v, want the hook's cancellation", err)
	}
	if cause := <-causes; cause == nil || !strings.Contains(cause.Error(), "claim") {
		t.Errorf("the hook's context ended with %v, want the lost claim as its cause", cause)
	}
}
