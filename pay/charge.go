package pay

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/yianpay/payorder/channel"
	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/pingxx"
)

// Charge is a charge PayForOrder hands out: the JSON Ping++ sent, byte for
// byte (what a mobile client's Ping++ SDK takes), with the fields payorder
// checked before handing it out. The whole charge is decoded only when asked
// for (Decode), so that handing out a live charge again costs no decoding.
type Charge struct {
	ID string // ch_…
	// OrderNo is the order_no Ping++ and the channel see: the merchant's
	// order number, or one derived from it (see PayForOrder).
	OrderNo   string
	Channel   channel.Channel
	Amount    int64 // fen
	Currency  string
	ExpiresAt time.Time

	raw     json.RawMessage
	once    sync.Once
	decoded *pingxx.Charge
	err     error
}

// JSON returns the charge exactly as Ping++ sent it. The caller must not
// change it.
func (c *Charge) JSON() json.RawMessage { return c.raw }

// Decode returns the whole charge, decoded once.
func (c *Charge) Decode() (*pingxx.Charge, error) {
	c.once.Do(func() {
		if c.decoded != nil {
			return
		}
		var ch pingxx.Charge
		if c.err = json.Unmarshal(c.raw, &ch); c.err == nil {
			c.decoded = &ch
		}
	})
	return c.decoded, c.err
}

// TypedCredential decodes the charge's credential for its channel (see
// channel.DecodeCredential).
func (c *Charge) TypedCredential() (channel.Credential, error) {
	ch, err := c.Decode()
	if err != nil {
		return nil, err
	}
	return ch.TypedCredential()
}

// recordedCharge is the charge the ledger recorded, for handing out.
func recordedCharge(c *ledger.Charge) *Charge {
	return &Charge{ID: c.ID, OrderNo: c.PingppOrderNo, Channel: c.Channel, Amount: c.Amount,
		Currency: c.Currency, ExpiresAt: c.ExpiresAt, raw: c.JSON}
}

// freshCharge is charge c, just made by Ping++ and recorded, for handing out.
func freshCharge(c *pingxx.Charge) *Charge {
	return &Charge{ID: c.ID, OrderNo: c.OrderNo, Channel: c.Channel, Amount: c.Amount,
		Currency: c.Currency, ExpiresAt: c.ExpiresAt(), raw: chargeJSON(c), decoded: c}
}
