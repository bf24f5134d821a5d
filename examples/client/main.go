// Command client plays the mobile app against the documented endpoint: it
// asks PUT /pay/pay_for_order/ for a charge, decodes the credential the app
// would hand to Alipay or WeChat, and, given the emulator's address, pays the
// charge in test mode and waits until the endpoint reports the order paid.
//
//	go run ./examples/server &
//	go run ./examples/client -pay-via http://127.0.0.1:8001
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/pingxx"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// answer is the endpoint's envelope.
type answer struct {
	Status  int            `json:"status"`
	Message string         `json:"message"`
	Ch      *pingxx.Charge `json:"ch"`
	Detail  string         `json:"detail"` // authentication and request errors
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("client", flag.ContinueOnError)
	flags.SetOutput(out)
	server := flags.String("server", "http://127.0.0.1:8000", "base URL of the payorder endpoint")
	token := flags.String("token", "706a87288233ea2427cddb8a1bbce29369ac5073", "login token (Authorization: Token …)")
	orderNo := flags.String("order", "12134676899915430002", "order number")
	ch := flags.String("channel", "alipay", "payment channel")
	payVia := flags.String("pay-via", "", "base URL of the Ping++ emulator: pay the charge in test mode and wait for the order to be paid")
	if err := flags.Parse(args); err != nil {
		return err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	ask := func() (answer, error) { return payForOrder(ctx, c, *server, *token, *orderNo, *ch) }

	a, err := ask()
	if err != nil {
		return err
	}
	if a.Status != 0 || a.Ch == nil {
		return fmt.Errorf("status %d: %s", a.Status, a.Message)
	}
	fmt.Fprintf(out, "charge %s: %d %s through %s, expires %s\n", a.Ch.ID, a.Ch.Amount, a.Ch.Currency, a.Ch.Channel,
		time.Unix(a.Ch.TimeExpire, 0).Format(time.RFC3339))
	cred, err := a.Ch.TypedCredential()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "credential for the app: %s\n", describe(cred))
	if *payVia == "" {
		return nil
	}

	if err := notify(ctx, c, *payVia, a.Ch.ID); err != nil {
		return err
	}
	fmt.Fprintln(out, "paid in test mode; waiting for the webhook to reach the server")
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("the order was not reported paid within 30s")
		case <-tick.C:
		}
		if a, err = ask(); err != nil {
			return err
		}
		if a.Status == -3 {
			fmt.Fprintf(out, "order %s: %s\n", *orderNo, a.Message)
			return nil
		}
	}
}

// payForOrder calls the endpoint as the mobile app does.
func payForOrder(ctx context.Context, c *http.Client, server, token, orderNo, ch string) (answer, error) {
	form := url.Values{"order_no": {orderNo}, "channel": {ch}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, strings.TrimSuffix(server, "/")+"/pay/pay_for_order/", strings.NewReader(form.Encode()))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token "+token)
	res, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	var a answer
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&a); err != nil {
		return answer{}, fmt.Errorf("HTTP %d: %w", res.StatusCode, err)
	}
	if res.StatusCode != http.StatusOK {
		return answer{}, fmt.Errorf("HTTP %d: %s", res.StatusCode, a.Detail)
	}
	return a, nil
}

// notify pays a test-mode charge through the emulator, as Ping++'s mock page does.
func notify(ctx context.Context, c *http.Client, emulator, chargeID string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(emulator, "/")+"/notify/charges/"+url.PathEscape(chargeID)+"?livemode=false", nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if string(body) != "success" {
		return fmt.Errorf("notify answered %q", body)
	}
	return nil
}

// describe summarises what the app would do with a credential.
func describe(cred channel.Credential) string {
	switch c := cred.(type) {
	case channel.AlipayCredential:
		return fmt.Sprintf("Alipay App SDK orderInfo (%d characters)", len(c.OrderInfo))
	case channel.WxCredential:
		return fmt.Sprintf("WeChat PayReq for prepay id %s", c.PrepayID)
	case channel.WxPubCredential:
		return fmt.Sprintf("WeixinJSBridge request, package %s", c.Package)
	case channel.URLCredential:
		return "open or show " + c.URL
	case channel.FormCredential:
		return fmt.Sprintf("post %d fields to %s", len(c.Fields), c.ChannelURL)
	case channel.UpacpCredential:
		return "UnionPay SDK tn " + c.TN
	case nil:
		return "none (already paid)"
	}
	return fmt.Sprintf("%s credential", cred.Channel())
}
