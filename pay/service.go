package pay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Service takes payment for orders. It is safe for concurrent use, and
// several Services (in several processes) may share one ledger.
type Service struct {
	cfg    Config
	orders OrderStore
	ledger ledger.Ledger
	gw     Gateway
	// locks keeps the callers of one process for one order and channel
	// group in line, so that only one of them at a time works the ledger's
	// attempt; the ledger excludes the other processes.
	locks keyedMutex
	tel   *telemetry
}

// Anomaly is a payment that needs a person; see ledger.Anomaly.
type Anomaly = ledger.Anomaly

// New returns a Service that reads the host's orders from orders, keeps its
// records in l and asks Ping++ through gw. cfg.AppID is required.
func New(cfg Config, orders OrderStore, l ledger.Ledger, gw Gateway) (*Service, error) {
	switch {
	case orders == nil || l == nil || gw == nil:
		return nil, errors.New("pay: New needs an order store, a ledger and a gateway")
	case cfg.AppID == "":
		return nil, errors.New("pay: Config.AppID is required: it is the app of new charges, and events of other apps are ignored")
	case cfg.OnPaid != nil && cfg.OnPaidTx != nil:
		return nil, errors.New("pay: set OnPaid or OnPaidTx, not both")
	}
	cfg = cfg.withDefaults()
	for _, c := range cfg.Channels {
		if !c.Known() {
			return nil, fmt.Errorf("pay: config: unknown channel %q", c)
		}
	}
	tel, err := newTelemetry(cfg.MeterProvider, cfg.TracerProvider, l)
	if err != nil {
		tel.close()
		return nil, fmt.Errorf("pay: config: metrics: %w", err)
	}
	return &Service{cfg: cfg, orders: orders, ledger: l, gw: gw, tel: tel}, nil
}

// Close unregisters the ledger gauges (payorder.ledger.orders_open and
// payorder.ledger.anomalies) from Config.MeterProvider, which New registered
// for as long as the provider lives: close a Service before another one
// takes its place on the same provider, or both report the gauges. Nothing
// else is released: the Service, and calls in flight, go on working. Close
// may be called more than once.
func (s *Service) Close() error { return s.tel.close() }

// PayOption tunes one PayForOrder call.
type PayOption func(*payRequest)

type payRequest struct {
	buyer    string
	trusted  bool
	clientIP string
	extra    map[string]any
}

// ForBuyer makes the call act for buyer: an order of anyone else answers
// payorder.ErrOrderNotFound, exactly like a missing one. The Handler always
// acts for the buyer its token belongs to.
func ForBuyer(buyer string) PayOption { return func(r *payRequest) { r.buyer = buyer } }

// AsServer makes the call on behalf of the host itself, trusted to pay any
// order (a back-office tool, a job). A call must say either ForBuyer or
// AsServer, so that no caller skips the ownership check by forgetting it.
func AsServer() PayOption { return func(r *payRequest) { r.trusted = true } }

// ClientIP sets the buyer's IP address sent to Ping++ (WeChat H5 needs the
// real one); default 127.0.0.1.
func ClientIP(ip string) PayOption { return func(r *payRequest) { r.clientIP = ip } }

// Extra sets the channel's extra parameters (success_url for alipay_wap,
// open_id for wx_pub, ...). They are checked against the channel's rules.
func Extra(extra map[string]any) PayOption {
	return func(r *payRequest) { r.extra = maps.Clone(extra) }
}

// PayForOrder returns a charge with which the buyer pays order orderNo
// through ch. While the order has a live charge for ch made with the same
// extra, it returns that charge without calling Ping++; otherwise it writes
// a payment attempt to the ledger, asks Ping++ and records the charge, at
// most one attempt at a time per order and channel (WeChat's channels count
// as one) among all the Services sharing the ledger.
//
// Errors (compare with errors.Is):
//   - payorder.ErrInvalidRequest: neither ForBuyer nor AsServer, or an
//     order number that cannot be one (order.ValidNo);
//   - payorder.ErrInvalidChannel: ch unknown, not enabled, or extra missing
//     or malformed (for balance: extra.user other than the buyer);
//   - payorder.ErrOrderNotFound: no such order, or another buyer's;
//   - payorder.ErrOrderNotPayable: the order is paid, closed or expired;
//   - payorder.ErrTooManyCharges: Config.MaxLiveCharges live charges already;
//   - payorder.ErrPaymentFailed: Ping++ gave no charge; errors.As reaches the
//     cause (*pingxx.Error for an error answer);
//   - payorder.ErrInternal: the order store or the ledger failed.
//
// A cancelled ctx does not prove that no charge was created: the attempt
// stays in the ledger, and the next call for the order (on any instance) or
// Reconcile finds out what it made before anything is created again.
func (s *Service) PayForOrder(ctx context.Context, orderNo string, ch channel.Channel, opts ...PayOption) (_ *Charge, err error) {
	ctx, call := s.tel.startPay(ctx, ch)
	defer func() { call.end(ctx, err) }()
	req := payRequest{clientIP: "127.0.0.1"}
	for _, o := range opts {
		o(&req)
	}
	if !req.trusted && req.buyer == "" {
		return nil, payorder.NewError(payorder.CodeInvalidRequest, "pay: PayForOrder needs ForBuyer or AsServer", nil)
	}
	if !order.ValidNo(orderNo) {
		return nil, payorder.NewError(payorder.CodeInvalidRequest, "order_no must be 1 to 64 letters or digits", nil)
	}
	if err := s.checkChannel(ch, &req); err != nil {
		return nil, err
	}
	extraKey, err := canonicalJSON(req.extra)
	if err != nil {
		return nil, payorder.NewError(payorder.CodeInvalidChannel, "extra: "+err.Error(), nil)
	}
	o, err := s.chargeableOrder(ctx, orderNo, req)
	if err != nil {
		return nil, err
	}
	rec, err := s.ledger.Read(ctx, o.No)
	if err != nil {
		return nil, internal("reading the ledger of order "+o.No, err)
	}
	if rec.Payment != nil {
		return nil, order.NotPayable(order.MessagePaid, "order "+o.No+" is "+string(rec.Status()))
	}
	if c := rec.LiveCharge(ch, extraKey, o.Amount, o.CurrencyOrDefault(), s.cfg.ReuseMargin); c != nil {
		call.path = pathReuse
		return recordedCharge(c), nil
	}
	call.path = pathCreate
	return s.obtainCharge(ctx, o, ch, req, extraKey, rec)
}

// checkChannel returns ErrInvalidChannel unless ch is known, enabled and
// given valid extra. A buyer's balance payment is always from the buyer's
// own balance.
func (s *Service) checkChannel(ch channel.Channel, req *payRequest) error {
	if !ch.Known() {
		return payorder.NewError(payorder.CodeInvalidChannel, fmt.Sprintf("unknown channel %q", ch), nil)
	}
	if !slices.Contains(s.cfg.Channels, ch) {
		return payorder.NewError(payorder.CodeInvalidChannel, fmt.Sprintf("channel %s is not enabled", ch), nil)
	}
	if ch == channel.Balance && !req.trusted {
		if user, ok := req.extra["user"]; ok && fmt.Sprint(user) != req.buyer {
			return payorder.NewError(payorder.CodeInvalidChannel, "extra.user of a balance payment must be the buyer", nil)
		}
		if req.extra == nil {
			req.extra = map[string]any{}
		}
		req.extra["user"] = req.buyer
	}
	return ch.ValidateExtra(req.extra)
}

// chargeableOrder reads order no from the host and checks that the caller
// may charge it now. A foreign order costs exactly what a missing one does:
// one read of the host's store, and no ledger read.
func (s *Service) chargeableOrder(ctx context.Context, no string, req payRequest) (order.Order, error) {
	o, err := s.orders.Order(ctx, no)
	if err != nil {
		return order.Order{}, orderLoadFailed(no, err)
	}
	if !req.trusted && o.Buyer != req.buyer {
		return order.Order{}, payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	if o.No != no {
		return order.Order{}, internal("order store", fmt.Errorf("asked for order %s, got %s", no, o.No))
	}
	return o, o.Chargeable(s.cfg.Now())
}

// orderLoadFailed converts the order store's failure to load order no.
func orderLoadFailed(no string, err error) error {
	if errors.Is(err, payorder.ErrOrderNotFound) {
		return payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	return internal("loading order "+no, err)
}

// internal returns ErrInternal for a failure of the store, the ledger or a bug.
func internal(what string, err error) error {
	return payorder.NewError(payorder.CodeInternal, what, err)
}

// decodeCharge decodes the charge the ledger keeps.
func decodeCharge(c *ledger.Charge) (*pingxx.Charge, error) {
	var ch pingxx.Charge
	if err := json.Unmarshal(c.JSON, &ch); err != nil {
		return nil, internal("decoding recorded charge "+c.ID, err)
	}
	return &ch, nil
}

// chargeJSON is c as Ping++ sent it, or, for a charge built in code (a
// Gateway of the host's own), its encoding.
func chargeJSON(c *pingxx.Charge) json.RawMessage {
	if raw := c.Raw(); raw != nil {
		return raw
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil // a Charge always encodes
	}
	return b
}

// canonicalJSON encodes extra with sorted keys; nil and empty encode alike.
func canonicalJSON(extra map[string]any) (string, error) {
	if len(extra) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(extra) // encoding/json sorts map keys
	return string(b), err
}

// randomID returns prefix and 16 random bytes in hex.
func randomID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
