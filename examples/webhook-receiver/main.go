// Command webhook-receiver is the smallest correct Ping++ webhook receiver,
// for a backend that wants Ping++'s events without payorder's Service: it
// verifies X-Pingplusplus-Signature over the raw body with Ping++'s public
// key before it decodes anything, answers 2xx only once the event is handled,
// and prints what it received.
//
//	go run ./examples/pingpp-emulator -webhook-url http://127.0.0.1:9000/webhooks -webhook-public-key-out /tmp/emu.pem
//	go run ./examples/webhook-receiver -addr 127.0.0.1:9000 -public-key /tmp/emu.pem
//
// -public-key is required (Ping++'s key from the dashboard, or the file the
// emulator wrote), and pingpptest's published key, whose private half anyone
// can read, is refused.
package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/yianpay/payorder/examples/internal/serve"
	"github.com/yianpay/payorder/examples/internal/webhookkey"
	"github.com/yianpay/payorder/pay/pingxx"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "webhook-receiver:", err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready, when not nil, learns the address.
func run(ctx context.Context, args []string, out io.Writer, ready func(addr string)) error {
	flags := flag.NewFlagSet("webhook-receiver", flag.ContinueOnError)
	flags.SetOutput(out)
	addr := flags.String("addr", "127.0.0.1:9000", "listen address")
	keyFile := flags.String("public-key", "", "PEM file of Ping++'s public key (the dashboard's \"Ping++ 公钥\", or the emulator's -webhook-public-key-out); required")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" {
		return errors.New("-public-key is required: Ping++'s public key, or the file the emulator wrote its key to")
	}
	key, err := webhookkey.Read(*keyFile)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "receiving Ping++ webhooks at http://%s/webhooks\n", l.Addr())
	if ready != nil {
		ready(l.Addr().String())
	}
	return serve.Serve(ctx, l, &receiver{key: key, out: out})
}

// receiver handles POSTed events. A real one would record each event id
// durably before answering, so that redeliveries are recognised.
type receiver struct {
	key *rsa.PublicKey
	mu  sync.Mutex
	out io.Writer
}

func (h *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Read the raw bytes, capped: the signature covers them exactly.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, pingxx.MaxEventBytes))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusRequestEntityTooLarge)
		return
	}
	ev, err := pingxx.ParseEvent(body, r.Header.Get(pingxx.HeaderWebhookSignature), h.key)
	if err != nil {
		http.Error(w, "rejected", http.StatusBadRequest)
		h.printf("rejected a webhook: %v\n", err)
		return
	}
	switch ev.Type {
	case "charge.succeeded":
		ch, err := ev.Charge()
		if err != nil {
			http.Error(w, "unreadable charge", http.StatusBadRequest)
			return
		}
		h.printf("%s %s: charge %s paid %d %s for order %s (transaction %s)\n",
			ev.ID, ev.Type, ch.ID, ch.Amount, ch.Currency, ch.OrderNo, ch.TransactionNo)
	case "refund.succeeded":
		rf, err := ev.Refund()
		if err != nil {
			http.Error(w, "unreadable refund", http.StatusBadRequest)
			return
		}
		h.printf("%s %s: refund %s of %d on charge %s\n", ev.ID, ev.Type, rf.ID, rf.Amount, rf.ChargeID)
	default:
		h.printf("%s %s: ignored\n", ev.ID, ev.Type)
	}
	fmt.Fprintln(w, "ok")
}

func (h *receiver) printf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.out, format, args...)
}
