// Command pingpp-emulator runs the offline Ping++ emulator of package
// pingpptest as a standalone server, for testing Ping++ clients written in
// any language:
//
//	go run ./examples/pingpp-emulator -addr 127.0.0.1:8001 -webhook-url http://127.0.0.1:9000/webhooks
//
// Point the client's API base at http://127.0.0.1:8001/v1. Test charges are
// paid with GET /notify/charges/{id}?livemode=false, on the test payment page
// GET /mock.php?ch_id={id}, or by the control API (POST
// /_emulator/charges/{id}/pay), each of which sends a charge.succeeded
// webhook to -webhook-url, signed with a key generated for the run (or
// -webhook-private-key) whose public half it writes to
// -webhook-public-key-out. Test refunds finish by themselves as
// -refund-outcome and -refund-delay say. The control API under /_emulator/
// (faults, clock, payments, refunds, redeliveries, stats, reset) is
// described in the README's emulator section.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/yianpay/payorder/examples/internal/webhookkey"
	"github.com/yianpay/payorder/pay/pingpptest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pingpp-emulator:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	addr, secretKey, appID, webhookURL, merchantKeyFile string
	webhookKeyFile, webhookKeyOut                       string
	retryScale                                          float64
	createLatency, refundDelay                          time.Duration
	signResponses, manualWebhooks, publishedWebhookKey  bool
	refundOutcome                                       pingpptest.RefundOutcome
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("pingpp-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8001", "listen address")
	fs.StringVar(&o.secretKey, "secret-key", pingpptest.DefaultSecretKey, "accepted secret keys, comma-separated (sk_test_… or sk_live_…)")
	fs.StringVar(&o.appID, "app-id", pingpptest.DefaultAppID, "known app ids, comma-separated")
	fs.StringVar(&o.webhookURL, "webhook-url", "", "URL that receives webhooks (none when empty)")
	fs.StringVar(&o.merchantKeyFile, "merchant-public-key", "", "PEM file of the merchant's public key; when set, requests must be signed")
	fs.Float64Var(&o.retryScale, "retry-scale", 1, "factor applied to Ping++'s webhook retry intervals (2m,10m,10m,1h,2h,6h,15h)")
	fs.DurationVar(&o.createLatency, "create-latency", 0, "added to every POST /v1/charges after the charge is made, to play a slow Ping++")
	fs.StringVar(&o.webhookKeyFile, "webhook-private-key", "", "PEM file of the RSA key that signs webhooks and, with -sign-responses, API responses (default: a key generated for this run; -published-webhook-key for pingpptest's published one)")
	fs.StringVar(&o.webhookKeyOut, "webhook-public-key-out", filepath.Join(os.TempDir(), "pingpp-emulator-webhook-public-key.pem"),
		"file to write the public half of the webhook key to (the \"Ping++ 公钥\" clients verify webhooks and responses with)")
	fs.BoolVar(&o.signResponses, "sign-responses", false, "sign every API response with X-Pingplusplus-Signature, as Ping++ does (what the Java SDK checks when it has Ping++'s public key)")
	fs.TextVar(&o.refundOutcome, "refund-outcome", pingpptest.RefundSucceeds, "how test-mode refunds finish by themselves: succeed (refund.succeeded webhook), fail (status failed, no webhook) or hold (stay pending)")
	fs.DurationVar(&o.refundDelay, "refund-delay", 0, "how long a test-mode refund stays pending before -refund-outcome (0: within the create request)")
	fs.BoolVar(&o.manualWebhooks, "manual-webhooks", false, "store events without sending them; send them with POST /_emulator/events/{id}/deliver")
	fs.BoolVar(&o.publishedWebhookKey, "published-webhook-key", false,
		"sign webhooks with pingpptest's published key instead of one generated for this run (anyone can forge webhooks then: tests only)")
	return o, fs.Parse(args)
}

// run serves until ctx ends (SIGINT or SIGTERM in main).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg := pingpptest.Config{
		SecretKeys:     strings.Split(o.secretKey, ","),
		AppIDs:         strings.Split(o.appID, ","),
		WebhookURL:     o.webhookURL,
		RetryScale:     o.retryScale,
		SignResponses:  o.signResponses,
		ManualWebhooks: o.manualWebhooks,
		RefundOutcome:  o.refundOutcome,
		RefundDelay:    o.refundDelay,
		Logger:         slog.New(slog.NewTextHandler(stderr, nil)),
	}
	if o.merchantKeyFile != "" {
		if cfg.MerchantPublicKeyPEM, err = os.ReadFile(o.merchantKeyFile); err != nil {
			return err
		}
	}
	switch {
	case o.webhookKeyFile != "":
		if cfg.WebhookPrivateKeyPEM, err = os.ReadFile(o.webhookKeyFile); err != nil {
			return err
		}
	case !o.publishedWebhookKey:
		if cfg.WebhookPrivateKeyPEM, err = webhookkey.Generate(); err != nil {
			return err
		}
	}
	emu, err := pingpptest.New(cfg)
	if err != nil {
		return err
	}
	defer emu.Close()
	if o.createLatency > 0 {
		emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultLatency, Latency: o.createLatency, After: true})
	}
	l, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go srv.Serve(l)
	defer srv.Close()
	baseURL := "http://" + l.Addr().String()
	pem := emu.WebhookPublicKeyPEM()
	if err := os.WriteFile(o.webhookKeyOut, pem, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Ping++ emulator listening\n  API base:     %s/v1\n  secret keys:  %s\n  app ids:      %s\n",
		baseURL, o.secretKey, o.appID)
	fmt.Fprintf(stdout, "  webhook URL:  %s\n  pay a test charge: GET %s/notify/charges/{id}?livemode=false\n  test payment page: %s/mock.php?ch_id={id}\n",
		orNone(o.webhookURL), baseURL, baseURL)
	fmt.Fprintf(stdout, "  control API:  %s/_emulator/ (counters: GET %s/_emulator/stats)\n  refunds:      %s after %v\n",
		baseURL, baseURL, o.refundOutcome, o.refundDelay)
	fmt.Fprintf(stdout, "  request signing: %v\n  signed responses: %v\n  webhook public key (written to %s):\n%s",
		o.merchantKeyFile != "", o.signResponses, o.webhookKeyOut, pem)
	<-ctx.Done()
	fmt.Fprintln(stdout, "shutting down")
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
