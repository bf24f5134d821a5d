package postgres_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
)

// benchOrders is how many orders the hot-path benchmarks spread over, so
// that parallel callers rarely wait for one another's row lock.
const benchOrders = 64

// seedOrders gives each of n orders a record the size of a paying order's:
// an attempt and its charge, unpaid.
func seedOrders(b *testing.B, l *postgres.Ledger, n int) {
	b.Helper()
	for i := range n {
		no := fmt.Sprintf("B%d", i)
		_, err := l.Update(b.Context(), no, func(r *ledger.Record, _ any) error {
			r.Attempts = append(r.Attempts, ledger.Attempt{ID: "att_" + no, Channel: channel.Alipay, PingppOrderNo: no,
				Params: json.RawMessage(`{"order_no":"` + no + `","amount":9900,"channel":"alipay"}`), StartedAt: r.Now,
				Fence: 1, State: ledger.AttemptCharged, ChargeID: "ch_" + no, ClosedAt: r.Now})
			r.Charges = append(r.Charges, ledger.Charge{ID: "ch_" + no, AttemptID: "att_" + no, PingppOrderNo: no,
				Channel: channel.Alipay, Amount: 9900, Currency: "cny", CreatedAt: r.Now, ExpiresAt: r.Now.Add(24 * time.Hour),
				JSON: json.RawMessage(`{"id":"ch_` + no + `","object":"charge","amount":9900,"credential":{"alipay":{"orderInfo":"..."}}}`)})
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead reads an order of the ledger: the one round trip every
// request to pay makes.
func BenchmarkRead(b *testing.B) {
	l, _ := newLedger(b)
	seedOrders(b, l, benchOrders)
	i := 0
	for b.Loop() {
		if _, err := l.Read(b.Context(), fmt.Sprintf("B%d", i%benchOrders)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkUpdate renews an attempt's lease, the smallest change: the cost
// is the transaction's, not fn's.
func BenchmarkUpdate(b *testing.B) {
	l, _ := newLedger(b)
	seedOrders(b, l, benchOrders)
	i := 0
	for b.Loop() {
		_, err := l.Update(b.Context(), fmt.Sprintf("B%d", i%benchOrders), func(r *ledger.Record, _ any) error {
			r.Attempts[0].HeldUntil = r.Now
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDueScale times Due and Read beside 10,000 and then 1,000,000
// settled orders (and 10 with work open), and reports each at the larger
// size as a multiple of the smaller (x-10k): about 1 when the cost does not
// grow with the ledger's history.
func BenchmarkDueScale(b *testing.B) {
	base := map[string]float64{}
	for _, settled := range []int{10_000, 1_000_000} {
		db := pgtest.New(b)
		pool := db.Pool(b)
		l := postgres.New(pool, postgres.Config{})
		fillSettled(b, pool, settled)
		addOpen(b, l, 10)
		if _, err := pool.Exec(b.Context(), `VACUUM ANALYZE payorder_ledger`); err != nil {
			b.Fatal(err)
		}
		for _, op := range []struct {
			name string
			call func(i int) error
		}{
			{"Due", func(int) error {
				due, err := l.Due(b.Context(), time.Now())
				if err == nil && len(due) != 10 {
					err = fmt.Errorf("Due = %d orders, want 10", len(due))
				}
				return err
			}},
			{"Read", func(i int) error { _, err := l.Read(b.Context(), fmt.Sprintf("S%d", 1+i%settled)); return err }},
		} {
			b.Run(fmt.Sprintf("%s/settled=%d", op.name, settled), func(b *testing.B) {
				i := 0
				for b.Loop() {
					if err := op.call(i); err != nil {
						b.Fatal(err)
					}
					i++
				}
				ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				if first, ok := base[op.name]; ok {
					b.ReportMetric(ns/first, "x-10k")
				} else {
					base[op.name] = ns
				}
			})
		}
	}
}
