package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/ledgertest"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
)

var _ ledger.Ledger = (*postgres.Ledger)(nil)

func TestLedger(t *testing.T) {
	ledgertest.Run(t, func(t testing.TB) ledger.Ledger {
		l, _ := newLedger(t)
		return l
	})
}

func TestLedgerInstances(t *testing.T) {
	// Two Ledgers over two pools on one schema stand for two processes.
	ledgertest.RunInstances(t, func(t testing.TB) []ledger.Ledger {
		db := pgtest.New(t)
		return []ledger.Ledger{postgres.New(db.Pool(t), postgres.Config{}), postgres.New(db.Pool(t), postgres.Config{})}
	})
}

func TestUpdateWritesHostTablesInItsTransaction(t *testing.T) {
	t.Parallel()
	l, db := newLedger(t)
	pool := db.Pool(t)
	if _, err := pool.Exec(t.Context(), `CREATE TABLE host_fulfilled (order_no text PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	fulfil := func(fail error, number string) func(r *ledger.Record, db any) error {
		return func(r *ledger.Record, db any) error {
			tx, ok := db.(pgx.Tx)
			if !ok {
				return fmt.Errorf("db is %T, not a pgx.Tx", db)
			}
			if _, err := tx.Exec(t.Context(), `INSERT INTO host_fulfilled VALUES ($1)`, r.OrderNo); err != nil {
				return err
			}
			if number != "" {
				r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: number, State: ledger.AttemptLost})
			}
			return fail
		}
	}
	if _, err := l.Update(t.Context(), "H1", fulfil(nil, "H1")); err != nil {
		t.Fatal(err)
	}
	errHook := errors.New("hook failed")
	if _, err := l.Update(t.Context(), "H2", fulfil(errHook, "")); err != errHook {
		t.Errorf("Update with a failing fn = %v, want fn's error itself", err)
	}
	if _, err := l.Update(t.Context(), "H3", fulfil(nil, "H1")); !errors.Is(err, ledger.ErrNumberTaken) {
		t.Errorf("Update taking H1's number = %v, want ErrNumberTaken", err)
	}
	rows, err := pool.Query(t.Context(), `SELECT order_no FROM host_fulfilled ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"H1"}, got); d != "" {
		t.Errorf("host rows (-want +got): the writes of failed updates were kept\n%s", d)
	}

	// fn cannot end the ledger's transaction, but may nest one (a
	// savepoint) and roll that back.
	_, err = l.Update(t.Context(), "H4", func(r *ledger.Record, db any) error {
		tx := db.(pgx.Tx)
		if err := tx.Commit(t.Context()); err == nil {
			return errors.New("Commit from fn succeeded")
		}
		if err := tx.Rollback(t.Context()); err == nil {
			return errors.New("Rollback from fn succeeded")
		}
		nested, err := tx.Begin(t.Context())
		if err != nil {
			return err
		}
		if _, err := nested.Exec(t.Context(), `INSERT INTO host_fulfilled VALUES ('nested')`); err != nil {
			return err
		}
		if err := nested.Rollback(t.Context()); err != nil {
			return err
		}
		r.Refunds = append(r.Refunds, ledger.Refund{ID: "re_h4"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := l.Read(t.Context(), "H4"); err != nil || len(r.Refunds) != 1 {
		t.Errorf("Read(H4) = %+v, %v; want the refund saved", r, err)
	}
	var nested int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM host_fulfilled WHERE order_no = 'nested'`).Scan(&nested); err != nil || nested != 0 {
		t.Errorf("rows of a nested transaction rolled back: %d, %v; want none", nested, err)
	}
}

func TestUpdateCancelled(t *testing.T) {
	t.Parallel()
	l, _ := newLedger(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Update(ctx, "K1", func(*ledger.Record, any) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Update(cancelled ctx) = %v, want context.Canceled", err)
	}
	if _, err := l.Read(ctx, "K1"); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("Read(cancelled ctx) = %v, want a postgres: error wrapping context.Canceled", err)
	}
}

func TestChargeOfAnotherOrderIsAPlainError(t *testing.T) {
	t.Parallel()
	l, _ := newLedger(t)
	addCharge := func(r *ledger.Record, _ any) error {
		r.Charges = append(r.Charges, ledger.Charge{ID: "ch_p", PingppOrderNo: r.OrderNo, JSON: json.RawMessage(`{}`)})
		return nil
	}
	if _, err := l.Update(t.Context(), "P1", addCharge); err != nil {
		t.Fatal(err)
	}
	_, err := l.Update(t.Context(), "P2", addCharge)
	if err == nil || errors.Is(err, ledger.ErrNumberTaken) || !strings.HasPrefix(err.Error(), "postgres: charge ch_p ") {
		t.Errorf("recording P1's charge for P2 = %v, want a postgres: error naming the charge", err)
	}
}

func TestTimesComeBackUTCToTheMicrosecond(t *testing.T) {
	t.Parallel()
	l, _ := newLedger(t)
	cst := time.FixedZone("CST", 8*3600)
	ns := time.Date(2026, 11, 29, 18, 0, 0, 123456789, cst)
	want := time.Date(2026, 11, 29, 10, 0, 0, 123456000, time.UTC)
	saved, err := l.Update(t.Context(), "T1", func(r *ledger.Record, _ any) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: "T1", StartedAt: ns, HeldUntil: ns,
			State: ledger.AttemptOpen, Params: json.RawMessage("{ \"b\" : 1,\n\"a\":\"<&>\" }")})
		r.Charges = append(r.Charges, ledger.Charge{ID: "ch_t", PingppOrderNo: "T1", Channel: channel.Wx, CreatedAt: ns, ExpiresAt: ns,
			JSON: json.RawMessage(`{"id":"ch_t",  "body":"\u0000"}`)})
		r.Payment = &ledger.Payment{ChargeID: "ch_t", PaidAt: ns, RecordedAt: ns}
		r.Refunds = append(r.Refunds, ledger.Refund{ID: "re_t", SucceededAt: ns})
		r.Fulfilment = ledger.Fulfilment{ID: "ful", LeaseUntil: ns, FulfilledAt: ns}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	read, err := l.Read(t.Context(), "T1")
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*ledger.Record{"Update": saved, "Read": read} {
		for field, got := range map[string]time.Time{
			"StartedAt": r.Attempts[0].StartedAt, "HeldUntil": r.Attempts[0].HeldUntil,
			"CreatedAt": r.Charges[0].CreatedAt, "ExpiresAt": r.Charges[0].ExpiresAt,
			"PaidAt": r.Payment.PaidAt, "RecordedAt": r.Payment.RecordedAt, "SucceededAt": r.Refunds[0].SucceededAt,
			"LeaseUntil": r.Fulfilment.LeaseUntil, "FulfilledAt": r.Fulfilment.FulfilledAt, "Now": r.Now,
		} {
			if field != "Now" && !got.Equal(want) || got.Location() != time.UTC {
				t.Errorf("%s returned %s = %s, want %s", name, field, got, want)
			}
		}
		if string(r.Attempts[0].Params) != "{ \"b\" : 1,\n\"a\":\"<&>\" }" || string(r.Charges[0].JSON) != `{"id":"ch_t",  "body":"\u0000"}` {
			t.Errorf("%s changed the bytes of Params %q or the charge %q", name, r.Attempts[0].Params, r.Charges[0].JSON)
		}
	}
	saved.Now, read.Now = time.Time{}, time.Time{}
	if d := cmp.Diff(saved, read); d != "" {
		t.Errorf("Update returned what Read does not (-update +read):\n%s", d)
	}
}

func TestRoundTrips(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var trips roundTrips
	cfg := db.Config.Copy()
	cfg.ConnConfig.Tracer = &trips
	cfg.MaxConns = 1 // one connection, whose statements are prepared by the first calls
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	l := postgres.New(pool, postgres.Config{})
	begin := func(r *ledger.Record, _ any) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: fmt.Sprint(len(r.Attempts)), PingppOrderNo: fmt.Sprintf("%s-%d", r.OrderNo, len(r.Attempts))})
		r.Charges = append(r.Charges, ledger.Charge{ID: fmt.Sprintf("ch_%s_%d", r.OrderNo, len(r.Charges)), JSON: json.RawMessage(`{}`)})
		r.Anomalies = []ledger.Anomaly{{ID: fmt.Sprintf("x:%s:%d", r.OrderNo, len(r.Charges))}}
		return nil
	}
	for _, no := range []string{"R0", "R0", "R1", "R1"} { // warm the statement cache
		if _, err := l.Update(t.Context(), no, begin); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Read(t.Context(), no); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name string
		call func() error
		want int64
	}{
		{"ReadUnknown", func() error { _, err := l.Read(t.Context(), "R9"); return err }, 1},
		{"Read", func() error { _, err := l.Read(t.Context(), "R1"); return err }, 1},
		{"UpdateNew", func() error { _, err := l.Update(t.Context(), "R2", begin); return err }, 3},
		{"Update", func() error { _, err := l.Update(t.Context(), "R2", begin); return err }, 3},
	} {
		before := trips.n.Load()
		if err := tt.call(); err != nil {
			t.Fatal(err)
		}
		if got := trips.n.Load() - before; got != tt.want {
			t.Errorf("%s took %d round trips, want %d", tt.name, got, tt.want)
		}
	}
}

func TestDueIsARangeScanOfItsIndex(t *testing.T) {
	t.Parallel()
	l, db := newLedger(t)
	pool := db.Pool(t)
	fillSettled(t, pool, 20000)
	addOpen(t, l, 10)
	if _, err := pool.Exec(t.Context(), `ANALYZE payorder_ledger`); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(t.Context(), `EXPLAIN `+postgres.DueSQL, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	if !strings.Contains(plan, "payorder_ledger_due_until") || strings.Contains(plan, "Seq Scan") {
		t.Errorf("the plan of Due does not scan the index on due_until alone:\n%s", plan)
	}
	due, err := l.Due(t.Context(), time.Now())
	if err != nil || len(due) != 10 {
		t.Errorf("Due beside 20000 settled orders = %d orders, %v; want the 10 open ones", len(due), err)
	}
}

func TestUpdateRetriesADeadlock(t *testing.T) {
	t.Parallel()
	l, _ := newLedger(t)
	// Each order's fn takes, through the transaction, the number the other
	// order's new attempt needs, and waits for the other fn: the two write
	// batches then wait for each other, PostgreSQL kills one, and its Update
	// runs again, finding the number taken.
	var (
		arrived sync.WaitGroup
		runs    [2]atomic.Int32
	)
	arrived.Add(2)
	take := func(i int, mine, theirs string) func(r *ledger.Record, db any) error {
		return func(r *ledger.Record, db any) error {
			if _, err := db.(pgx.Tx).Exec(t.Context(), `INSERT INTO payorder_numbers VALUES ($1, $2) ON CONFLICT DO NOTHING`, mine, r.OrderNo); err != nil {
				return err
			}
			if runs[i].Add(1) == 1 {
				arrived.Done()
				arrived.Wait()
			}
			r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: theirs, State: ledger.AttemptOpen})
			return nil
		}
	}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() { _, errs[0] = l.Update(t.Context(), "DL1", take(0, "M1", "M2")) })
	wg.Go(func() { _, errs[1] = l.Update(t.Context(), "DL2", take(1, "M2", "M1")) })
	wg.Wait()
	won, lost := 0, 0
	for i, err := range errs {
		switch {
		case err == nil && runs[i].Load() == 1:
			won++
		case errors.Is(err, ledger.ErrNumberTaken) && runs[i].Load() == 2:
			lost++
		default:
			t.Errorf("Update %d = %v after %d runs of fn", i, err, runs[i].Load())
		}
	}
	if won != 1 || lost != 1 {
		t.Errorf("deadlocked updates: %d won, %d refused after a retry; want 1 and 1", won, lost)
	}
}
