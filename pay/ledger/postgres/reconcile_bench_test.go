package postgres_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger/postgres"
	"github.com/yianpay/payorder/pay/ledger/postgres/pgtest"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// BenchmarkReconcileScale times one Reconcile pass of a Service over the
// PostgreSQL ledger with 10 orders awaiting payment beside 10,000 and then
// 1,000,000 settled orders (paid and fulfilled), and reports the pass at
// the larger size over the pass at the smaller ("x-10k"): a pass finds its
// work through the index on open state, so history must not slow it.
func BenchmarkReconcileScale(b *testing.B) {
	var base float64
	for _, settled := range []int{10_000, 1_000_000} {
		db := pgtest.New(b)
		pool := db.Pool(b)
		fillSettled(b, pool, settled)
		emu := pingpptest.NewServer(pingpptest.Config{})
		b.Cleanup(emu.Close)
		client, err := pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
			BaseURL: emu.APIBase(), HTTPClient: emu.Client()})
		if err != nil {
			b.Fatal(err)
		}
		store := &order.MemStore{}
		svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, store, postgres.New(pool, postgres.Config{}), client)
		if err != nil {
			b.Fatal(err)
		}
		for i := range 10 {
			no := fmt.Sprintf("OPEN%d", i)
			if err := store.Put(order.Order{No: no, Buyer: "b", Amount: 100}); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.PayForOrder(b.Context(), no, channel.Alipay, pay.AsServer()); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := pool.Exec(b.Context(), `VACUUM ANALYZE payorder_ledger`); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("settled=%d", settled), func(b *testing.B) {
			before := emu.Stats().Requests
			for b.Loop() {
				if err := svc.Reconcile(b.Context(), time.Hour); err != nil {
					b.Fatal(err)
				}
			}
			if asked := (emu.Stats().Requests - before) / int64(b.N); asked != 10 {
				b.Fatalf("a pass asked Ping++ %d times, want once per open order (10)", asked)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if base == 0 {
				base = ns
			} else {
				b.ReportMetric(ns/base, "x-10k")
			}
		})
	}
}
