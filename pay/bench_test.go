package pay_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
)

// BenchmarkPayForOrder compares paying a new order (a Ping++ create through
// the emulator) with paying an order that has a live charge (no Ping++
// call), over setup's ledger.Memory. The reuse sub-benchmark reports
// reuse/create, its cost as a fraction of a create's, when both run.
func BenchmarkPayForOrder(b *testing.B) {
	e := setup(b)
	var createNsPerOp float64
	b.Run("create", func(b *testing.B) {
		nos := make([]string, b.N)
		for i := range nos {
			nos[i] = fmt.Sprintf("5%019d%d", i, time.Now().UnixNano()%1000)
			if err := e.store.Put(order.Order{No: nos[i], Buyer: seedBuyer, Amount: 9900}); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := range b.N {
			if _, err := e.svc.PayForOrder(b.Context(), nos[i], channel.Alipay, pay.ForBuyer(seedBuyer)); err != nil {
				b.Fatal(err)
			}
		}
		createNsPerOp = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("reuse", func(b *testing.B) {
		if _, err := e.svc.PayForOrder(b.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer)); err != nil {
			b.Fatal(err)
		}
		created := e.emu.Stats().ChargesCreated
		b.ResetTimer()
		for range b.N {
			if _, err := e.svc.PayForOrder(b.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer)); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if e.emu.Stats().ChargesCreated != created {
			b.Fatal("reuse created charges")
		}
		if createNsPerOp > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/createNsPerOp, "reuse/create")
		}
	})
}
