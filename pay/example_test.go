package pay_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

func ExampleService_PayForOrder() {
	emu := pingpptest.NewServer(pingpptest.Config{}) // stands in for Ping++
	defer emu.Close()
	client, err := pingxx.NewClient(pingxx.Config{
		SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: emu.APIBase(), HTTPClient: emu.Client(),
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := order.NewMemStore(order.Order{No: "12134676899915430002", Buyer: "15201052252", Amount: 9900, Subject: "collection的使用"})
	if err != nil {
		log.Fatal(err)
	}
	// The host's orders are read from store; payorder's own records (attempts,
	// charges, payments) are kept in the ledger, here in memory.
	svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, store, &ledger.Memory{}, client)
	if err != nil {
		log.Fatal(err)
	}

	ch, err := svc.PayForOrder(context.Background(), "12134676899915430002", channel.Alipay, pay.ForBuyer("15201052252"))
	if err != nil {
		log.Fatal(err)
	}
	cred, _ := ch.TypedCredential()
	fmt.Println(ch.OrderNo, ch.Amount, ch.Currency, ch.Channel)
	fmt.Println(strings.Contains(cred.(channel.AlipayCredential).OrderInfo, `total_fee="99.00"`))
	// Whether the order is paid is the ledger's to say, not the host's order.
	rec, err := svc.Record(context.Background(), "12134676899915430002")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Status(), len(rec.Charges))

	_, err = svc.PayForOrder(context.Background(), "12134676899915430002", "bitcoin", pay.ForBuyer("15201052252"))
	fmt.Println(errors.Is(err, payorder.ErrInvalidChannel), payorder.ClientMessage(err))
	_, err = svc.PayForOrder(context.Background(), "12134676899915430002", channel.Alipay, pay.ForBuyer("13800138000"))
	fmt.Println(errors.Is(err, payorder.ErrOrderNotFound), payorder.ClientMessage(err))
	// Output:
	// 12134676899915430002 9900 cny alipay
	// true
	// unpaid 1
	// true 无效的支付通道
	// true 订单不存在
}

func ExampleHandler() {
	emu := pingpptest.NewServer(pingpptest.Config{})
	defer emu.Close()
	client, _ := pingxx.NewClient(pingxx.Config{
		SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: emu.APIBase(), HTTPClient: emu.Client(),
	})
	store, _ := order.NewMemStore(order.Order{No: "12134676899915430002", Buyer: "15201052252", Amount: 9900})
	svc, _ := pay.New(pay.Config{AppID: pingpptest.DefaultAppID}, store, &ledger.Memory{}, client)
	h := pay.NewHandler(svc, pay.StaticTokens{"706a87288233ea2427cddb8a1bbce29369ac5073": "15201052252"})

	r := httptest.NewRequest("PUT", "/pay/pay_for_order/", strings.NewReader("order_no=12134676899915430002&channel=bitcoin"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Authorization", "Token 706a87288233ea2427cddb8a1bbce29369ac5073")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body)
	// Output:
	// 200 {"status":-4,"message":"无效的支付通道"}
}
