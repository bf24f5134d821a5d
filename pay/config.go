package pay

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Config holds the Service's settings. The zero value works: it enables
// alipay and wx, gives charges their channel's default lifetime and logs nothing.
type Config struct {
	// AppID is the Ping++ app id charges are made for; empty leaves it to the
	// Gateway (a *pingxx.Client fills in its own).
	AppID string
	// Livemode is the Ping++ mode of the key charges are made with: true for
	// sk_live_, false for sk_test_. Nil takes it from the Gateway when it has
	// a Livemode method (a *pingxx.Client has). Webhook handling needs it: a
	// report of the other mode is ignored, so that a free test payment never
	// pays a real order.
	Livemode *bool
	// Channels are the channels buyers may pay with; default alipay and wx.
	Channels []channel.Channel
	// ChargeLifetime is how long a new charge stays payable; it is capped by
	// the channel's maximum (2 h WeChat, 1 h UnionPay) and by the order's own
	// expiry. Zero means the channel's default (one day, capped).
	ChargeLifetime time.Duration
	// ReuseMargin is how much life a charge must have left to be handed out
	// again instead of making a new one; default one minute.
	ReuseMargin time.Duration
	// LockTTL bounds how long a cross-process lock (see Locker) outlives a
	// holder that died; default DefaultLockTTL. Short is better: a holder
	// that died while creating a charge never handed it to a buyer, and the
	// next holder, repeating the create within Ping++'s idempotency window
	// (one minute for most channels), gets that charge instead of a second.
	LockTTL time.Duration
	// TrustedProxies are the networks whose X-Forwarded-For and X-Real-IP
	// headers the Handler believes when it takes the buyer's IP address.
	TrustedProxies []netip.Prefix
	// OnPaid lets the host fulfil a paid order (unlock the course). It runs
	// once per order however many times Ping++ reports the payment, and
	// concurrent reports never run it twice at once, provided it returns
	// within FulfilmentLease: its context ends a little before the lease
	// does. An error makes the report fail, so Ping++ delivers it again and
	// OnPaid runs again; it should therefore be idempotent in the face of a
	// crash between its success and the record of it.
	OnPaid func(ctx context.Context, o order.Order, ch *pingxx.Charge) error
	// OnAnomaly tells the host about a payment that needs a person: a double
	// payment or a payment of a closed order to refund, an amount or
	// currency mismatch, a payment for an unknown order. It runs after the
	// anomaly is durably recorded, and may run again for the same Anomaly.ID
	// when Ping++ redelivers.
	OnAnomaly func(ctx context.Context, a order.Anomaly) error
	// FulfilmentLease bounds how long a claim to run OnPaid blocks other
	// reports of the same payment if its holder dies; default five minutes.
	FulfilmentLease time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives the causes of failures; default discards.
	Logger *slog.Logger
}

// DefaultLockTTL is the default Config.LockTTL.
const DefaultLockTTL = 20 * time.Second

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
	if c.LockTTL <= 0 {
		c.LockTTL = DefaultLockTTL
	}
	if c.FulfilmentLease <= 0 {
		c.FulfilmentLease = 5 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}
