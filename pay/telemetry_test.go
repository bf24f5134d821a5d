package pay_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// telemetryKit is an SDK meter provider read by a ManualReader and a tracer
// provider exporting to memory: what a test reads the instrumentation with.
type telemetryKit struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
}

func newTelemetryKit(t testing.TB) *telemetryKit {
	t.Helper()
	k := &telemetryKit{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter()}
	k.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.reader))
	k.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(k.spans))
	t.Cleanup(func() {
		k.mp.Shutdown(context.Background())
		k.tp.Shutdown(context.Background())
	})
	return k
}

// configure instruments a setup's Service with the kit.
func (k *telemetryKit) configure(c *pay.Config, _ *pingpptest.Config) {
	c.MeterProvider, c.TracerProvider = k.mp, k.tp
}

// collect reads every metric once.
func (k *telemetryKit) collect(t testing.TB) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := k.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]metricdata.Aggregation)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// counts are the values of the points of a counter, a gauge or a
// histogram's count, keyed by their attributes ("k=v,k=v", sorted).
type counts map[string]int64

func (k *telemetryKit) counts(t testing.TB, name string) counts {
	t.Helper()
	out := counts{}
	switch d := k.collect(t)[name].(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			if p.Value != 0 {
				out[attrString(p.Attributes)] = p.Value
			}
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out[attrString(p.Attributes)] = p.Value
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out[attrString(p.Attributes)] = int64(p.Count)
		}
	case nil:
	default:
		t.Fatalf("metric %s is a %T", name, d)
	}
	return out
}

func attrString(s attribute.Set) string {
	var b []byte
	for i, kv := range s.ToSlice() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, kv.Key...)
		b = append(b, '=')
		b = append(b, kv.Value.Emit()...)
	}
	return string(b)
}

// spanCounts counts the ended spans by name and outcome: the outcome
// attribute where there is one, else "failed" for an error status, "ok"
// for a PayForOrder span without one.
func (k *telemetryKit) spanCounts() counts {
	out := counts{}
	for _, s := range k.spans.GetSpans() {
		key := s.Name
		for _, a := range s.Attributes {
			if a.Key == "outcome" {
				key += " " + a.Value.Emit()
			}
		}
		if key == "payorder.PayForOrder" && s.Status.Code != codes.Error {
			key += " ok"
		}
		out[key]++
	}
	return out
}

// instrumented is a Service on e's store, ledger and emulator whose Ping++
// client is instrumented by k too.
func instrumented(t testing.TB, e *env, k *telemetryKit) *pay.Service {
	t.Helper()
	client, err := pingxx.NewClient(pingxx.Config{
		SecretKey: pingpptest.DefaultSecretKey, AppID: pingpptest.DefaultAppID,
		BaseURL: e.emu.APIBase(), HTTPClient: e.emu.Client(), Now: e.clock.Now, RetryBackoff: time.Millisecond,
		MeterProvider: k.mp, TracerProvider: k.tp,
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, Now: e.clock.Now,
		Channels:      []channel.Channel{channel.Alipay, channel.Wx},
		MeterProvider: k.mp, TracerProvider: k.tp,
	}, e.store, e.ledger, client)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestTelemetryOfPayForOrder: a create, a reuse, a failed create and an
// unknown outcome resolved by listing are counted, timed by path and traced,
// with the Ping++ requests as children of PayForOrder's span.
func TestTelemetryOfPayForOrder(t *testing.T) {
	e := setup(t)
	k := newTelemetryKit(t)
	svc := instrumented(t, e, k)
	pay1 := func(no string, ch channel.Channel) error {
		_, err := svc.PayForOrder(t.Context(), no, ch, pay.AsServer())
		return err
	}
	if err := pay1(seedOrderNo, channel.Alipay); err != nil {
		t.Fatal(err)
	}
	if err := pay1(seedOrderNo, channel.Alipay); err != nil {
		t.Fatal(err)
	}
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultCustom, Status: 402, Times: 1,
		Body: `{"error":{"type":"channel_error","message":"对支付渠道的请求未能成功。"}}`})
	if err := pay1(otherOrderNo, channel.Alipay); err == nil {
		t.Fatal("a refused create succeeded")
	}
	// Ping++ makes the charge, but every answer to the create is lost.
	e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultReset, After: true})
	if err := pay1(seedOrderNo, channel.Wx); err != nil {
		t.Fatalf("the charge of an unanswered create was not found: %v", err)
	}
	e.emu.ClearFaults()
	if err := pay1("99999999999999999999", channel.Alipay); err == nil {
		t.Fatal("an unknown order was charged")
	}

	for _, tc := range []struct {
		metric string
		want   counts
	}{
		{"payorder.charges", counts{
			"channel=alipay,outcome=created":                       1,
			"channel=alipay,outcome=reused":                        1,
			"channel=alipay,outcome=failed,reason=payment_failed":  1,
			"channel=wx,outcome=created":                           1,
			"channel=alipay,outcome=failed,reason=order_not_found": 1,
		}},
		{"payorder.pay_for_order.duration", counts{
			"channel=alipay,path=create":   2,
			"channel=alipay,path=reuse":    1,
			"channel=alipay,path=rejected": 1,
			"channel=wx,path=create":       1,
		}},
		{"payorder.charge.unknown_outcomes", counts{"channel=wx,resolution=found_by_listing,trigger=no_answer": 1}},
		{"payorder.pingxx.request.duration", counts{
			"route=POST /v1/charges,status_code=200": 1,
			"route=POST /v1/charges,status_code=402": 1,
			"route=POST /v1/charges,status_code=0":   3, // the first send and two retries, all unanswered
			"route=GET /v1/charges,status_code=200":  1, // the lookup
		}},
		{"payorder.pingxx.retries", counts{"route=POST /v1/charges": 2}},
		{"payorder.ledger.orders_open", counts{"": 0}},
	} {
		t.Run(tc.metric, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, k.counts(t, tc.metric)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("spans", func(t *testing.T) {
		want := counts{
			"payorder.PayForOrder ok": 3, "payorder.PayForOrder failed": 2,
			"pingxx POST /v1/charges": 3, "pingxx GET /v1/charges": 1,
		}
		if diff := cmp.Diff(want, k.spanCounts()); diff != "" {
			t.Errorf("spans (-want +got):\n%s", diff)
		}
		parents := map[trace.SpanID]string{}
		for _, s := range k.spans.GetSpans() {
			parents[s.SpanContext.SpanID()] = s.Name
		}
		for _, s := range k.spans.GetSpans() {
			if s.SpanKind == trace.SpanKindClient && parents[s.Parent.SpanID()] != "payorder.PayForOrder" {
				t.Errorf("span %s has parent %q, want payorder.PayForOrder", s.Name, parents[s.Parent.SpanID()])
			}
			if s.Name == "pingxx POST /v1/charges" && len(s.Events) != 0 && s.Events[0].Name != "retry" {
				t.Errorf("span %s has events %v, want retries", s.Name, s.Events)
			}
		}
	})
}

// TestTelemetryOfWebhooks: an applied event, a duplicate, a double payment
// (an anomaly), a failed hook, a refund delivered twice, an event type
// payorder ignores and an unsigned body are counted by type and outcome;
// the anomaly by kind and in the gauge; hook runs by outcome.
func TestTelemetryOfWebhooks(t *testing.T) {
	k := newTelemetryKit(t)
	e := setupWebhooks(t, true, k.configure)
	alipay := e.charge(t, seedOrderNo, channel.Alipay)
	wx := e.charge(t, seedOrderNo, channel.Wx)
	paid := e.payCharge(t, alipay.ID)
	for _, evt := range []string{paid, paid, e.payCharge(t, wx.ID)} {
		if d := e.deliver(t, evt); !d.OK() {
			t.Fatalf("answered %d", d.Status)
		}
	}
	e.hooks.setOnPaid(func(pay.Fulfilment) error { return errors.New("course service down") })
	failing := e.charge(t, otherOrderNo, channel.Alipay)
	if d := e.deliver(t, e.payCharge(t, failing.ID)); d.Status != http.StatusInternalServerError {
		t.Fatalf("a failed hook answered %d, want 500", d.Status)
	}
	refunded := e.refund(t, alipay.ID, 100)
	for range 2 {
		if d := e.deliver(t, refunded); !d.OK() {
			t.Fatalf("refund answered %d", d.Status)
		}
	}
	if err := e.svc.HandleEvent(t.Context(), &pingxx.Event{ID: "evt_transfer", Type: "transfer.succeeded"}); err != nil {
		t.Fatal(err)
	}
	wh, err := pay.NewWebhookHandler(e.svc, e.emu.WebhookPublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if code := e.postEvent(t, wh, paid, "X-Unsigned"); code != http.StatusBadRequest {
		t.Fatalf("unsigned event answered %d", code)
	}

	for _, tc := range []struct {
		metric string
		want   counts
	}{
		{"payorder.webhook.events", counts{
			"outcome=applied,type=charge.succeeded":   1,
			"outcome=duplicate,type=charge.succeeded": 1,
			"outcome=anomaly,type=charge.succeeded":   1,
			"outcome=failed,type=charge.succeeded":    1,
			"outcome=refused,type=unverified":         1,
			"outcome=applied,type=refund.succeeded":   1,
			"outcome=duplicate,type=refund.succeeded": 1,
			"outcome=ignored,type=transfer.succeeded": 1,
		}},
		{"payorder.refunds", counts{"outcome=succeeded": 1}},
		{"payorder.anomalies", counts{"kind=double_payment": 1}},
		{"payorder.ledger.anomalies", counts{"": 1}},
		{"payorder.ledger.orders_open", counts{"": 1}}, // the order whose hook failed
		{"payorder.hook.runs", counts{
			"hook=on_paid,outcome=ok":     1,
			"hook=on_paid,outcome=failed": 1,
			"hook=on_anomaly,outcome=ok":  1,
		}},
		{"payorder.hook.duration", counts{
			"hook=on_paid,outcome=ok":     1,
			"hook=on_paid,outcome=failed": 1,
			"hook=on_anomaly,outcome=ok":  1,
		}},
	} {
		t.Run(tc.metric, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, k.counts(t, tc.metric)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("spans", func(t *testing.T) {
		got := k.spanCounts()
		for name, n := range map[string]int64{
			"payorder.webhook.event applied": 2, "payorder.webhook.event duplicate": 2, // a payment and a refund each
			"payorder.webhook.event ignored": 1,
			"payorder.webhook.event anomaly": 1, "payorder.webhook.event failed": 1,
			"payorder.hook ok": 2, "payorder.hook failed": 1,
		} {
			if got[name] != n {
				t.Errorf("%d spans %q, want %d (all: %v)", got[name], name, n, got)
			}
		}
	})

	// Reconciliation finds the order whose hook failed and runs it again.
	e.hooks.setOnPaid(func(pay.Fulfilment) error { return nil })
	if err := e.svc.Reconcile(t.Context(), time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		metric string
		want   counts
	}{
		{"payorder.reconcile.passes", counts{"outcome=ok": 1}},
		{"payorder.reconcile.orders", counts{"outcome=synced": 1}}, // the order whose hook failed
		{"payorder.ledger.orders_open", counts{"": 0}},
	} {
		t.Run("reconcile/"+tc.metric, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, k.counts(t, tc.metric)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestTelemetryOfTakeover: an attempt whose holder vanished (its create
// reached nobody and its lookup failed) is resolved by the next caller: by
// an identical repeat inside Ping++'s window, or after it by a listing that
// finds no charge, so the attempt is lost and a new charge created.
func TestTelemetryOfTakeover(t *testing.T) {
	for _, tc := range []struct {
		name       string
		after      time.Duration
		resolution string
	}{
		{"found_by_repeat", 0, "found_by_repeat"},
		{"lost", 2 * time.Minute, "lost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			k := newTelemetryKit(t)
			e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultReset})
			e.emu.Fail(pingpptest.Fault{Route: pingpptest.RouteListCharges, Kind: pingpptest.FaultHTTP503JSON})
			if _, err := e.svc.PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer()); err == nil {
				t.Fatal("PayForOrder succeeded without Ping++")
			}
			e.emu.ClearFaults()
			e.clock.Advance(tc.after)
			if _, err := instrumented(t, e, k).PayForOrder(t.Context(), seedOrderNo, channel.Alipay, pay.AsServer()); err != nil {
				t.Fatal(err)
			}
			want := counts{"channel=alipay,resolution=" + tc.resolution + ",trigger=takeover": 1}
			if diff := cmp.Diff(want, k.counts(t, "payorder.charge.unknown_outcomes")); diff != "" {
				t.Errorf("unknown outcomes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(counts{"channel=alipay,outcome=created": 1}, k.counts(t, "payorder.charges")); diff != "" {
				t.Errorf("charges (-want +got):\n%s", diff)
			}
		})
	}
}

// dueCounter is a ledger that counts its Due calls: the gauges' reads.
type dueCounter struct {
	ledger.Ledger
	calls atomic.Int64
}

func (d *dueCounter) Due(ctx context.Context, since time.Time) ([]string, error) {
	d.calls.Add(1)
	return d.Ledger.Due(ctx, since)
}

// A closed Service no longer reads its ledger for the gauges, so that one
// that replaces it on the same provider is the only one reporting them.
func TestCloseUnregistersTheLedgerGauges(t *testing.T) {
	k := newTelemetryKit(t)
	e := setup(t)
	old := &dueCounter{Ledger: e.ledger}
	newService := func(l ledger.Ledger) *pay.Service {
		svc, err := pay.New(pay.Config{AppID: pingpptest.DefaultAppID, MeterProvider: k.mp}, e.store, l, e.client)
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	replaced := newService(old)
	k.collect(t)
	if n := old.calls.Load(); n != 1 {
		t.Fatalf("one collection read the ledger %d times, want 1", n)
	}
	for range 2 {
		if err := replaced.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if got := k.collect(t)["payorder.ledger.orders_open"]; got != nil {
		t.Errorf("after Close, orders_open is still reported: %+v", got)
	}
	current := &dueCounter{Ledger: e.ledger}
	newService(current)
	if got := k.counts(t, "payorder.ledger.orders_open"); !cmp.Equal(got, counts{"": 0}) {
		t.Errorf("orders_open = %v, want one point of 0", got)
	}
	if o, c := old.calls.Load(), current.calls.Load(); o != 1 || c != 1 {
		t.Errorf("ledger reads after Close: closed Service %d (want 1, before Close), current %d (want 1)", o, c)
	}
}
