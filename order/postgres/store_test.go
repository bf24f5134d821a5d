package postgres_test

import (
	"testing"

	"github.com/yianpay/payorder/order/ordertest"
	"github.com/yianpay/payorder/order/postgres"
	"github.com/yianpay/payorder/pay"
)

var (
	_ pay.PaymentStore = (*postgres.Store)(nil)
	_ pay.Locker       = (*postgres.Store)(nil)
	_ ordertest.Store  = (*postgres.Store)(nil)
)

func TestConformance(t *testing.T) {
	ordertest.Run(t, func(t testing.TB) ordertest.Store { return newStore(t) })
}
