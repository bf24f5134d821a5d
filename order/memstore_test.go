package order_test

import (
	"testing"

	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/order/ordertest"
)

func TestMemStoreConformance(t *testing.T) {
	ordertest.Run(t, func(testing.TB) ordertest.Store { return &order.MemStore{} })
}
