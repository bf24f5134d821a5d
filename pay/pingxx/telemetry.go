package pingxx

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName names the meter and the tracer of package pingxx.
const instrumentationName = "github.com/yianpay/payorder/pay/pingxx"

// Attribute keys: a route is a template ("GET /v1/charges/{id}"), never a
// charge id, an order number or a key.
const (
	keyRoute      = attribute.Key("route")
	keyStatusCode = attribute.Key("status_code")
	keyAttempt    = attribute.Key("attempt")
	keyWait       = attribute.Key("wait_seconds")
)

// requestBuckets are the latency histogram's boundaries, in seconds.
func requestBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
}

// telemetry holds the Client's instruments.
type telemetry struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	retries  metric.Int64Counter
}

// newTelemetry makes the Client's instruments from mp and tp; nil means
// no-op (nothing global is read).
func newTelemetry(mp metric.MeterProvider, tp trace.TracerProvider) (*telemetry, error) {
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	if tp == nil {
		tp = tracenoop.NewTracerProvider()
	}
	m := mp.Meter(instrumentationName)
	duration, err1 := m.Float64Histogram("payorder.pingxx.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Latency of each HTTP request to Ping++ (every attempt, retries included), by route and status code (0: no answer)"),
		metric.WithExplicitBucketBoundaries(requestBuckets()...))
	retries, err2 := m.Int64Counter("payorder.pingxx.retries", metric.WithUnit("{retry}"),
		metric.WithDescription("Requests to Ping++ sent again after a failed attempt, by route"))
	return &telemetry{tracer: tp.Tracer(instrumentationName), duration: duration, retries: retries}, errors.Join(err1, err2)
}

// start begins the span of API call r; its attempts and retries are
// recorded on it.
func (t *telemetry) start(ctx context.Context, r *request) (context.Context, trace.Span, attribute.KeyValue) {
	route := keyRoute.String(routeOf(r.method, r.path))
	ctx, span := t.tracer.Start(ctx, "pingxx "+route.Value.AsString(),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(route))
	return ctx, span, route
}

// attempt records one HTTP attempt of the call on route: its latency by
// status (0 when no answer came).
func (t *telemetry) attempt(ctx context.Context, route attribute.KeyValue, res result, elapsed time.Duration) {
	t.duration.Record(ctx, elapsed.Seconds(), metric.WithAttributes(route, keyStatusCode.Int(res.status)))
}

// retry records that attempt n failed and the call is sent again after wait.
func (t *telemetry) retry(ctx context.Context, span trace.Span, route attribute.KeyValue, n, status int, wait time.Duration) {
	t.retries.Add(ctx, 1, metric.WithAttributes(route))
	span.AddEvent("retry", trace.WithAttributes(keyAttempt.Int(n), keyStatusCode.Int(status), keyWait.Float64(wait.Seconds())))
}

// end closes the call's span with its outcome after attempts attempts.
// Only the error's class is written: messages may carry ids.
func (t *telemetry) end(span trace.Span, attempts, status int, err error) {
	span.SetAttributes(keyAttempt.Int(attempts), keyStatusCode.Int(status))
	var pe *Error
	switch {
	case err == nil:
	case errors.Is(err, ErrOutcomeUnknown):
		span.SetStatus(codes.Error, "outcome unknown")
	case errors.As(err, &pe):
		span.SetStatus(codes.Error, "ping++ error "+strconv.Itoa(pe.HTTPStatus)+" "+pe.Type)
	default:
		span.SetStatus(codes.Error, "failed")
	}
	span.End()
}

// resources are the path segments of Ping++'s API kept in a route; any
// other segment is an id and becomes {id}, so that routes stay few.
func isResource(seg string) bool {
	switch seg {
	case "charges", "refunds", "events", "transfers", "batch_refunds", "batch_transfers", "customers",
		"cards", "orders", "users", "apps", "sub_apps", "channels", "reverse", "pay", "cancel":
		return true
	}
	return false
}

// routeOf is the route template of a request for path under the base URL:
// "GET /v1/charges/{id}".
func routeOf(method, path string) string {
	var b strings.Builder
	b.WriteString(method)
	b.WriteString(" /v1")
	for seg := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		if isResource(seg) {
			b.WriteString(seg)
		} else {
			b.WriteString("{id}")
		}
	}
	return b.String()
}
