// Command server runs the documented endpoint PUT /pay/pay_for_order/ on its
// embedded default: an in-memory order store preloaded with the seed's
// orders, static login tokens, and an embedded Ping++ emulator on
// 127.0.0.1:8001 standing in for Ping++, so everything works offline:
//
//	go run ./examples/server
//	curl -X PUT -H 'Authorization: Token 706a87288233ea2427cddb8a1bbce29369ac5073' \
//	  -d 'order_no=12134676899915430002&channel=alipay' http://127.0.0.1:8000/pay/pay_for_order/
//
// With PINGPP_APP_ID, PINGPP_SECRET_KEY, PINGPP_PRIVATE_KEY_FILE and
// PINGPP_PUBLIC_KEY_FILE set (and optionally PINGPP_API_BASE) it talks to
// real Ping++ instead of the emulator. Emulator mode pays any charge for
// free, so it signs webhooks with a key generated for the run and refuses
// DATABASE_URL (-emulator-with-database allows it) and addresses beyond
// loopback (-emulator-public); -emulator-url needs -emulator-webhook-key, the
// key file the standalone emulator wrote.
//
// With -metrics-addr (or PAYORDER_METRICS_ADDR) it serves payorder's metrics
// at GET /metrics on that address, in Prometheus's format, on a listener of
// its own so that the public endpoint never shows them:
//
//	go run ./examples/server -metrics-addr 127.0.0.1:9464
//	curl http://127.0.0.1:9464/metrics
//
// With PAYORDER_ADMIN_TOKEN set to a token of at least 32 characters it
// also mounts the operator's refund routes, POST /admin/refunds/ and POST
// /admin/refunds/abandon/, authorised by Authorization: Bearer <that token>
// and never by a buyer's token; without it the routes do not exist.
package main

import (
	"context"
	"crypto/rsa"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/examples/internal/serve"
	"github.com/yianpay/payorder/examples/internal/webhookkey"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// addrs are where a running server can be reached.
type addrs struct {
	API      string // host:port of the endpoint
	Emulator string // base URL of the embedded emulator; "" with real Ping++
	Metrics  string // host:port of GET /metrics; "" when off
}

// run serves until ctx is done. ready, when not nil, learns the addresses
// once the endpoint accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, ready func(addrs)) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(out)
	addr := flags.String("addr", "127.0.0.1:8000", "address of the endpoint")
	emulatorAddr := flags.String("emulator-addr", "127.0.0.1:8001", "address of the embedded Ping++ emulator")
	emulatorURL := flags.String("emulator-url", "", "base URL of an external emulator (go run ./examples/pingpp-emulator) to use instead of the embedded one, so that several servers share it")
	lockTTL := flags.Duration("lock-ttl", pay.DefaultLockTTL, "the lease of a payment attempt: how long a crashed instance keeps others waiting before one takes its attempt over")
	metricsAddr := flags.String("metrics-addr", getenv("PAYORDER_METRICS_ADDR"), "address of GET /metrics (Prometheus), on a listener of its own; empty (the default, unless PAYORDER_METRICS_ADDR is set) serves no metrics")
	channelList := flags.String("channels", "alipay,wx", "channels buyers may pay with, comma-separated Ping++ channel codes (alipay_wap for pingpp-js in a browser)")
	fulfilDelay := flags.Duration("fulfil-delay", 0, "how long the example's fulfilment hook works before it unlocks the courses (a slow downstream service; for tests of what survives it)")
	safe := safetyFlags(flags)
	if err := flags.Parse(args); err != nil {
		return err
	}
	channels, err := parseChannels(*channelList)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer l.Close()
	if err := safe.checkEmulatorMode(getenv, l, *emulatorAddr, *emulatorURL); err != nil {
		return err
	}
	webhookURL := "http://" + l.Addr().String() + "/pay/webhook/"
	var meters metric.MeterProvider // nil: no metrics
	var metricsAt string
	if *metricsAddr != "" {
		mp, handler, err := newMetrics()
		if err != nil {
			return err
		}
		defer mp.Shutdown(context.WithoutCancel(ctx))
		ml, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("-metrics-addr: %w", err)
		}
		defer ml.Close()
		metricsCtx, stopMetrics := context.WithCancel(ctx)
		served := make(chan struct{})
		go func() { defer close(served); serve.Serve(metricsCtx, ml, handler) }()
		defer func() { stopMetrics(); <-served }()
		meters, metricsAt = mp, ml.Addr().String()
		fmt.Fprintf(out, "payorder: metrics at GET http://%s/metrics\n", metricsAt)
	}
	gw, emuURL, webhookKey, closeGateway, err := gateway(getenv, *emulatorAddr, *emulatorURL, webhookURL, meters, out, safe)
	if err != nil {
		return err
	}
	defer closeGateway()

	lg, closeLedger, err := openLedger(ctx, getenv("DATABASE_URL"), out)
	if err != nil {
		return err
	}
	defer closeLedger()
	orders, err := seedOrders()
	if err != nil {
		return err
	}
	svc, err := pay.New(pay.Config{
		AppID:    gw.AppID(),
		Livemode: gw.Livemode(),
		Channels: channels,
		LockTTL:  *lockTTL,
		Logger:   logger,
		// The same provider for pay and pingxx: one /metrics shows both.
		MeterProvider: meters,
		OnPaid: func(ctx context.Context, f pay.Fulfilment) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(*fulfilDelay):
			}
			logger.InfoContext(ctx, "order paid: unlock its courses here", "order_no", f.Order.No, "buyer", f.Order.Buyer,
				"fulfilment_id", f.ID, "charge_id", f.Charge.ID, "channel", f.Charge.Channel)
			return nil
		},
		OnRefunded: func(ctx context.Context, n pay.RefundNotice) error {
			logger.InfoContext(ctx, "order refunded: take its courses back here", "order_no", n.Order.No, "notice_id", n.ID,
				"refund_id", n.Refund.ID, "amount", n.Refund.Amount, "status", n.Status)
			return nil
		},
		OnAnomaly: func(ctx context.Context, a pay.Anomaly) error {
			logger.ErrorContext(ctx, "payment anomaly: needs a person", "id", a.ID, "kind", a.Kind, "order_no", a.OrderNo, "detail", a.Detail)
			return nil
		},
	}, orders, lg, gw)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/pay/pay_for_order/", pay.NewHandler(svc, seedTokens))
	if webhookKey != nil {
		wh, err := pay.NewWebhookHandler(svc, webhookKey)
		if err != nil {
			return err
		}
		mux.Handle("/pay/webhook/", wh)
		fmt.Fprintf(out, "payorder: Ping++ webhooks at POST %s\n", webhookURL)
	}
	if ok, why := mountRefunds(mux, svc, getenv("PAYORDER_ADMIN_TOKEN"), logger); ok {
		fmt.Fprintf(out, "payorder: operator refunds at POST http://%s/admin/refunds/ (Authorization: Bearer $PAYORDER_ADMIN_TOKEN)\n", l.Addr())
	} else {
		fmt.Fprintln(out, "payorder: "+why)
	}
	reconcileCtx, stopReconcile := context.WithCancel(ctx)
	reconciled := make(chan struct{})
	go func() {
		defer close(reconciled)
		reconcileEvery(reconcileCtx, time.Minute, svc, logger)
	}()
	defer func() { stopReconcile(); <-reconciled }() // before the store closes

	fmt.Fprintf(out, "payorder: PUT http://%s/pay/pay_for_order/\n", l.Addr())
	fmt.Fprintf(out, "try:\n  curl -X PUT -H 'Authorization: Token %s' -d 'order_no=%s&channel=alipay' http://%s/pay/pay_for_order/\n",
		seedToken, seedOrderNo, l.Addr())
	if ready != nil {
		ready(addrs{API: l.Addr().String(), Emulator: emuURL, Metrics: metricsAt})
	}
	if err := serve.ServeTimeouts(ctx, l, mux, safe.timeouts); err != nil {
		return err
	}
	fmt.Fprintln(out, "payorder: stopped")
	return nil
}

// gateway returns a Ping++ client and the public key webhooks are signed
// with: real Ping++ when PINGPP_SECRET_KEY is set; else the external emulator
// at externalURL, when given; else an emulator started on emulatorAddr that
// posts its webhooks to webhookURL. The client records its requests in mp
// (nil: nowhere).
func gateway(getenv func(string) string, emulatorAddr, externalURL, webhookURL string, mp metric.MeterProvider, out io.Writer, safe *safety) (c *pingxx.Client, emulatorURL string, webhookKey *rsa.PublicKey, closer func(), err error) {
	if key := getenv("PINGPP_SECRET_KEY"); key != "" {
		cfg := pingxx.Config{SecretKey: key, AppID: getenv("PINGPP_APP_ID"), BaseURL: getenv("PINGPP_API_BASE"), MeterProvider: mp}
		if f := getenv("PINGPP_PRIVATE_KEY_FILE"); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, "", nil, nil, err
			}
			cfg.PrivateKeyPEM = pem
		}
		if f := getenv("PINGPP_PUBLIC_KEY_FILE"); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, "", nil, nil, err
			}
			if webhookKey, err = pingxx.ParsePublicKey(pem); err != nil {
				return nil, "", nil, nil, err
			}
		}
		c, err = pingxx.NewClient(cfg)
		if err != nil {
			return nil, "", nil, nil, err
		}
		fmt.Fprintf(out, "payorder: Ping++ at %s, app %s\n", orDefault(cfg.BaseURL, pingxx.DefaultBaseURL), cfg.AppID)
		if webhookKey == nil {
			fmt.Fprintln(out, "payorder: PINGPP_PUBLIC_KEY_FILE not set: webhooks are not received, payments are found by reconciliation only")
		}
		return c, "", webhookKey, func() {}, nil
	}
	if externalURL != "" {
		key, err := safe.externalEmulatorKey()
		if err != nil {
			return nil, "", nil, nil, err
		}
		externalURL = strings.TrimSuffix(externalURL, "/")
		c, err = pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID, BaseURL: externalURL + "/v1", MeterProvider: mp})
		if err != nil {
			return nil, "", nil, nil, err
		}
		fmt.Fprintf(out, "payorder: external Ping++ emulator at %s, app %s (start it with -webhook-url %s)\n", externalURL, pingpptest.DefaultAppID, webhookURL)
		return c, externalURL, key, func() {}, nil
	}
	signer, err := webhookkey.Generate() // for this run: the published key would let anyone pay
	if err != nil {
		return nil, "", nil, nil, err
	}
	emu, err := pingpptest.Listen(pingpptest.Config{WebhookURL: webhookURL, WebhookPrivateKeyPEM: signer}, emulatorAddr)
	if err != nil {
		return nil, "", nil, nil, fmt.Errorf("embedded Ping++ emulator: %w", err)
	}
	c, err = pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID, BaseURL: emu.APIBase(), MeterProvider: mp})
	if err != nil {
		emu.Close()
		return nil, "", nil, nil, err
	}
	fmt.Fprintf(out, "payorder: embedded Ping++ emulator at %s (pay a charge: curl '%s/notify/charges/<ch id>?livemode=false')\n", emu.URL, emu.URL)
	return c, emu.URL, emu.WebhookPublicKey(), emu.Close, nil
}

// parseChannels reads the -channels flag.
func parseChannels(list string) ([]channel.Channel, error) {
	var out []channel.Channel
	for _, s := range strings.Split(list, ",") {
		ch := channel.Channel(strings.TrimSpace(s))
		if !ch.Known() {
			return nil, fmt.Errorf("-channels: %q is not a Ping++ channel", ch)
		}
		out = append(out, ch)
	}
	return out, nil
}

// reconcileEvery repairs lost webhooks: every interval it looks up, at
// Ping++, the orders with charges that may have been paid.
func reconcileEvery(ctx context.Context, interval time.Duration, svc *pay.Service, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := svc.Reconcile(ctx, time.Hour); err != nil {
				logger.WarnContext(ctx, "reconcile", "err", err)
			}
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
