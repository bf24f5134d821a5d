package main

import (
	"encoding/json"
	"time"

	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
)

// The seed document's data (pay_for_order.txt), so that its curl line works
// verbatim, and a second buyer to show that buyers cannot pay each other's
// orders.
const (
	seedToken   = "706a87288233ea2427cddb8a1bbce29369ac5073"
	seedOrderNo = "12134676899915430002"
	seedBuyer   = "15201052252"

	otherToken   = "0123456789abcdef0123456789abcdef01234567"
	otherOrderNo = "20261129000000000001"
	otherBuyer   = "13800138000"
)

var seedTokens = pay.StaticTokens{
	seedToken: seedBuyer,
	"7309fabd207c22e0a00eada158989b89ffe839ef": seedBuyer,
	otherToken: otherBuyer,
}

// seedOrders are the host's orders of the example: the same in every
// instance, as a host's orders table would be; what payorder records about
// paying them is in the ledger.
func seedOrders() (*order.MemStore, error) {
	s := &order.MemStore{}
	created := time.Date(2016, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, o := range []order.Order{
		order.Order{
			No: seedOrderNo, Buyer: seedBuyer, Amount: 9900, Currency: "cny",
			Subject: "collection的使用", Body: seedOrderNo,
			Metadata: map[string]any{
				"order_id": json.Number("1"), "buyer": seedBuyer, "names": "collection的使用",
				"order_no": seedOrderNo, "courses": "1",
			},
			CreatedAt: created,
		},
		order.Order{
			No: otherOrderNo, Buyer: otherBuyer, Amount: 100, Currency: "cny",
			Subject: "示例课程", Body: otherOrderNo,
			Metadata:  map[string]any{"order_id": json.Number("2"), "buyer": otherBuyer, "order_no": otherOrderNo},
			CreatedAt: created,
		},
	} {
		if err := s.Put(o); err != nil {
			return nil, err
		}
	}
	return s, nil
}
