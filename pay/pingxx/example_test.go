package pingxx_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

func ExampleClient_CreateCharge() {
	srv := pingpptest.NewServer(pingpptest.Config{})
	defer srv.Close()

	c, err := pingxx.NewClient(pingxx.Config{
		SecretKey:  pingpptest.DefaultSecretKey, // sk_live_… in production
		AppID:      pingpptest.DefaultAppID,
		BaseURL:    srv.APIBase(), // leave empty for https://api.pingxx.com/v1
		HTTPClient: srv.Client(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ch, err := c.CreateCharge(context.Background(), &pingxx.ChargeParams{
		OrderNo: "20260101A1", Channel: "alipay", Amount: 990, Currency: "cny",
		ClientIP: "127.0.0.1", Subject: "Go course", Body: "Lessons 1-10",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	cred, err := ch.TypedCredential()
	fmt.Println(ch.Object, ch.Channel, ch.Amount, ch.Livemode, ch.Paid)
	fmt.Printf("%T %v\n", cred, err)
	// Output:
	// charge alipay 990 false false
	// channel.AlipayCredential <nil>
}

// A create whose answer is lost returns ErrOutcomeUnknown; the caller then
// looks the charge up instead of charging again.
func ExampleClient_FindCharges() {
	srv := pingpptest.NewServer(pingpptest.Config{})
	defer srv.Close()
	c, err := pingxx.NewClient(pingxx.Config{
		SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: srv.APIBase(), HTTPClient: srv.Client(), MaxRetries: -1,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Ping++ creates the charge, then the answer is lost on the way back.
	srv.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultHTTP502HTML, After: true, Times: 1})

	ctx := context.Background()
	since := time.Now().Add(-5 * time.Minute) // before the first attempt, with a margin for clock skew
	_, err = c.CreateCharge(ctx, &pingxx.ChargeParams{
		OrderNo: "20260101A2", Channel: channel.Wx, Amount: 990, Currency: "cny",
		ClientIP: "127.0.0.1", Subject: "Go course", Body: "Lessons 1-10",
	})
	fmt.Println(errors.Is(err, pingxx.ErrOutcomeUnknown))

	found, err := c.FindCharges(ctx, "20260101A2", since, time.Now().Add(5*time.Minute))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(found), found[0].OrderNo, found[0].Channel)
	// Output:
	// true
	// 1 20260101A2 wx
}

func ExampleSignWebhook() {
	// In a test of your own webhook receiver: sign a payload the way Ping++
	// does and check that your handler accepts it.
	key, err := pingxx.ParsePrivateKey([]byte(pingpptest.WebhookPrivateKeyPEM))
	if err != nil {
		fmt.Println(err)
		return
	}
	payload := []byte(`{"id":"evt_1","object":"event","type":"charge.succeeded","created":1,"livemode":false,"data":{"object":{"id":"ch_1","object":"charge","paid":true,"amount":100}},"pending_webhooks":0,"request":null}`)
	sig, err := pingxx.SignWebhook(key, payload)
	if err != nil {
		fmt.Println(err)
		return
	}
	// req.Header.Set(pingxx.HeaderWebhookSignature, sig), then serve req; here
	// the receiving side directly:
	ev, err := pingxx.ParseEvent(payload, sig, &key.PublicKey)
	if err != nil {
		fmt.Println(err)
		return
	}
	ch, err := ev.Charge()
	fmt.Println(ev.Type, ch.ID, ch.Paid, ch.Amount, err)

	_, err = pingxx.ParseEvent(append(payload, ' '), sig, &key.PublicKey)
	fmt.Println(errors.Is(err, pingxx.ErrBadSignature))
	// Output:
	// charge.succeeded ch_1 true 100 <nil>
	// true
}
