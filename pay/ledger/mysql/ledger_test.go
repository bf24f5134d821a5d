package mysql_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/ledgertest"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

var _ ledger.Ledger = (*mysql.Ledger)(nil)

// newLedger returns a Ledger on a fresh, migrated database.
func newLedger(t testing.TB) *mysql.Ledger {
	t.Helper()
	return mysql.New(mysqltest.New(t).Open(t), mysql.Config{})
}

func TestLedger(t *testing.T) {
	ledgertest.Run(t, func(t testing.TB) ledger.Ledger { return newLedger(t) })
}

// TestLedgerTwoPools runs the conformance suite on ledgers that stand for
// two processes on one database: two pools, each call going to the one
// after the last, so that the suite's concurrent updates and number claims
// meet in the database, not in one pool.
func TestLedgerTwoPools(t *testing.T) {
	ledgertest.Run(t, func(t testing.TB) ledger.Ledger {
		db := mysqltest.New(t)
		return &alternating{ls: []ledger.Ledger{mysql.New(db.Open(t), mysql.Config{}), mysql.New(db.Open(t), mysql.Config{})}}
	})
}

// alternating is a ledger.Ledger passing each call to the next of ls.
type alternating struct {
	ls []ledger.Ledger
	n  atomic.Uint64
}

func (a *alternating) next() ledger.Ledger { return a.ls[a.n.Add(1)%uint64(len(a.ls))] }

func (a *alternating) Read(ctx context.Context, no string) (*ledger.Record, error) {
	return a.next().Read(ctx, no)
}

func (a *alternating) Update(ctx context.Context, no string, fn func(*ledger.Record, any) error) (*ledger.Record, error) {
	return a.next().Update(ctx, no, fn)
}

func (a *alternating) OrderOfCharge(ctx context.Context, id string) (string, error) {
	return a.next().OrderOfCharge(ctx, id)
}

func (a *alternating) RecordAnomaly(ctx context.Context, an ledger.Anomaly) (bool, error) {
	return a.next().RecordAnomaly(ctx, an)
}

func (a *alternating) Anomalies(ctx context.Context) ([]ledger.Anomaly, error) {
	return a.next().Anomalies(ctx)
}

func (a *alternating) ResolveAnomaly(ctx context.Context, id string) (bool, error) {
	return a.next().ResolveAnomaly(ctx, id)
}

func (a *alternating) Due(ctx context.Context, since time.Time) ([]string, error) {
	return a.next().Due(ctx, since)
}

func TestUpdateGivesFnTheTransaction(t *testing.T) {
	t.Parallel()
	db := mysqltest.New(t)
	pool := db.Open(t)
	if _, err := pool.Exec(`CREATE TABLE host_log (order_no VARCHAR(64) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	l := mysql.New(pool, mysql.Config{})
	write := func(no string, fail error) error {
		_, err := l.Update(t.Context(), no, func(r *ledger.Record, db any) error {
			tx, ok := db.(*sql.Tx)
			if !ok {
				return fmt.Errorf("db is %T, want *sql.Tx", db)
			}
			if _, err := tx.Exec(`INSERT INTO host_log VALUES (?)`, no); err != nil {
				return err
			}
			return fail
		})
		return err
	}
	if err := write("T1", nil); err != nil {
		t.Fatal(err)
	}
	if err := write("T2", errFn); err != errFn {
		t.Fatalf("Update = %v, want fn's error unchanged", err)
	}
	got := queryStrings(t, pool, `SELECT order_no FROM host_log`)
	if len(got) != 1 || got[0] != "T1" {
		t.Errorf("host rows written through fn's tx = %v, want [T1]: the failed update's must roll back", got)
	}
}

var errFn = fmt.Errorf("fn failed")

func TestDeadlockedUpdateRunsAgain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		retries   int
		wantFails int // updates that return the deadlock
	}{
		{"Retried", 0, 0},
		{"NoRetries", -1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := mysql.New(mysqltest.New(t).Open(t), mysql.Config{Retries: tt.retries})
			for _, no := range []string{"X", "Y"} {
				if _, err := l.Update(t.Context(), no, func(*ledger.Record, any) error { return nil }); err != nil {
					t.Fatal(err)
				}
			}
			// Each update holds its own order and, on its first run, waits
			// for the other to hold its own before locking the other's
			// row: MySQL kills one of them as a deadlock.
			var held sync.WaitGroup
			held.Add(2)
			var runs sync.Map
			errs := make(chan error, 2)
			var wg sync.WaitGroup
			for _, pair := range [][2]string{{"X", "Y"}, {"Y", "X"}} {
				wg.Go(func() {
					first := true
					_, err := l.Update(context.Background(), pair[0], func(r *ledger.Record, db any) error {
						n, _ := runs.LoadOrStore(pair[0], new(int))
						*n.(*int)++
						if first {
							first = false
							held.Done()
							held.Wait()
						}
						_, err := db.(*sql.Tx).Exec(`SELECT order_no FROM payorder_ledger WHERE order_no = ? FOR UPDATE`, pair[1])
						return err
					})
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			fails := 0
			for err := range errs {
				if err != nil {
					fails++
				}
			}
			total := 0
			runs.Range(func(_, n any) bool { total += *n.(*int); return true })
			wantRuns := 2 + 1 - tt.wantFails // the victim ran twice, unless not retried
			if fails != tt.wantFails || total != wantRuns {
				t.Errorf("two deadlocking updates: %d failed, fn ran %d times; want %d and %d", fails, total, tt.wantFails, wantRuns)
			}
		})
	}
}

func TestDueReadsTheIndex(t *testing.T) {
	t.Parallel()
	db := mysqltest.New(t)
	pool := db.Open(t)
	// Settled orders (due_until NULL) outnumber the due ones, so that a scan
	// would not be the cheaper plan.
	if _, err := pool.Exec(`INSERT INTO payorder_ledger (order_no, record, due_until, updated_at)
		SELECT CONCAT('S', a.n, b.n, c.n), '{}', IF(a.n = 0 AND b.n = 0, '9999-12-31', NULL), UTC_TIMESTAMP(6)
		FROM ` + digits + ` a, ` + digits + ` b, ` + digits + ` c`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(`ANALYZE TABLE payorder_ledger`); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(`EXPLAIN `+mysql.DueSQL, "2026-11-29 10:00:00.000000")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		plan := map[string]string{}
		for i, c := range cols {
			plan[c] = vals[i].String
		}
		if plan["key"] != "payorder_ledger_due" || plan["type"] != "range" {
			t.Errorf("Due's plan %v: want a range of index payorder_ledger_due", plan)
		}
	}
	due, err := mysql.New(pool, mysql.Config{}).Due(t.Context(), time.Now())
	if err != nil || len(due) != 10 {
		t.Errorf("Due = %d orders, %v; want the 10 open ones", len(due), err)
	}
}

// digits is a derived table of the numbers 0 to 9, to fill tables by cross joins.
const digits = `(SELECT 0 n UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
	UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)`

// queryStrings returns the one column of the rows query selects.
func queryStrings(t testing.TB, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUpdateRefusesToDropAttempts(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	_, err := l.Update(t.Context(), "K1", func(r *ledger.Record, _ any) error {
		r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: "K1", State: ledger.AttemptOpen})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Update(t.Context(), "K1", func(r *ledger.Record, _ any) error { r.Attempts = nil; return nil })
	if err == nil {
		t.Fatal("an Update that removed an attempt succeeded")
	}
	if r, err := l.Read(t.Context(), "K1"); err != nil || len(r.Attempts) != 1 {
		t.Errorf("after the refused Update, Read = %d attempts, %v; want 1", len(r.Attempts), err)
	}
}

func TestTooLongKeysAreErrors(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	long := strings.Repeat("9", 65)
	for name, fn := range map[string]func(*ledger.Record){
		"AttemptNumber": func(r *ledger.Record) {
			r.Attempts = append(r.Attempts, ledger.Attempt{ID: "a", PingppOrderNo: long, State: ledger.AttemptOpen})
		},
		"ChargeID":     func(r *ledger.Record) { r.Charges = append(r.Charges, ledger.Charge{ID: long, PingppOrderNo: "L1"}) },
		"ChargeNumber": func(r *ledger.Record) { r.Charges = append(r.Charges, ledger.Charge{ID: "ch_l", PingppOrderNo: long}) },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := l.Update(t.Context(), "L1", func(r *ledger.Record, _ any) error { fn(r); return nil })
			if err == nil || !strings.Contains(err.Error(), "longer than 64 bytes") {
				t.Errorf("Update with a %s of 65 bytes = %v, want an error saying it is too long (never cut)", name, err)
			}
		})
	}
	if _, err := l.Update(t.Context(), long, func(*ledger.Record, any) error { return nil }); err == nil {
		t.Error("Update of an order number of 65 bytes succeeded")
	}
	if _, err := l.RecordAnomaly(t.Context(), ledger.Anomaly{ID: strings.Repeat("x", 256)}); err == nil {
		t.Error("RecordAnomaly with an id of 256 bytes succeeded")
	}
}

func TestKeysCompareByteForByte(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	// Under a utf8mb4 collation, even utf8mb4_bin, these would be one order.
	for _, no := range []string{"M1", "M1 "} {
		if _, err := l.Update(t.Context(), no, func(r *ledger.Record, _ any) error {
			r.Refunds = append(r.Refunds, ledger.Refund{ID: "re_" + no})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, no := range []string{"M1", "M1 "} {
		r, err := l.Read(t.Context(), no)
		if err != nil || len(r.Refunds) != 1 || r.Refunds[0].ID != "re_"+no {
			t.Errorf("Read(%q) = %+v, %v; want its own one refund", no, r, err)
		}
	}
}

func TestEmptyAndZeroValuesRoundTrip(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	// Empty values, and times with nanoseconds in another zone: kept as
	// empty (nil and empty alike), and as UTC microseconds.
	shanghai := time.FixedZone("CST", 8*3600)
	want := &ledger.Record{
		OrderNo: "Z1", Attempts: []ledger.Attempt{{ID: "a", PingppOrderNo: "Z1", Params: json.RawMessage{}, State: ledger.AttemptFailed,
			StartedAt: time.Date(2026, 11, 29, 18, 0, 0, 123456789, shanghai)}},
		Refunds: []ledger.Refund{},
	}
	saved, err := l.Update(t.Context(), "Z1", func(r *ledger.Record, _ any) error {
		r.Attempts, r.Refunds = want.Attempts, want.Refunds
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Read(t.Context(), "Z1")
	if err != nil {
		t.Fatal(err)
	}
	want.Attempts[0].StartedAt = time.Date(2026, 11, 29, 10, 0, 0, 123456000, time.UTC)
	for name, r := range map[string]*ledger.Record{"Update": saved, "Read": got} {
		r.Now = time.Time{}
		if d := cmp.Diff(want, r, cmpopts.EquateEmpty()); d != "" {
			t.Errorf("%s returned (-want +got):\n%s", name, d)
		}
		if loc := r.Attempts[0].StartedAt.Location(); loc != time.UTC {
			t.Errorf("%s returned a time in %s, want UTC", name, loc)
		}
	}

	a := ledger.Anomaly{ID: "x:1", Kind: ledger.AnomalyUnreadableEvent}
	if created, err := l.RecordAnomaly(t.Context(), a); err != nil || !created {
		t.Fatalf("RecordAnomaly = %v, %v", created, err)
	}
	as, err := l.Anomalies(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]ledger.Anomaly{a}, as); d != "" {
		t.Errorf("an anomaly without event or time came back (-want +got):\n%s", d)
	}
}

func TestClockIsReadAfterTheLock(t *testing.T) {
	t.Parallel()
	l := newLedger(t)
	// Each update appends its r.Now: were the clock read before the row
	// lock, an update that waited for the lock would carry a time earlier
	// than the one it follows.
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := l.Update(context.Background(), "N1", func(r *ledger.Record, _ any) error {
				r.Refunds = append(r.Refunds, ledger.Refund{ID: fmt.Sprintf("re_%d", len(r.Refunds)), SucceededAt: r.Now})
				time.Sleep(time.Millisecond) // hold the lock while others wait
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	r, err := l.Read(t.Context(), "N1")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(r.Refunds); i++ {
		if prev, cur := r.Refunds[i-1].SucceededAt, r.Refunds[i].SucceededAt; cur.Before(prev) {
			t.Errorf("update %d saw Now %s, before update %d's %s", i, cur.Format(time.RFC3339Nano), i-1, prev.Format(time.RFC3339Nano))
		}
	}
	if !r.Now.After(r.Refunds[len(r.Refunds)-1].SucceededAt) {
		t.Errorf("Read's Now %s is not after the last update's", r.Now)
	}
}
