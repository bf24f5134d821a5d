package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yianpay/payorder/examples/internal/webhookkey"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// syncBuffer is a bytes.Buffer safe for the receiver and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestReceivesEmulatorWebhooks pays a charge at the emulator and checks that
// the receiver acknowledged the signed event and rejects a forged one.
func TestReceivesEmulatorWebhooks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	addrc, done := make(chan string, 1), make(chan error, 1)
	signer, keyFile := runKey(t)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-public-key", keyFile}, &out, func(a string) { addrc <- a })
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	addr := <-addrc

	emu := pingpptest.NewServer(pingpptest.Config{WebhookURL: "http://" + addr + "/webhooks", WebhookPrivateKeyPEM: signer})
	defer emu.Close()
	client, err := pingxx.NewClient(pingxx.Config{SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID, BaseURL: emu.APIBase(), HTTPClient: emu.Client()})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := client.CreateCharge(ctx, &pingxx.ChargeParams{OrderNo: "12134676899915430002", Channel: "alipay", Amount: 9900, Currency: "cny", ClientIP: "127.0.0.1", Subject: "s", Body: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Pay(ch.ID); err != nil {
		t.Fatal(err)
	}
	deliveries, err := emu.WaitDeliveries(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !deliveries[0].OK() {
		t.Fatalf("delivery answered %d", deliveries[0].Status)
	}
	if !strings.Contains(out.String(), "charge "+ch.ID+" paid 9900 cny") {
		t.Errorf("output:\n%s", out.String())
	}
	forged, err := emu.DeliverRaw(ctx, bytes.Replace(deliveries[0].Payload, []byte("9900"), []byte("1"), 1), deliveries[0].Signature)
	if err != nil {
		t.Fatal(err)
	}
	if forged.Status != 400 {
		t.Errorf("forged event answered %d, want 400", forged.Status)
	}
}

// runKey makes a webhook key for the test's emulator and writes its public
// half where the receiver reads it.
func runKey(t *testing.T) (signer []byte, publicFile string) {
	t.Helper()
	signer, err := webhookkey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	k, err := pingxx.ParsePrivateKey(signer)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	publicFile = filepath.Join(t.TempDir(), "webhook.pem")
	if err := os.WriteFile(publicFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return signer, publicFile
}

// TestRefusesPublishedKey: the receiver does not start without a key, nor
// with pingpptest's published one.
func TestRefusesPublishedKey(t *testing.T) {
	published := filepath.Join(t.TempDir(), "published.pem")
	if err := os.WriteFile(published, []byte(pingpptest.WebhookPublicKeyPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{"NoKey": nil, "Published": {"-public-key", published}} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, func(string) {
				t.Error("the receiver started")
			})
			if err == nil {
				t.Fatal("run returned nil")
			}
			if name == "Published" && !errors.Is(err, webhookkey.ErrPublished) {
				t.Errorf("run: %v, want webhookkey.ErrPublished", err)
			}
		})
	}
}
