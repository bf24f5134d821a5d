package pay

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Service takes payment for orders. It is safe for concurrent use.
type Service struct {
	cfg   Config
	store OrderStore
	gw    Gateway
	locks keyedMutex

	// unresolved remembers creates whose outcome stayed unknown and could not
	// be looked up, so the next call for that order and channel looks again
	// before it creates.
	mu         sync.Mutex
	unresolved map[string]pendingCreate
}

type pendingCreate struct {
	pingppOrderNo string
	since         time.Time
}

// New returns a Service over store and gateway. Config.AppID and
// Config.Livemode default to what the gateway tells, when it does (a
// *pingxx.Client tells both).
func New(cfg Config, store OrderStore, gw Gateway) (*Service, error) {
	if store == nil || gw == nil {
		return nil, errors.New("pay: New needs a store and a gateway")
	}
	cfg = cfg.withDefaults()
	for _, c := range cfg.Channels {
		if !c.Known() {
			return nil, fmt.Errorf("pay: config: unknown channel %q", c)
		}
	}
	s := &Service{cfg: cfg, store: store, gw: gw, unresolved: make(map[string]pendingCreate)}
	if a, ok := gw.(interface{ AppID() string }); ok && s.cfg.AppID == "" {
		s.cfg.AppID = a.AppID()
	}
	if m, ok := gw.(interface{ Livemode() bool }); ok && s.cfg.Livemode == nil {
		live := m.Livemode()
		s.cfg.Livemode = &live
	}
	return s, nil
}

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
// extra, it returns that charge without calling Ping++; otherwise it creates
// one, at most one among concurrent callers.
//
// Errors (compare with errors.Is):
//   - payorder.ErrInvalidRequest: neither ForBuyer nor AsServer, or an order
//     number Ping++ cannot take on ch;
//   - payorder.ErrInvalidChannel: ch unknown, not enabled, or extra missing or
//     malformed;
//   - payorder.ErrOrderNotFound: no such order, or another buyer's;
//   - payorder.ErrOrderNotPayable: the order is paid, refunded, closed or expired;
//   - payorder.ErrPaymentFailed: Ping++ gave no charge; errors.As reaches the
//     cause (*pingxx.Error for an error answer);
//   - payorder.ErrInternal: the store failed.
//
// A cancelled ctx does not prove that no charge was created: the next call
// for the same order finds it.
func (s *Service) PayForOrder(ctx context.Context, orderNo string, ch channel.Channel, opts ...PayOption) (*pingxx.Charge, error) {
	req := payRequest{clientIP: "127.0.0.1"}
	for _, o := range opts {
		o(&req)
	}
	if !req.trusted && req.buyer == "" {
		return nil, payorder.NewError(payorder.CodeInvalidRequest, "pay: PayForOrder needs ForBuyer or AsServer", nil)
	}
	if err := s.checkChannel(ch, req.extra); err != nil {
		return nil, err
	}
	extraKey, err := canonicalJSON(req.extra)
	if err != nil {
		return nil, payorder.NewError(payorder.CodeInvalidChannel, "extra: "+err.Error(), nil)
	}
	o, charges, err := s.payableOrder(ctx, orderNo, req)
	if err != nil {
		return nil, err
	}
	if c, err := s.liveCharge(ctx, o, ch, extraKey, charges); c != nil || err != nil {
		return c, err
	}

	key := lockKey(o.No, ch)
	unlock, err := s.locks.lock(ctx, key)
	if err != nil {
		return nil, s.lockFailed(ctx, o.No, err)
	}
	defer unlock()
	// While this caller waited, another, here or in another process, may
	// have created the charge, or the order may have been paid: read both
	// again under the lock.
	lock, o, charges, err := s.lockAndReload(ctx, "payorder:charge:"+key, o.No)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	if err := s.checkOrder(ctx, o, req); err != nil {
		return nil, err
	}
	if c, err := s.liveCharge(ctx, o, ch, extraKey, charges); c != nil || err != nil {
		return c, err
	}
	return s.createCharge(ctx, o, ch, req, extraKey, charges, lock)
}

// chargeLock is the cross-process exclusion around one charge's creation:
// it ends by recording the new charge, or by release.
type chargeLock struct {
	done  func(ctx context.Context, c *order.Charge) error
	ended bool
}

// record records c and releases the lock.
func (l *chargeLock) record(ctx context.Context, c order.Charge) error {
	l.ended = true
	return l.done(ctx, &c)
}

// release releases the lock unless record did.
func (l *chargeLock) release() {
	if !l.ended {
		l.ended = true
		l.done(context.Background(), nil)
	}
}

// lockAndReload takes the cross-process lock named key when the store has
// one, and reads order no and its charges once it is held.
func (s *Service) lockAndReload(ctx context.Context, key, no string) (*chargeLock, order.Order, []order.Charge, error) {
	unlock := func() {}
	switch l := s.store.(type) {
	case OrderLocker:
		o, charges, done, err := l.LockOrder(ctx, key, s.cfg.LockTTL, no)
		if err != nil {
			return nil, order.Order{}, nil, s.lockFailed(ctx, no, err)
		}
		return &chargeLock{done: done}, o, charges, nil
	case Locker:
		var err error
		if unlock, err = l.Lock(ctx, key, s.cfg.LockTTL); err != nil {
			return nil, order.Order{}, nil, s.lockFailed(ctx, no, err)
		}
	}
	o, charges, err := s.orderWithCharges(ctx, no)
	if err != nil {
		unlock()
		return nil, order.Order{}, nil, s.loadFailed(ctx, no, err)
	}
	return &chargeLock{done: func(ctx context.Context, c *order.Charge) error {
		defer unlock()
		if c == nil {
			return nil
		}
		return s.store.AddCharge(ctx, *c)
	}}, o, charges, nil
}

// lockFailed reports a lock not taken, or its read failed: the caller gave
// up waiting for a concurrent payment of the order (payment failed, as any
// unanswered payment), the order is gone, or the store failed (internal).
func (s *Service) lockFailed(ctx context.Context, no string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return payorder.NewError(payorder.CodePaymentFailed, "gave up waiting for a concurrent payment of order "+no, err)
	}
	return s.loadFailed(ctx, no, err)
}

// loadFailed converts a store's failure to load order no.
func (s *Service) loadFailed(ctx context.Context, no string, err error) error {
	if errors.Is(err, payorder.ErrOrderNotFound) {
		return payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	return s.internal(ctx, "loading order "+no, err)
}

// lockKey names what a create must hold exclusively: the order and channel;
// for WeChat the order and all its WeChat channels, which share one merchant
// order number space (see pingppOrderNo).
func lockKey(no string, ch channel.Channel) string {
	if ch.IsWeChat() {
		return no + "/wechat"
	}
	return no + "/" + string(ch)
}

// checkChannel returns ErrInvalidChannel unless ch is known, enabled and given
// valid extra.
func (s *Service) checkChannel(ch channel.Channel, extra map[string]any) error {
	if !ch.Known() {
		return payorder.NewError(payorder.CodeInvalidChannel, fmt.Sprintf("unknown channel %q", ch), nil)
	}
	if !slices.Contains(s.cfg.Channels, ch) {
		return payorder.NewError(payorder.CodeInvalidChannel, fmt.Sprintf("channel %s is not enabled", ch), nil)
	}
	return ch.ValidateExtra(extra)
}

// payableOrder loads order no and its charges, and checks that the caller
// may pay it now.
func (s *Service) payableOrder(ctx context.Context, no string, req payRequest) (order.Order, []order.Charge, error) {
	o, charges, err := s.orderWithCharges(ctx, no)
	if err != nil {
		return order.Order{}, nil, s.loadFailed(ctx, no, err)
	}
	if err := s.checkOrder(ctx, o, req); err != nil {
		return order.Order{}, nil, err
	}
	return o, charges, nil
}

// checkOrder checks that the caller may pay o now.
func (s *Service) checkOrder(ctx context.Context, o order.Order, req payRequest) error {
	if !req.trusted && o.Buyer != req.buyer {
		// Someone else's order answers exactly like a missing one.
		return payorder.NewError(payorder.CodeOrderNotFound, "order "+o.No, nil)
	}
	if err := o.Validate(); err != nil {
		// The store holds an order Ping++ cannot be asked to charge.
		return s.internal(ctx, "order "+o.No+" from the store", err)
	}
	return o.Payable(s.cfg.Now())
}

// orderWithCharges reads an order and its charges, together when the store can.
func (s *Service) orderWithCharges(ctx context.Context, no string) (order.Order, []order.Charge, error) {
	if both, ok := s.store.(OrderWithCharges); ok {
		return both.OrderWithCharges(ctx, no)
	}
	o, err := s.store.Order(ctx, no)
	if err != nil {
		return order.Order{}, nil, err
	}
	charges, err := s.store.Charges(ctx, no)
	return o, charges, err
}

func (s *Service) charges(ctx context.Context, no string) ([]order.Charge, error) {
	charges, err := s.store.Charges(ctx, no)
	if err != nil {
		return nil, s.internal(ctx, "loading charges of order "+no, err)
	}
	return charges, nil
}

// liveCharge returns, of the order's charges, the one on ch that can still
// be paid, made for the order's current amount with the same extra; nil when
// there is none.
func (s *Service) liveCharge(ctx context.Context, o order.Order, ch channel.Channel, extraKey string, charges []order.Charge) (*pingxx.Charge, error) {
	now := s.cfg.Now()
	for i := len(charges) - 1; i >= 0; i-- {
		c := charges[i]
		if c.Channel != ch || c.Amount != o.Amount || c.Currency != currency(o) || c.ExtraKey != extraKey || !c.Live(now, s.cfg.ReuseMargin) {
			continue
		}
		var charge pingxx.Charge
		if err := json.Unmarshal(c.JSON, &charge); err != nil {
			return nil, s.internal(ctx, "decoding stored charge "+c.ID, err)
		}
		return &charge, nil
	}
	return nil, nil
}

// createCharge asks Ping++ for a new charge and records it. The caller holds
// the lock for the order and channel, and passes the order's charges.
func (s *Service) createCharge(ctx context.Context, o order.Order, ch channel.Channel, req payRequest, extraKey string, charges []order.Charge, lock *chargeLock) (*pingxx.Charge, error) {
	pingppNo := pingppOrderNo(o.No, ch, charges)
	if err := ch.ValidateOrderNo(pingppNo); err != nil {
		return nil, err
	}
	params := s.chargeParams(o, ch, req, pingppNo)
	key := lockKey(o.No, ch)

	// A create that earlier ended with no answer may have made a charge: look first.
	if p, ok := s.pending(key); ok {
		found, err := s.findCharge(ctx, o, params, p.since)
		if err != nil {
			return nil, payorder.NewError(payorder.CodePaymentFailed, "looking up an earlier charge of order "+o.No, err)
		}
		if found != nil {
			c, err := s.record(context.WithoutCancel(ctx), lock, o, found, extraKey)
			if err == nil {
				s.resolve(key)
			}
			return c, err
		}
		s.resolve(key)
	}

	start := s.cfg.Now()
	charge, err := s.gw.CreateCharge(ctx, params)
	if refusedNumber(err, ch) && s.adoptUnrecorded(ctx, o, ch, pingppNo) {
		// The number was taken by charges this service had not recorded,
		// now recorded: try once more with a number derived anew.
		if charges, err = s.charges(ctx, o.No); err != nil {
			return nil, err
		}
		pingppNo = pingppOrderNo(o.No, ch, charges)
		if err := ch.ValidateOrderNo(pingppNo); err != nil {
			return nil, err
		}
		params = s.chargeParams(o, ch, req, pingppNo)
		start = s.cfg.Now()
		charge, err = s.gw.CreateCharge(ctx, params)
	}
	if errors.Is(err, pingxx.ErrOutcomeUnknown) {
		// The request may have created a charge. Look it up even if the
		// caller has gone, so the charge is not lost.
		lookupCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		found, ferr := s.findCharge(lookupCtx, o, params, start.Add(-time.Minute))
		if ferr != nil || found == nil {
			s.remember(key, pendingCreate{pingppOrderNo: pingppNo, since: start.Add(-time.Minute)})
			s.cfg.Logger.WarnContext(ctx, "pay: charge outcome unknown", "order_no", o.No, "channel", ch, "err", err, "lookup_err", ferr)
			return nil, payorder.NewError(payorder.CodePaymentFailed, "Ping++ did not answer the create for order "+o.No, err)
		}
		return s.record(lookupCtx, lock, o, found, extraKey)
	}
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "pay: create charge failed", "order_no", o.No, "channel", ch, "err", err)
		return nil, payorder.NewError(payorder.CodePaymentFailed, "creating a charge for order "+o.No, err)
	}
	if err := matches(charge, params); err != nil {
		s.cfg.Logger.ErrorContext(ctx, "pay: Ping++ answered with a different charge", "order_no", o.No, "charge_id", charge.ID, "err", err)
		return nil, payorder.NewError(payorder.CodePaymentFailed, "creating a charge for order "+o.No, err)
	}
	// Record even when the caller has gone: the charge exists at Ping++.
	return s.record(context.WithoutCancel(ctx), lock, o, charge, extraKey)
}

// refusedNumber reports whether err may be Ping++ passing on a channel's
// refusal of an order number it has seen before (WeChat after its 2-hour
// window, API.md §2.3): a channel error on a channel that refuses reuse.
func refusedNumber(err error, ch channel.Channel) bool {
	var pe *pingxx.Error
	return !ch.Idempotency().NewAfter && errors.As(err, &pe) && pe.Type == "channel_error"
}

// adoptUnrecorded looks Ping++ up for charges of order o made with Ping++
// order number pingppNo on ch's merchant number space that the store does
// not hold (a create whose process died before recording it), and records
// them, so that the next number is derived past them. It reports whether it
// recorded any.
func (s *Service) adoptUnrecorded(ctx context.Context, o order.Order, ch channel.Channel, pingppNo string) bool {
	since := o.CreatedAt
	if since.IsZero() {
		since = s.cfg.Now().Add(-30 * 24 * time.Hour)
	}
	found, err := s.gw.FindCharges(ctx, pingppNo, since.Add(-time.Hour))
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "pay: looking up charges that hold an order number", "order_no", o.No, "pingpp_order_no", pingppNo, "err", err)
		return false
	}
	adopted := false
	for _, c := range found {
		if metadataOrderNo(c) != o.No || !(c.Channel == ch || c.Channel.IsWeChat() && ch.IsWeChat()) {
			continue
		}
		// An empty extra key: an adopted charge is never handed out again.
		if err := s.store.AddCharge(ctx, chargeRecord(o, c, "")); err != nil {
			s.cfg.Logger.ErrorContext(ctx, "pay: recording an unrecorded charge", "order_no", o.No, "charge_id", c.ID, "err", err)
			return false
		}
		s.cfg.Logger.WarnContext(ctx, "pay: recorded a charge made by a create that was never recorded", "order_no", o.No, "charge_id", c.ID)
		adopted = true
	}
	return adopted
}

func (s *Service) chargeParams(o order.Order, ch channel.Channel, req payRequest, pingppNo string) *pingxx.ChargeParams {
	metadata := make(map[string]any, len(o.Metadata)+1)
	maps.Copy(metadata, o.Metadata)
	metadata["order_no"] = o.No
	subjectMax := 32
	subject, body := orDefault(o.Subject, o.No), orDefault(o.Body, o.No)
	if ch.IsUnionPay() {
		subject = truncateBytes(subject, subjectMax)
	} else {
		subject = truncateRunes(subject, subjectMax)
	}
	bodyMax := 128
	if ch == channel.YeepayWap {
		bodyMax = 100
	}
	p := &pingxx.ChargeParams{
		Order_no:  pingppNo,
		Channel:   string(ch),
		Amount:    uint64(o.Amount),
		Currency:  currency(o),
		Client_ip: req.clientIP,
		Subject:   subject,
		Body:      truncateRunes(body, bodyMax),
		Extra:     req.extra,
		Metadata:  metadata,
	}
	p.App.Id = s.cfg.AppID
	if expire := s.chargeExpiry(o, ch); !expire.IsZero() {
		p.Time_expire = expire.Unix()
	}
	return p
}

// chargeExpiry is when a new charge on ch stops being payable: the configured
// lifetime capped by the channel's maximum and the order's expiry. Zero leaves
// it to Ping++'s default.
func (s *Service) chargeExpiry(o order.Order, ch channel.Channel) time.Time {
	now := s.cfg.Now()
	lifetime := s.cfg.ChargeLifetime
	if lifetime <= 0 && o.ExpiresAt.IsZero() {
		return time.Time{}
	}
	if lifetime <= 0 {
		lifetime = ch.DefaultExpiry()
	}
	expire := now.Add(min(lifetime, ch.MaxExpiry()))
	if !o.ExpiresAt.IsZero() && o.ExpiresAt.Before(expire) {
		expire = o.ExpiresAt
	}
	if minExpire := now.Add(channel.MinExpiry + 5*time.Second); expire.Before(minExpire) {
		expire = minExpire
	}
	return expire
}

// findCharge looks for a charge Ping++ may have created for params since.
func (s *Service) findCharge(ctx context.Context, o order.Order, params *pingxx.ChargeParams, since time.Time) (*pingxx.Charge, error) {
	found, err := s.gw.FindCharges(ctx, params.Order_no, since)
	if err != nil {
		return nil, err
	}
	for _, c := range found {
		if matches(c, params) == nil {
			return c, nil
		}
	}
	return nil, nil
}

// matches checks that Ping++'s charge is the one asked for.
func matches(c *pingxx.Charge, p *pingxx.ChargeParams) error {
	switch {
	case c.ID == "":
		return errors.New("pay: charge without id")
	case string(c.Channel) != p.Channel:
		return fmt.Errorf("pay: charge %s is for channel %s, not %s", c.ID, c.Channel, p.Channel)
	case c.Amount != int64(p.Amount) || c.Currency != p.Currency:
		return fmt.Errorf("pay: charge %s is for %d %s, not %d %s", c.ID, c.Amount, c.Currency, p.Amount, p.Currency)
	case c.OrderNo != p.Order_no:
		return fmt.Errorf("pay: charge %s is for order_no %s, not %s", c.ID, c.OrderNo, p.Order_no)
	}
	return nil
}

// record records a charge of order o and releases the lock held for it.
func (s *Service) record(ctx context.Context, lock *chargeLock, o order.Order, c *pingxx.Charge, extraKey string) (*pingxx.Charge, error) {
	if err := lock.record(ctx, chargeRecord(o, c, extraKey)); err != nil {
		return nil, s.internal(ctx, "recording charge "+c.ID+" of order "+o.No, err)
	}
	return c, nil
}

// chargeRecord is the store's record of Ping++'s charge c of order o.
func chargeRecord(o order.Order, c *pingxx.Charge, extraKey string) order.Charge {
	return order.Charge{
		ID:            c.ID,
		OrderNo:       o.No,
		PingppOrderNo: c.OrderNo,
		Channel:       c.Channel,
		Amount:        c.Amount,
		Currency:      c.Currency,
		ExtraKey:      extraKey,
		AppID:         c.App,
		Livemode:      c.Livemode,
		CreatedAt:     time.Unix(c.Created, 0),
		ExpiresAt:     time.Unix(c.TimeExpire, 0),
		JSON:          chargeJSON(c),
	}
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

func (s *Service) pending(key string) (pendingCreate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.unresolved[key]
	return p, ok
}

// maxUnresolvedAge bounds how long an unknown create is remembered: past it
// the charge it may have made has expired (WeChat and UnionPay charges live
// two hours at most, and a longer-lived one is found by its order's next
// PayForOrder under Ping++'s rules anyway).
const maxUnresolvedAge = 24 * time.Hour

func (s *Service) remember(key string, p pendingCreate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, old := range s.unresolved {
		if p.since.Sub(old.since) > maxUnresolvedAge {
			delete(s.unresolved, k)
		}
	}
	if old, ok := s.unresolved[key]; ok && old.since.Before(p.since) {
		p.since = old.since
	}
	s.unresolved[key] = p
}

func (s *Service) resolve(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.unresolved, key)
}

// internal logs a store failure and returns ErrInternal wrapping it.
func (s *Service) internal(ctx context.Context, what string, err error) error {
	s.cfg.Logger.ErrorContext(ctx, "pay: "+what, slog.Any("err", err))
	return payorder.NewError(payorder.CodeInternal, what, err)
}

// pingppOrderNo is the order_no to send to Ping++ for a new charge of an order
// on ch. It is the merchant's number unless ch refuses a number it has seen
// before (WeChat: same merchant id across wx channels), in which case it is
// the number with an attempt suffix, or a digest of it when that would be too long.
func pingppOrderNo(no string, ch channel.Channel, earlier []order.Charge) string {
	if ch.Idempotency().NewAfter {
		return no
	}
	used := make(map[string]bool)
	for _, c := range earlier {
		if c.Channel == ch || c.Channel.IsWeChat() && ch.IsWeChat() {
			used[c.PingppOrderNo] = true
		}
	}
	candidate := no
	_, maxLen := ch.OrderNoLength()
	for n := 2; used[candidate]; n++ {
		suffix := "R" + strconv.Itoa(n)
		base := no
		if len(base)+len(suffix) > maxLen {
			sum := sha256.Sum256([]byte(no))
			base = hex.EncodeToString(sum[:])[:maxLen-len(suffix)]
		}
		candidate = base + suffix
	}
	return candidate
}

// canonicalJSON encodes extra with sorted keys; nil and empty encode alike.
func canonicalJSON(extra map[string]any) (string, error) {
	if len(extra) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(extra) // encoding/json sorts map keys
	return string(b), err
}

func currency(o order.Order) string { return orDefault(o.Currency, "cny") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func truncateBytes(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
