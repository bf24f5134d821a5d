package pay

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/yianpay/payorder/channel"
)

// Config holds the Service's settings. AppID is required; every other zero
// value works: it enables alipay and wx, gives charges their channel's
// default lifetime, works in test mode and logs nothing.
type Config struct {
	// AppID is the Ping++ app id charges are made for; events of any other
	// app are ignored. Required.
	AppID string
	// Livemode is the Ping++ mode of the secret key: true for sk_live_,
	// false for sk_test_ (pingxx.Client.Livemode tells). Reports of the
	// other mode are ignored, so that a free test payment never pays a real
	// order.
	Livemode bool
	// Channels are the channels buyers may pay with; default alipay and wx.
	Channels []channel.Channel
	// ChargeLifetime is how long a new charge stays payable; it is capped by
	// the channel's maximum (2 h WeChat, 1 h UnionPay) and by the order's own
	// expiry. Zero means the channel's default (one day, capped).
	ChargeLifetime time.Duration
	// ReuseMargin is how much life a charge must have left to be handed out
	// again instead of making a new one; default one minute.
	ReuseMargin time.Duration
	// MaxLiveCharges bounds the live charges of one order (one per channel
	// and extra); a call that would make one more answers
	// payorder.ErrTooManyCharges without asking Ping++. Default 3.
	MaxLiveCharges int
	// LockTTL is the lease of a payment attempt: how long a caller that died
	// while asking Ping++ keeps others waiting before one of them takes the
	// attempt over and finds out what it made. The holder renews it while it
	// waits on Ping++. Default DefaultLockTTL.
	LockTTL time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For and X-Real-IP
	// headers the Handler believes when it takes the buyer's IP address.
	TrustedProxies []netip.Prefix
	// OnPaid lets the host fulfil a paid order (unlock the course); see
	// Fulfilment for what it is told. It is called until it succeeds, on the
	// webhook's delivery or by Reconcile, with the same Fulfilment.ID for the
	// same payment, and never by two callers at once while each is alive:
	// a claim leased by the ledger's clock and renewed while it runs
	// excludes the others, and its context is cancelled when the claim is
	// lost. A process paused past the lease can still be running it when
	// another takes over, and a crash between its success and the record of
	// it runs it again: make its effect idempotent by Fulfilment.ID, or use
	// OnPaidTx.
	OnPaid func(ctx context.Context, f Fulfilment) error
	// OnPaidTx, when set, runs instead of OnPaid inside the ledger
	// transaction that marks the order fulfilled; db is that transaction
	// (pgx.Tx for the PostgreSQL ledger, *sql.Tx for MySQL, nil for
	// ledger.Memory). Whatever it writes through db commits if and only if
	// the order is recorded fulfilled, so its effect happens exactly once,
	// across crashes and database restarts too. It holds the order's ledger
	// row locked while it runs: keep it short.
	OnPaidTx func(ctx context.Context, db any, f Fulfilment) error
	// OnRefunded tells the host that a refund of one of its orders
	// succeeded, whoever asked for it (Service.Refund or the Ping++
	// dashboard); see RefundNotice. It is called as OnPaid is: until it
	// succeeds, on the event's delivery, on Refund's answer or by Reconcile,
	// with the same RefundNotice.ID for the same refund, never by two callers
	// at once while each is alive (a claim leased by the ledger's clock,
	// FulfilmentLease), and not exactly once: make its effect idempotent by
	// RefundNotice.ID.
	OnRefunded func(ctx context.Context, n RefundNotice) error
	// OnAnomaly tells the host about a payment that needs a person: a double
	// payment or a payment of a closed order to refund, an amount or
	// currency mismatch, a payment for an unknown order, a refund sent
	// without an answer and not found since (refund_unconfirmed). It runs
	// after the anomaly is durably recorded, and may run again for the same
	// Anomaly.ID when Ping++ redelivers.
	OnAnomaly func(ctx context.Context, a Anomaly) error
	// FulfilmentLease is the lease of a claim to run OnPaid or OnRefunded,
	// renewed every third of it while the hook runs; default one minute. A
	// hook whose claim could not be renewed for two thirds of it has its
	// context cancelled.
	FulfilmentLease time.Duration
	// Now is the clock of orders' expiry and of charge lifetimes; default
	// time.Now. Leases and claims use the ledger's clock.
	Now func() time.Time
	// Logger receives what the Service did and why it failed; default
	// discards. Errors it returns are logged by whoever answers them (the
	// handlers), not here.
	Logger *slog.Logger
	// MeterProvider receives the Service's metrics (README, "Watching it");
	// nil records none. Nothing global is read or set.
	MeterProvider metric.MeterProvider
	// TracerProvider receives spans of PayForOrder, webhook events and hook
	// runs; nil records none. Nothing global is read or set.
	TracerProvider trace.TracerProvider
}

// DefaultLockTTL is the default Config.LockTTL.
const DefaultLockTTL = 20 * time.Second

// DefaultMaxLiveCharges is the default Config.MaxLiveCharges.
const DefaultMaxLiveCharges = 3

// DefaultChannels are the channels enabled when Config.Channels is empty: the
// two of the documented endpoint.
// It is a function so that no caller can change the default for everyone.
func DefaultChannels() []channel.Channel { return []channel.Channel{channel.Alipay, channel.Wx} }

func (c Config) withDefaults() Config {
	if len(c.Channels) == 0 {
		c.Channels = DefaultChannels()
	}
	if c.ReuseMargin <= 0 {
		c.ReuseMargin = time.Minute
	}
	if c.MaxLiveCharges <= 0 {
		c.MaxLiveCharges = DefaultMaxLiveCharges
	}
	if c.LockTTL <= 0 {
		c.LockTTL = DefaultLockTTL
	}
	if c.FulfilmentLease <= 0 {
		c.FulfilmentLease = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}
