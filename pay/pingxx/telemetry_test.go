package pingxx_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// TestTelemetry: every HTTP attempt is timed by route template and status,
// a retry is counted and is an event of the call's span, and no id appears
// in a route.
func TestTelemetry(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
	c, srv := emulator(t, func(cfg *pingxx.Config) { cfg.MeterProvider, cfg.TracerProvider = mp, tp })

	srv.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultHTTP502HTML, Times: 1})
	ch, err := c.CreateCharge(t.Context(), params(channel.Alipay))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveCharge(t.Context(), ch.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RetrieveCharge(t.Context(), "ch_doesnotexist0000000000"); err == nil {
		t.Fatal("an unknown charge was found")
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					got[m.Name+" "+attrs(p.Attributes)] = int64(p.Count)
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					got[m.Name+" "+attrs(p.Attributes)] = p.Value
				}
			}
		}
	}
	want := map[string]int64{
		"payorder.pingxx.request.duration route=POST /v1/charges,status_code=502":     1,
		"payorder.pingxx.request.duration route=POST /v1/charges,status_code=200":     1,
		"payorder.pingxx.request.duration route=GET /v1/charges/{id},status_code=200": 1,
		"payorder.pingxx.request.duration route=GET /v1/charges/{id},status_code=404": 1,
		"payorder.pingxx.retries route=POST /v1/charges":                              1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}

	type span struct {
		Name   string
		Events []string
		Failed bool
	}
	var gotSpans []span
	for _, s := range spans.GetSpans() {
		sp := span{Name: s.Name, Failed: s.Status.Code == codes.Error}
		for _, e := range s.Events {
			sp.Events = append(sp.Events, e.Name)
		}
		gotSpans = append(gotSpans, sp)
	}
	wantSpans := []span{
		{Name: "pingxx POST /v1/charges", Events: []string{"retry"}},
		{Name: "pingxx GET /v1/charges/{id}"},
		{Name: "pingxx GET /v1/charges/{id}", Failed: true},
	}
	if diff := cmp.Diff(wantSpans, gotSpans); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
}

func attrs(s attribute.Set) string {
	var out string
	for i, kv := range s.ToSlice() {
		if i > 0 {
			out += ","
		}
		out += string(kv.Key) + "=" + kv.Value.Emit()
	}
	return out
}
