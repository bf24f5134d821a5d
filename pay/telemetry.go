package pay

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
)

// instrumentationName names the meter and the tracer of package pay.
const instrumentationName = "github.com/yianpay/payorder/pay"

// Attribute keys. Every value is drawn from a small fixed set (channels,
// outcomes, error codes, anomaly kinds, hook names, event types): never an
// order number, a buyer, a charge id, a token or a key.
const (
	keyChannel    = attribute.Key("channel")
	keyOutcome    = attribute.Key("outcome")
	keyReason     = attribute.Key("reason")
	keyPath       = attribute.Key("path")
	keyTrigger    = attribute.Key("trigger")
	keyResolution = attribute.Key("resolution")
	keyType       = attribute.Key("type")
	keyKind       = attribute.Key("kind")
	keyHook       = attribute.Key("hook")
)

// The paths of a PayForOrder call (attribute path).
const (
	pathRejected = "rejected" // answered before a live charge was looked for or an attempt begun
	pathReuse    = "reuse"    // a live charge from the ledger, no Ping++ call
	pathCreate   = "create"   // an attempt: Ping++ asked, or another caller's attempt waited for
)

// The outcomes of a webhook event (attribute outcome of payorder.webhook.events).
const (
	eventApplied   = "applied"   // the payment or refund is recorded
	eventDuplicate = "duplicate" // recorded before: nothing changed
	eventIgnored   = "ignored"   // another app or mode, an unpaid charge, an unknown type
	eventAnomaly   = "anomaly"   // kept as an anomaly for a person
	eventRefused   = "refused"   // bad or missing signature, oversized or unreadable body: answered 4xx
	eventFailed    = "failed"    // the ledger or a hook failed: answered 500, Ping++ delivers it again
)

// The hooks (attribute hook).
const (
	hookOnPaid     = "on_paid"
	hookOnPaidTx   = "on_paid_tx"
	hookOnAnomaly  = "on_anomaly"
	hookOnRefunded = "on_refunded"
)

// Unknown outcomes of a create: what made the outcome unknown (trigger) and
// what became of it (resolution).
const (
	triggerNoAnswer = "no_answer" // Ping++ gave no usable answer to the create
	triggerTakeover = "takeover"  // the attempt's holder is gone; another caller took it over

	resolvedByRepeat  = "found_by_repeat"  // the identical create, repeated inside Ping++'s window, answered the charge
	resolvedByListing = "found_by_listing" // listing the app's charges around the attempt found it
	resolvedLost      = "lost"             // the listing proves no charge was made: the order may be charged again
	resolvedLeftOpen  = "left_open"        // not found yet: the attempt waits for the next caller or Reconcile
	resolvedMismatch  = "mismatched"       // Ping++ listed charges that differ from the request
)

// durationBuckets are the histogram boundaries, in seconds: from a reuse
// (tens of microseconds) to a Ping++ create that waits out its timeout.
func durationBuckets() []float64 {
	return []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
}

// telemetry holds the Service's instruments and the attribute sets of its
// hot path, computed once so that a reuse allocates nothing for them.
type telemetry struct {
	tracer trace.Tracer
	// traced is false when no TracerProvider was given: PayForOrder then
	// starts no span at all, not even a no-op one, which would cost a
	// context.
	traced bool

	charges      metric.Int64Counter
	payDuration  metric.Float64Histogram
	unknown      metric.Int64Counter
	events       metric.Int64Counter
	anomalies    metric.Int64Counter
	hooks        metric.Int64Counter
	hookDuration metric.Float64Histogram
	refunds      metric.Int64Counter
	passes       metric.Int64Counter
	passOrders   metric.Int64Counter

	channels map[channel.Channel]*channelTelemetry
	unknownC *channelTelemetry // a channel payorder does not know

	// gauges is the registration of the ledger gauges' callback, nil
	// when it failed; close unregisters it once.
	gauges     metric.Registration
	closeOnce  sync.Once
	closeError error
}

// close unregisters the ledger gauges; later calls return the first one's
// error.
func (t *telemetry) close() error {
	t.closeOnce.Do(func() {
		if t.gauges != nil {
			t.closeError = t.gauges.Unregister()
		}
	})
	return t.closeError
}

// channelTelemetry is what a PayForOrder call on one channel records with.
type channelTelemetry struct {
	name      string
	reused    []metric.AddOption
	created   []metric.AddOption
	durations [3][]metric.RecordOption // by path: rejected, reuse, create
	endAttrs  [3][]attribute.KeyValue  // span attributes of a success (channel, path), set at its end in one call; status unset means ok
}

// pathIndex is the index of a path in channelTelemetry's arrays.
func pathIndex(path string) int {
	switch path {
	case pathReuse:
		return 1
	case pathCreate:
		return 2
	}
	return 0
}

// newTelemetry makes the instruments of a Service from mp and tp; nil
// providers mean no-op ones (nothing global is read), so an uninstrumented
// Service pays only for no-op calls. It registers the ledger gauges on l.
func newTelemetry(mp metric.MeterProvider, tp trace.TracerProvider, l ledger.Ledger) (*telemetry, error) {
	if mp == nil {
		mp = metricnoop.NewMeterProvider()
	}
	traced := tp != nil
	if !traced {
		tp = tracenoop.NewTracerProvider()
	}
	m := mp.Meter(instrumentationName)
	t := &telemetry{tracer: tp.Tracer(instrumentationName), traced: traced, channels: make(map[channel.Channel]*channelTelemetry)}
	seconds := []metric.Float64HistogramOption{metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(durationBuckets()...)}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string) metric.Float64Histogram {
		h, err := m.Float64Histogram(name, append(seconds, metric.WithDescription(desc))...)
		errs = append(errs, err)
		return h
	}
	t.charges = counter("payorder.charges", "{call}", "PayForOrder calls by outcome: created, reused or failed (reason: the payorder error code)")
	t.payDuration = histogram("payorder.pay_for_order.duration", "PayForOrder latency by path: reuse, create or rejected")
	t.unknown = counter("payorder.charge.unknown_outcomes", "{attempt}", "Creates whose outcome was unknown, by trigger and by how each was resolved")
	t.events = counter("payorder.webhook.events", "{event}", "Webhook events by type and outcome")
	t.anomalies = counter("payorder.anomalies", "{anomaly}", "Anomalies recorded, by kind")
	t.hooks = counter("payorder.hook.runs", "{run}", "Runs of the host's hooks by hook and outcome")
	t.hookDuration = histogram("payorder.hook.duration", "Duration of the host's hooks by hook and outcome")
	t.refunds = counter("payorder.refunds", "{refund}", "Refunds by outcome")
	t.passes = counter("payorder.reconcile.passes", "{pass}", "Reconciliation passes by outcome")
	t.passOrders = counter("payorder.reconcile.orders", "{order}", "Orders with open work found by reconciliation passes, by outcome of their sync")
	gauges, err := registerLedgerGauges(m, l)
	t.gauges = gauges
	errs = append(errs, err)
	for _, ch := range channel.All() {
		t.channels[ch] = newChannelTelemetry(string(ch))
	}
	t.unknownC = newChannelTelemetry("unknown")
	return t, errors.Join(errs...)
}

func newChannelTelemetry(name string) *channelTelemetry {
	c := &channelTelemetry{name: name}
	ch := keyChannel.String(name)
	c.reused = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(ch, keyOutcome.String("reused")))}
	c.created = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(ch, keyOutcome.String("created")))}
	for i, p := range []string{pathRejected, pathReuse, pathCreate} {
		c.durations[i] = []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(ch, keyPath.String(p)))}
		c.endAttrs[i] = []attribute.KeyValue{ch, keyPath.String(p)}
	}
	return c
}

// channel returns the telemetry of ch, that of "unknown" for a channel
// payorder does not know (a request may name anything).
func (t *telemetry) channel(ch channel.Channel) *channelTelemetry {
	if c, ok := t.channels[ch]; ok {
		return c
	}
	return t.unknownC
}

// payCall is one PayForOrder call being measured.
type payCall struct {
	t     *telemetry
	c     *channelTelemetry
	span  trace.Span
	start time.Time
	// path is set by PayForOrder as it goes: pathReuse or pathCreate.
	path string
}

// startPay begins the measure and the span of a PayForOrder call on ch.
func (t *telemetry) startPay(ctx context.Context, ch channel.Channel) (context.Context, payCall) {
	c := t.channel(ch)
	var span trace.Span = tracenoop.Span{}
	if t.traced {
		ctx, span = t.tracer.Start(ctx, "payorder.PayForOrder")
	}
	return ctx, payCall{t: t, c: c, span: span, start: time.Now(), path: pathRejected}
}

// end records the call's outcome: err nil is a charge created or reused
// (by path), else a failure by its payorder error code.
func (p *payCall) end(ctx context.Context, err error) {
	i := pathIndex(p.path)
	p.t.payDuration.Record(ctx, time.Since(p.start).Seconds(), p.c.durations[i]...)
	switch {
	case err != nil:
		code := string(payorder.ErrorCode(err))
		p.t.charges.Add(ctx, 1, metric.WithAttributes(keyChannel.String(p.c.name), keyOutcome.String("failed"), keyReason.String(code)))
		p.span.SetAttributes(keyChannel.String(p.c.name), keyPath.String(p.path), keyOutcome.String("failed"), keyReason.String(code))
		p.span.SetStatus(codes.Error, code) // the code only: messages name orders
	case p.path == pathReuse:
		p.t.charges.Add(ctx, 1, p.c.reused...)
		p.span.SetAttributes(p.c.endAttrs[i]...)
	default:
		p.t.charges.Add(ctx, 1, p.c.created...)
		p.span.SetAttributes(p.c.endAttrs[i]...)
	}
	p.span.End()
}

// unknownOutcome counts an unknown outcome of a create on ch: what made it
// unknown, and its resolution.
func (t *telemetry) unknownOutcome(ctx context.Context, ch channel.Channel, trigger, resolution string) {
	t.unknown.Add(ctx, 1, metric.WithAttributes(keyChannel.String(t.channel(ch).name), keyTrigger.String(trigger), keyResolution.String(resolution)))
	trace.SpanFromContext(ctx).AddEvent("payorder.unknown_outcome", trace.WithAttributes(keyTrigger.String(trigger), keyResolution.String(resolution)))
}

// tookOver counts the resolution of a takeover on ch, unless recording it
// failed because yet another caller took the attempt over (ledger.ErrFenced):
// that caller counts its own.
func (t *telemetry) tookOver(ctx context.Context, ch channel.Channel, resolution string, err error) {
	if !errors.Is(err, ledger.ErrFenced) {
		t.unknownOutcome(ctx, ch, triggerTakeover, resolution)
	}
}

// repeated counts the resolution of a takeover by an identical repeat, when
// the repeat found the charge; a repeat without answer counts itself, as
// triggerNoAnswer, and one Ping++ refuses counts as a failed charge.
func (t *telemetry) repeated(ctx context.Context, ch channel.Channel, found bool) {
	if found {
		t.unknownOutcome(ctx, ch, triggerTakeover, resolvedByRepeat)
	}
}

// eventKey is the context key of the eventCall being handled.
type eventKey struct{}

// eventCall is one webhook event being handled: its outcome is noted by the
// functions that decide it.
type eventCall struct {
	t       *telemetry
	typ     string
	span    trace.Span
	outcome string
}

// startEvent begins the span of an event of type typ and carries the call
// in ctx, for noteEvent.
func (t *telemetry) startEvent(ctx context.Context, typ string) (context.Context, *eventCall) {
	e := &eventCall{t: t, typ: eventType(typ), outcome: eventApplied}
	ctx, e.span = t.tracer.Start(ctx, "payorder.webhook.event", trace.WithAttributes(keyType.String(e.typ)))
	return context.WithValue(ctx, eventKey{}, e), e
}

// noteEvent records the outcome of the event being handled in ctx, if any.
// An anomaly is not overwritten by a later outcome.
func noteEvent(ctx context.Context, outcome string) {
	if e, ok := ctx.Value(eventKey{}).(*eventCall); ok && e.outcome != eventAnomaly {
		e.outcome = outcome
	}
}

// end counts the event by its outcome; err makes it failed.
func (e *eventCall) end(ctx context.Context, err error) {
	if err != nil {
		e.outcome = eventFailed
		e.span.SetStatus(codes.Error, string(payorder.ErrorCode(err)))
	}
	e.t.events.Add(ctx, 1, metric.WithAttributes(keyType.String(e.typ), keyOutcome.String(e.outcome)))
	if e.typ == EventRefundSucceeded && e.outcome == eventApplied {
		e.t.refund(ctx, "succeeded")
	}
	e.span.SetAttributes(keyOutcome.String(e.outcome))
	e.span.End()
}

// eventType is the type attribute of an event: a Ping++ type name as
// signed, or "other" for anything that does not look like one, so that the
// attribute stays small.
func eventType(typ string) string {
	if len(typ) == 0 || len(typ) > 48 {
		return "other"
	}
	for i := 0; i < len(typ); i++ {
		if b := typ[i]; (b < 'a' || b > 'z') && b != '.' && b != '_' {
			return "other"
		}
	}
	return typ
}

// refusedEvent counts a webhook refused before it could be read.
func (t *telemetry) refusedEvent(ctx context.Context) {
	t.events.Add(ctx, 1, metric.WithAttributes(keyType.String("unverified"), keyOutcome.String(eventRefused)))
}

// keepUnreadableEvent is KeepUnreadable for the webhook handler, counted as
// an event of type "unreadable".
func (s *Service) keepUnreadableEvent(ctx context.Context, payload []byte, cause error) (err error) {
	ctx, e := s.tel.startEvent(ctx, "unreadable")
	defer func() { e.end(ctx, err) }()
	return s.KeepUnreadable(ctx, payload, cause)
}

// anomaly counts an anomaly of kind newly recorded, and notes the event
// being handled as an anomaly.
func (t *telemetry) anomaly(ctx context.Context, kind ledger.AnomalyKind) {
	t.anomalies.Add(ctx, 1, metric.WithAttributes(keyKind.String(string(kind))))
	noteEvent(ctx, eventAnomaly)
	trace.SpanFromContext(ctx).AddEvent("payorder.anomaly", trace.WithAttributes(keyKind.String(string(kind))))
}

// payment notes what applying a payment did; a is its anomaly, if any, and
// seen says the charge had been reported paid before (a redelivery, whose
// anomaly is recorded already).
func (t *telemetry) payment(ctx context.Context, outcome ledger.PaymentOutcome, a ledger.Anomaly, seen bool) {
	switch {
	case seen || outcome == ledger.PaymentDuplicate:
		noteEvent(ctx, eventDuplicate)
	case a.ID != "":
		t.anomaly(ctx, a.Kind)
	}
}

// refund counts a refund by outcome. The webhook counts each refund.succeeded
// it records as "succeeded" (its duplicates and anomalies are in
// payorder.webhook.events); the code that asks Ping++ for refunds counts its
// own outcomes here ("requested", "failed", …).
func (t *telemetry) refund(ctx context.Context, outcome string) {
	t.refunds.Add(ctx, 1, metric.WithAttributes(keyOutcome.String(outcome)))
}

// runHook runs one of the host's hooks under a span, and counts and times
// it by outcome.
func (t *telemetry) runHook(ctx context.Context, hook string, fn func(ctx context.Context) error) error {
	ctx, span := t.tracer.Start(ctx, "payorder.hook", trace.WithAttributes(keyHook.String(hook)))
	start := time.Now()
	err := fn(ctx)
	outcome := "ok"
	if err != nil {
		outcome = "failed"
		span.SetStatus(codes.Error, "hook failed") // the host's message may name its order
	}
	set := metric.WithAttributes(keyHook.String(hook), keyOutcome.String(outcome))
	t.hookDuration.Record(ctx, time.Since(start).Seconds(), set)
	t.hooks.Add(ctx, 1, set)
	span.SetAttributes(keyOutcome.String(outcome))
	span.End()
	return err
}

// reconciled counts a reconciliation pass that found due orders with open
// work, failed of which did not sync; listed is false when the ledger could
// not list them.
func (t *telemetry) reconciled(ctx context.Context, due, failed int, listed bool) {
	outcome := "ok"
	if !listed || failed > 0 {
		outcome = "failed"
	}
	t.passes.Add(ctx, 1, metric.WithAttributes(keyOutcome.String(outcome)))
	t.passOrders.Add(ctx, int64(due-failed), metric.WithAttributes(keyOutcome.String("synced")))
	t.passOrders.Add(ctx, int64(failed), metric.WithAttributes(keyOutcome.String("failed")))
}

// countAnomalies counts l's unresolved anomalies: with one count where l
// is a ledger.AnomalyCounter (Memory, PostgreSQL, MySQL), else by listing
// them.
func countAnomalies(ctx context.Context, l ledger.Ledger) (int, error) {
	if c, ok := l.(ledger.AnomalyCounter); ok {
		return c.CountUnresolved(ctx)
	}
	all, err := l.Anomalies(ctx)
	n := 0
	for _, a := range all {
		if a.Resolved.IsZero() {
			n++
		}
	}
	return n, err
}

// gaugeTimeout bounds the ledger reads of one collection.
const gaugeTimeout = 5 * time.Second

// registerLedgerGauges registers the gauges read from l at each collection:
// orders with open work (Due, whose cost follows the open work) and
// anomalies not resolved, each waiting for a person. A collection that
// cannot read the ledger observes nothing.
func registerLedgerGauges(m metric.Meter, l ledger.Ledger) (metric.Registration, error) {
	open, err1 := m.Int64ObservableGauge("payorder.ledger.orders_open", metric.WithUnit("{order}"),
		metric.WithDescription("Orders with open work in the ledger: an open payment attempt, a refund not finished, or a hook that has not succeeded"))
	anomalies, err2 := m.Int64ObservableGauge("payorder.ledger.anomalies", metric.WithUnit("{anomaly}"),
		metric.WithDescription("Anomalies recorded in the ledger and not resolved, each waiting for a person"))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, gaugeTimeout)
		defer cancel()
		// Only orders whose DueUntil is ledger.Forever (an open attempt, a
		// refund not finished, a hook that has not succeeded) are after a
		// second before it, never an unpaid charge's expiry; a second,
		// because the SQL ledgers keep microseconds.
		due, err1 := l.Due(ctx, ledger.Forever.Add(-time.Second))
		if err1 == nil {
			o.ObserveInt64(open, int64(len(due)))
		}
		n, err2 := countAnomalies(ctx, l)
		if err2 == nil {
			o.ObserveInt64(anomalies, int64(n))
		}
		return errors.Join(err1, err2)
	}, open, anomalies)
}
