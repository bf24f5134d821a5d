package postgres_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/order/ordertest"
)

// BenchmarkStore measures the store's hot paths with parallel callers, each
// on orders of its own: reading an order, updating one (the webhook path),
// and taking and releasing a lock (what PayForOrder adds per create). Each
// sub-benchmark after "Order" reports its cost as a multiple of a read
// (x-read), which is what the comparison is for: round trips per call.
func BenchmarkStore(b *testing.B) {
	s := newInstance(b)
	const orders = 64
	for i := range orders {
		if err := s.PutContext(b.Context(), ordertest.SampleOrder(fmt.Sprintf("2026112900000%07d", i))); err != nil {
			b.Fatal(err)
		}
	}
	no := func(i int64) string { return fmt.Sprintf("2026112900000%07d", i%orders) }
	var readNs float64
	parallel := func(b *testing.B, op func(i int64) error) {
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(n.Add(1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	report := func(b *testing.B) {
		if readNs > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/readNs, "x-read")
		}
	}
	b.Run("Order", func(b *testing.B) {
		parallel(b, func(i int64) error { _, err := s.Order(b.Context(), no(i)); return err })
		readNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("UpdateOrder", func(b *testing.B) {
		parallel(b, func(i int64) error {
			_, err := s.UpdateOrder(b.Context(), no(i), func(o *order.Order) error {
				o.FulfilmentLeaseUntil = time.Unix(i, 0)
				return nil
			})
			return err
		})
		report(b)
	})
	b.Run("LockUnlock", func(b *testing.B) {
		parallel(b, func(i int64) error {
			unlock, err := s.Lock(b.Context(), "payorder:bench:"+no(i), time.Minute)
			if err == nil {
				unlock()
			}
			return err
		})
		report(b)
	})
}
