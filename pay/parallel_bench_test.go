package pay_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/order/postgres"
	"github.com/yianpay/payorder/order/postgres/pgtest"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// BenchmarkPayForOrderParallel pays distinct orders from 32 parallel callers
// while Ping++ (the emulator) takes 50 ms per create. Ideally the callers
// never wait on each other, giving 32 charges per 50 ms; the benchmark
// reports its throughput as a fraction of that ideal ("of-ideal"), for the
// in-memory store and for PostgreSQL.
func BenchmarkPayForOrderParallel(b *testing.B) {
	const (
		callers = 32
		latency = 50 * time.Millisecond
	)
	stores := []struct {
		name string
		open func(b *testing.B) putStore
	}{
		{"memstore", func(*testing.B) putStore { return memPut{&order.MemStore{}} }},
		{"postgres", func(b *testing.B) putStore {
			db := pgtest.New(b)
			db.Config.MaxConns = callers
			return postgres.New(db.Pool(b), postgres.Config{})
		}},
	}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			store := st.open(b)
			emu := pingpptest.NewServer(pingpptest.Config{})
			defer emu.Close()
			emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultLatency, Latency: latency})
			transport := emu.Client().Transport.(*http.Transport).Clone()
			transport.MaxIdleConnsPerHost = callers
			client, err := pingxx.NewClient(pingxx.Config{
				SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
				BaseURL: emu.APIBase(), HTTPClient: &http.Client{Transport: transport, Timeout: 10 * time.Second},
			})
			if err != nil {
				b.Fatal(err)
			}
			svc, err := pay.New(pay.Config{}, store, client)
			if err != nil {
				b.Fatal(err)
			}
			// One round of orders first warms what a running server has warm
			// (database and HTTP connections, prepared statements); then b.N
			// orders are timed.
			prefix := time.Now().Format("150405")
			orderNo := func(i int64) string { return fmt.Sprintf("P%s%08d", prefix, i) }
			for i := range int64(b.N + callers) {
				if err := store.PutContext(context.Background(), order.Order{No: orderNo(i), Buyer: seedBuyer, Amount: 100}); err != nil {
					b.Fatal(err)
				}
			}
			payAll := func(start, end int64) {
				var next atomic.Int64
				next.Store(start)
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for i := next.Add(1) - 1; i < end; i = next.Add(1) - 1 {
							if _, err := svc.PayForOrder(context.Background(), orderNo(i), channel.Alipay, pay.AsServer()); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
			payAll(0, callers)
			b.ResetTimer()
			payAll(callers, int64(callers+b.N))
			b.StopTimer()
			if got := emu.Stats().ChargesCreated; got != int64(callers+b.N) {
				b.Fatalf("%d charges for %d orders", got, callers+b.N)
			}
			perSecond := float64(b.N) / b.Elapsed().Seconds()
			ideal := float64(callers) / latency.Seconds()
			b.ReportMetric(perSecond/ideal, "of-ideal")
			b.ReportMetric(perSecond, "charges/s")
		})
	}
}

// putStore is a payment store the benchmark can load orders into.
type putStore interface {
	pay.PaymentStore
	PutContext(ctx context.Context, o order.Order) error
}

type memPut struct{ *order.MemStore }

func (m memPut) PutContext(_ context.Context, o order.Order) error { return m.Put(o) }
