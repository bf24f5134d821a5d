package pay

import (
	"context"
	"time"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/order"
	"github.com/yianpay/payorder/pay/pingxx"
)

// OrderStore is the host's orders, read-only to payorder. order.MemStore
// implements it; a host with its own orders table writes this one method.
type OrderStore interface {
	// Order returns the order numbered no, or an error wrapping
	// payorder.ErrOrderNotFound. Callers may change what it returns.
	Order(ctx context.Context, no string) (order.Order, error)
}

// OrderStoreFunc adapts a function to OrderStore.
type OrderStoreFunc func(ctx context.Context, no string) (order.Order, error)

// Order calls f.
func (f OrderStoreFunc) Order(ctx context.Context, no string) (order.Order, error) {
	return f(ctx, no)
}

// Gateway is what the Service needs of Ping++. *pingxx.Client implements it.
type Gateway interface {
	// CreateCharge asks Ping++ for a charge. An error wrapping
	// pingxx.ErrOutcomeUnknown means the charge may exist.
	CreateCharge(ctx context.Context, p *pingxx.ChargeParams) (*pingxx.Charge, error)
	// RetrieveCharge returns the charge with id as Ping++ holds it now.
	RetrieveCharge(ctx context.Context, id string) (*pingxx.Charge, error)
	// FindCharges returns the app's charges with Ping++ order number
	// orderNo created between from and to.
	FindCharges(ctx context.Context, orderNo string, from, to time.Time) ([]*pingxx.Charge, error)
	// CreateRefund asks Ping++ to refund charge chargeID. An error wrapping
	// pingxx.ErrOutcomeUnknown means the refund may exist; a refund with
	// status "failed" is the channel's refusal.
	CreateRefund(ctx context.Context, chargeID string, p *pingxx.RefundParams) (*pingxx.Refund, error)
	// ListRefunds returns every refund of charge chargeID, newest first.
	ListRefunds(ctx context.Context, chargeID string) ([]*pingxx.Refund, error)
}

// TokenVerifier maps a login token of the host's mobile clients to the buyer
// it belongs to.
type TokenVerifier interface {
	// VerifyToken returns the buyer of token, an error wrapping
	// payorder.ErrInvalidToken when the token is unknown, or one wrapping
	// payorder.ErrUserInactive when its user is inactive or deleted. Any
	// other error is a failure of the verifier (answered 500).
	VerifyToken(ctx context.Context, token string) (buyer string, err error)
}

// TokenVerifierFunc adapts a function to TokenVerifier.
type TokenVerifierFunc func(ctx context.Context, token string) (string, error)

// VerifyToken calls f.
func (f TokenVerifierFunc) VerifyToken(ctx context.Context, token string) (string, error) {
	return f(ctx, token)
}

// StaticTokens is a TokenVerifier over a fixed token → buyer map, for
// examples and tests.
type StaticTokens map[string]string

// VerifyToken implements TokenVerifier.
func (m StaticTokens) VerifyToken(_ context.Context, token string) (string, error) {
	if b, ok := m[token]; ok {
		return b, nil
	}
	return "", payorder.ErrInvalidToken
}
