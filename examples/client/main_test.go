package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// TestPaysThroughTheEndpoint runs the client against an endpoint and webhook
// receiver wired to an emulator, as the example server wires them.
func TestPaysThroughTheEndpoint(t *testing.T) {
	mux := http.NewServeMux()
	api := httptest.NewServer(mux)
	defer api.Close()
	emu := pingpptest.NewServer(pingpptest.Config{WebhookURL: api.URL + "/pay/webhook/"})
	defer emu.Close()
	client, err := pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID, BaseURL: emu.APIBase(), HTTPClient: emu.Client()})
	if err != nil {
		t.Fatal(err)
	}
	store, err := order.NewMemStore(order.Order{No: "12134676899915430002", Buyer: "15201052252", Amount: 9900})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pay.New(pay.Config{AppID: client.AppID()}, store, &ledger.Memory{}, client)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := pay.NewWebhookHandler(svc, emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/pay/pay_for_order/", pay.NewHandler(svc, pay.StaticTokens{"706a87288233ea2427cddb8a1bbce29369ac5073": "15201052252"}))
	mux.Handle("/pay/webhook/", wh)

	var out bytes.Buffer
	if err := run(context.Background(), []string{"-server", api.URL, "-pay-via", emu.URL}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"9900 cny through alipay", "Alipay App SDK orderInfo", "order 12134676899915430002: 订单已支付"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(context.Background(), []string{"-server", api.URL, "-channel", "bitcoin"}, &out); err == nil || !strings.Contains(err.Error(), "无效的支付通道") {
		t.Errorf("bitcoin: %v", err)
	}
}
