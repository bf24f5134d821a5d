package pay_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay"
)

// BenchmarkPayForOrderInstrumented compares the reuse path (a live charge,
// no Ping++ call) of a Service instrumented with the real SDK (a meter
// provider read by a ManualReader, a tracer provider sampling every span
// into an exporter that drops them) with the same path on a Service given
// no provider. The two run in alternating chunks on one ledger, so that the
// noise of a shared machine falls on both alike; it reports
// instrumented/none, the cost of the instrumentation as a ratio (goal: at
// most 1.05). In "sync" the spans go to the exporter as they end
// (sdktrace.WithSyncer); in "batch" through the batching processor
// production uses, whose goroutine and queue of spans add their own cost.
//
// In "endpoint" the same two Services serve the reuse path through
// PUT /pay/pay_for_order/ over HTTP (httptest, one keep-alive connection),
// with spans exported as they end: what a repeat of a mobile client costs.
func BenchmarkPayForOrderInstrumented(b *testing.B) {
	direct := func(b *testing.B, _ *env, svc *pay.Service) func() error {
		return func() error {
			_, err := svc.PayForOrder(b.Context(), seedOrderNo, channel.Alipay, pay.ForBuyer(seedBuyer))
			return err
		}
	}
	b.Run("sync", func(b *testing.B) {
		benchmarkInstrumented(b, sdktrace.WithSyncer(tracetest.NewNoopExporter()), direct)
	})
	b.Run("batch", func(b *testing.B) {
		benchmarkInstrumented(b, sdktrace.WithBatcher(tracetest.NewNoopExporter()), direct)
	})
	b.Run("endpoint", func(b *testing.B) {
		benchmarkInstrumented(b, sdktrace.WithSyncer(tracetest.NewNoopExporter()), overHTTP)
	})
}

// overHTTP makes a call of svc's endpoint on the reuse path, over HTTP.
func overHTTP(b *testing.B, e *env, svc *pay.Service) func() error {
	srv := httptest.NewServer(pay.NewHandler(svc, tokens))
	b.Cleanup(srv.Close)
	client := srv.Client()
	body := "order_no=" + seedOrderNo + "&channel=alipay"
	want := len(e.payForm(b, seedToken, seedOrderNo, "alipay").body)
	return func() error { return putOnce(client, srv.URL, body, want) }
}

func benchmarkInstrumented(b *testing.B, spans sdktrace.TracerProviderOption, caller func(b *testing.B, e *env, svc *pay.Service) func() error) {
	e := setup(b)
	k := &telemetryKit{reader: sdkmetric.NewManualReader()}
	k.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.reader))
	k.tp = sdktrace.NewTracerProvider(spans)
	b.Cleanup(func() {
		k.mp.Shutdown(context.Background())
		k.tp.Shutdown(context.Background())
	})
	plain, instr := caller(b, e, e.svc), caller(b, e, instrumented(b, e, k))
	for _, call := range []func() error{plain, instr} {
		if err := call(); err != nil {
			b.Fatal(err)
		}
	}
	created := e.emu.Stats().ChargesCreated
	run := func(call func() error, n int) time.Duration {
		start := time.Now()
		for range n {
			if err := call(); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	// The ratio is the median of the chunks' ratios: a burst of another
	// process's work spoils a few chunks, not the figure.
	const chunk = 50
	var ratios []float64
	b.ResetTimer()
	for i := 0; i < b.N; i += chunk {
		n := min(chunk, b.N-i)
		// Alternate which goes first, so that neither always runs on a
		// warmer cache.
		var a, w time.Duration
		if i/chunk%2 == 0 {
			a = run(plain, n)
			w = run(instr, n)
		} else {
			w = run(instr, n)
			a = run(plain, n)
		}
		ratios = append(ratios, float64(w)/float64(a))
	}
	b.StopTimer()
	if e.emu.Stats().ChargesCreated != created {
		b.Fatal("reuse created charges")
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "instrumented/none")
}
