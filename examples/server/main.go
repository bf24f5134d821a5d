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
// real Ping++ instead of the emulator.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

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

// run serves until ctx is done. ready, when not nil, receives the address the
// endpoint listens on once it accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, ready func(addr string)) error {
	flags := flag.NewFlagSet("server", flag.ContinueOnError)
	flags.SetOutput(out)
	addr := flags.String("addr", "127.0.0.1:8000", "address of the endpoint")
	emulatorAddr := flags.String("emulator-addr", "127.0.0.1:8001", "address of the embedded Ping++ emulator")
	if err := flags.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))

	gw, closeGateway, err := gateway(getenv, *emulatorAddr, out)
	if err != nil {
		return err
	}
	defer closeGateway()

	store, err := seedStore()
	if err != nil {
		return err
	}
	svc, err := pay.New(pay.Config{AppID: gw.AppID(), Logger: logger}, store, gw)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/pay/pay_for_order/", pay.NewHandler(svc, seedTokens))

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "payorder: PUT http://%s/pay/pay_for_order/\n", l.Addr())
	fmt.Fprintf(out, "try:\n  curl -X PUT -H 'Authorization: Token %s' -d 'order_no=%s&channel=alipay' http://%s/pay/pay_for_order/\n",
		seedToken, seedOrderNo, l.Addr())
	if ready != nil {
		ready(l.Addr().String())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(out, "payorder: stopped")
	return nil
}

// gateway returns a Ping++ client for real Ping++ when PINGPP_SECRET_KEY is
// set, and otherwise one for an emulator started on emulatorAddr.
func gateway(getenv func(string) string, emulatorAddr string, out io.Writer) (*pingxx.Client, func(), error) {
	if key := getenv("PINGPP_SECRET_KEY"); key != "" {
		cfg := pingxx.Config{SecretKey: key, AppID: getenv("PINGPP_APP_ID"), BaseURL: getenv("PINGPP_API_BASE")}
		if f := getenv("PINGPP_PRIVATE_KEY_FILE"); f != "" {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, nil, err
			}
			cfg.PrivateKeyPEM = pem
		}
		c, err := pingxx.NewClient(cfg)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(out, "payorder: Ping++ at %s, app %s\n", orDefault(cfg.BaseURL, "https://api.pingxx.com/v1"), cfg.AppID)
		return c, func() {}, nil
	}
	emu, err := pingpptest.Listen(pingpptest.Config{AppIDs: []string{seedAppID}}, emulatorAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("embedded Ping++ emulator: %w", err)
	}
	c, err := pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: seedAppID, BaseURL: emu.APIBase()})
	if err != nil {
		emu.Close()
		return nil, nil, err
	}
	fmt.Fprintf(out, "payorder: embedded Ping++ emulator at %s (pay a charge: curl '%s/notify/charges/<ch id>?livemode=false')\n", emu.URL, emu.URL)
	return c, emu.Close, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
