package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yianpay/payorder/examples/internal/webhookkey"
	"github.com/yianpay/payorder/pay/pingpptest"
)

func TestRunServesUntilCancelled(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "webhook.pem")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-retry-scale", "0.001", "-webhook-public-key-out", keyFile}, w, io.Discard)
		w.Close()
	}()
	lines := bufio.NewScanner(out)
	var base string
	for base == "" && lines.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(lines.Text()), "API base:"); ok {
			base = strings.TrimSpace(v)
		}
	}
	go io.Copy(io.Discard, out)
	if base == "" {
		t.Fatalf("no API base printed: %v", <-done)
	}
	req, _ := http.NewRequest("GET", base+"/charges?app%5Bid%5D="+pingpptest.DefaultAppID, nil)
	req.SetBasicAuth(pingpptest.DefaultSecretKey, "")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET charges: %d, want 200", resp.StatusCode)
	}
	resp, err = http.Get(strings.TrimSuffix(base, "/v1") + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	var stats pingpptest.Stats
	err = json.NewDecoder(resp.Body).Decode(&stats)
	resp.Body.Close()
	if err != nil || stats.Requests != 1 {
		t.Errorf("stats = %+v, %v; want the one request served", stats, err)
	}
	// The key of this run, not the published one anyone can sign with.
	if _, err := webhookkey.Read(keyFile); err != nil {
		t.Errorf("webhook public key file: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"UnknownFlag", []string{"-nope"}},
		{"MissingKeyFile", []string{"-addr", "127.0.0.1:0", "-merchant-public-key", "/does/not/exist.pem"}},
		{"BadKeyFile", []string{"-addr", "127.0.0.1:0", "-merchant-public-key", os.Args[0]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := run(context.Background(), tt.args, io.Discard, io.Discard); err == nil {
				t.Error("run succeeded")
			}
		})
	}
}
