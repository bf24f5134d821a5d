package main

import (
	"context"
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

// seed loads the seed orders. An order that exists keeps its payment state,
// so restarting the server, or starting several on one database, is safe.
func seed(ctx context.Context, s store) error {
	created := time.Now()
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
		if err := s.PutContext(ctx, o); err != nil {
			return err
		}
	}
	return nil
}
