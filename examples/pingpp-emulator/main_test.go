package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"

	"github.com/yianpay/payorder/examples/internal/webhookkey"
	"github.com/yianpay/payorder/pay/pingpptest"
)

func TestRunServes(t *testing.T) {
	e := startEmulator(t, "-retry-scale", "0.001")
	if a := e.do(t, "GET", "/v1/charges?app%5Bid%5D="+pingpptest.DefaultAppID, ""); a.status != 200 {
		t.Errorf("GET charges: %d, want 200", a.status)
	}
	var stats pingpptest.Stats
	if err := json.Unmarshal(e.do(t, "GET", "/_emulator/stats", "").body, &stats); err != nil || stats.Requests != 1 {
		t.Errorf("stats = %+v, %v; want the one request served", stats, err)
	}
	// The key of this run, not the published one anyone can sign with.
	if _, err := webhookkey.Read(e.keyFile); err != nil {
		t.Errorf("webhook public key file: %v", err)
	}
	// The cleanup of startEmulator checks that run returns once cancelled.
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
