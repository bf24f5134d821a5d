package mysql_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/mysql"
	"github.com/yianpay/payorder/pay/ledger/mysql/mysqltest"
)

// paidRecord fills r as a paid order with one attempt and its charge: the
// common shape of a record.
func paidRecord(r *ledger.Record) {
	no := r.OrderNo
	r.Attempts = []ledger.Attempt{{
		ID: "att_" + no, Group: "alipay", Channel: channel.Alipay, ExtraKey: "{}", PingppOrderNo: no,
		Params:    json.RawMessage(`{"order_no":"` + no + `","amount":9900,"channel":"alipay","currency":"cny"}`),
		StartedAt: r.Now, Fence: 1, HeldUntil: r.Now, State: ledger.AttemptCharged, ChargeID: "ch_" + no, ClosedAt: r.Now,
	}}
	r.Charges = []ledger.Charge{{
		ID: "ch_" + no, AttemptID: "att_" + no, PingppOrderNo: no, Channel: channel.Alipay, Amount: 9900, Currency: "cny",
		ExtraKey: "{}", AppID: "app_1", CreatedAt: r.Now, ExpiresAt: r.Now.Add(24 * time.Hour),
		JSON: json.RawMessage(`{"id":"ch_` + no + `","object":"charge","amount":9900,"subject":"\u8bfe\u7a0b","order_no":"` + no + `"}`),
	}}
	r.Payment = &ledger.Payment{ChargeID: "ch_" + no, Channel: channel.Alipay, Amount: 9900, Currency: "cny", PaidAt: r.Now, RecordedAt: r.Now}
	r.Fulfilment = ledger.Fulfilment{ID: "ful_ch_" + no}
}

// fill saves paid records of orders named prefix0 … prefix(n-1).
func fill(b *testing.B, l *mysql.Ledger, prefix string, n int) []string {
	b.Helper()
	nos := make([]string, n)
	for i := range nos {
		nos[i] = fmt.Sprintf("%s%06d", prefix, i)
		if _, err := l.Update(context.Background(), nos[i], func(r *ledger.Record, _ any) error { paidRecord(r); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	return nos
}

// BenchmarkRead reads paid records, one statement each.
func BenchmarkRead(b *testing.B) {
	l := newLedger(b)
	nos := fill(b, l, "R", 64)
	i := 0
	for b.Loop() {
		if _, err := l.Read(b.Context(), nos[i%len(nos)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkUpdate updates paid records without adding to them (a lease
// renewed, as a fulfilment claim does), each Update followed by a Read
// timed apart, and reports the Update as a multiple of the Read (x-read):
// the round trips of a transaction and its commit, measured side by side so
// that the load of a shared machine falls on both.
func BenchmarkUpdate(b *testing.B) {
	l := newLedger(b)
	nos := fill(b, l, "U", 64)
	var updateT, readT time.Duration
	i := 0
	for b.Loop() {
		no := nos[i%len(nos)]
		t0 := time.Now()
		if _, err := l.Update(b.Context(), no, func(r *ledger.Record, _ any) error {
			r.Fulfilment.LeaseUntil = r.Now.Add(time.Minute)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := l.Read(b.Context(), no); err != nil {
			b.Fatal(err)
		}
		updateT += t1.Sub(t0)
		readT += time.Since(t1)
		i++
	}
	b.ReportMetric(float64(updateT)/float64(readT), "x-read")
	b.ReportMetric(float64(updateT.Nanoseconds())/float64(i), "update-ns")
}

// BenchmarkDueScale times Due beside 10 orders with open work, among 10,000
// and then 1,000,000 settled ones (due_until NULL), and reports Due's time
// as a multiple of reading one record (due/read, goal ≤ 1.5 at every size)
// and, at the larger size, as a multiple of Due's at the smaller
// (due-growth, goal ≈ 1): Due must follow the open work, not the ledger.
func BenchmarkDueScale(b *testing.B) {
	db := mysqltest.New(b)
	pool := db.Open(b)
	l := mysql.New(pool, mysql.Config{})
	open := make([]string, 10)
	for i := range open {
		open[i] = fmt.Sprintf("OPEN%02d", i)
		if _, err := l.Update(b.Context(), open[i], func(r *ledger.Record, _ any) error {
			paidRecord(r) // paid, its fulfilment still to run: due
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	// A settled record as Update would store it, for every settled row.
	settled, err := l.Update(b.Context(), "SETTLED", func(r *ledger.Record, _ any) error {
		paidRecord(r)
		r.Fulfilment.FulfilledAt = r.Now
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var record []byte
	if err := pool.QueryRow(`SELECT record FROM payorder_ledger WHERE order_no = ?`, settled.OrderNo).Scan(&record); err != nil {
		b.Fatal(err)
	}
	// The template is not one of the settled rows counted.
	for _, table := range []string{"payorder_ledger", "payorder_charges", "payorder_numbers"} {
		if _, err := pool.Exec(`DELETE FROM `+table+` WHERE order_no = ?`, settled.OrderNo); err != nil {
			b.Fatal(err)
		}
	}
	rows := 0
	var due10k float64
	for _, size := range []int{10_000, 1_000_000} {
		// Batches of 10,000 rows from a cross join of digits, for any MySQL.
		for ; rows < size; rows += 10_000 {
			if _, err := pool.Exec(`INSERT INTO payorder_ledger (order_no, record, due_until, updated_at)
				SELECT CONCAT('S', ?, '-', a.n, b.n, c.n, d.n), ?, NULL, UTC_TIMESTAMP(6)
				FROM `+digits+` a, `+digits+` b, `+digits+` c, `+digits+` d`, rows/10_000, record); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := pool.Exec(`ANALYZE TABLE payorder_ledger`); err != nil {
			b.Fatal(err)
		}
		if got := db.Count(b, "payorder_ledger"); got != size+len(open) {
			b.Fatalf("payorder_ledger holds %d rows, want %d settled and %d open", got, size, len(open))
		}
		b.Run(fmt.Sprintf("records=%d", size), func(b *testing.B) {
			since := time.Now().Add(-time.Hour)
			var dueT, readT time.Duration
			n := 0
			for b.Loop() {
				t0 := time.Now()
				due, err := l.Due(b.Context(), since)
				if err != nil || len(due) != len(open) {
					b.Fatalf("Due = %d orders, %v; want %d", len(due), err, len(open))
				}
				t1 := time.Now()
				if _, err := l.Read(b.Context(), open[n%len(open)]); err != nil {
					b.Fatal(err)
				}
				dueT += t1.Sub(t0)
				readT += time.Since(t1)
				n++
			}
			dueNs := float64(dueT.Nanoseconds()) / float64(n)
			b.ReportMetric(float64(dueT)/float64(readT), "due/read")
			b.ReportMetric(dueNs, "due-ns")
			if size == 10_000 {
				due10k = dueNs
			} else if due10k > 0 {
				b.ReportMetric(dueNs/due10k, "due-growth")
			}
		})
	}
}
