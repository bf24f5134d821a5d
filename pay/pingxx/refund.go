package pingxx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
)

// RefundParams is what POST /v1/charges/{id}/refunds asks for (Ping++'s
// "创建 Refund"). It encodes as Ping++'s request body and decodes from it,
// so that a request kept as JSON can be read back.
type RefundParams struct {
	// Amount is the refund in fen; zero asks Ping++ for the refundable
	// remainder of the charge.
	Amount int64
	// Description is required by Ping++, at most 255 characters.
	Description string
	Metadata    map[string]any
	// FundingSource is WeChat's and QQ's source of the money:
	// "unsettled_funds" (Ping++'s default) or "recharge_funds".
	FundingSource string
}

// refundParamsWire is the request body.
type refundParamsWire struct {
	Amount        int64          `json:"amount,omitempty"`
	Description   string         `json:"description"`
	Metadata      map[string]any `json:"metadata,omitempty"`
	FundingSource string         `json:"funding_source,omitempty"`
}

// MarshalJSON encodes p as Ping++'s request body.
func (p RefundParams) MarshalJSON() ([]byte, error) {
	return json.Marshal(refundParamsWire(p))
}

// UnmarshalJSON decodes Ping++'s request body; numbers in metadata decode
// as json.Number, so that they encode again unchanged.
func (p *RefundParams) UnmarshalJSON(data []byte) error {
	var w refundParamsWire
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	*p = RefundParams(w)
	return nil
}

// CreateRefund asks Ping++ to refund charge chargeID (POST
// /v1/charges/{id}/refunds). A refund answered with status "failed" (a
// channel's refusal, HTTP 200) is returned as a refund, not an error: look
// at its Status.
//
// Ping++ has no idempotency key for refunds, so CreateRefund never resends
// a request that may have reached Ping++. Errors: *Error (errors.As) for
// Ping++'s 4xx answers, which prove no refund was made; ErrOutcomeUnknown
// (errors.Is) when the request was or may have been sent without a usable
// answer, including a context cancelled in flight: the refund may exist, so
// list the charge's refunds (ListRefunds) before refunding again.
func (c *Client) CreateRefund(ctx context.Context, chargeID string, p *RefundParams) (*Refund, error) {
	switch {
	case chargeID == "":
		return nil, errors.New("pingxx: create refund: empty charge id")
	case p == nil:
		return nil, errors.New("pingxx: create refund: nil params")
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("pingxx: create refund: encoding params: %w", err)
	}
	var rf Refund
	r := &request{method: "POST", path: refundsPath(chargeID), body: body, key: c.key, kind: kindRefund}
	if err := c.do(ctx, r, &rf); err != nil {
		return nil, err
	}
	return &rf, nil
}

// maxRefundPages bounds ListRefunds: 100 pages of 100 refunds.
const maxRefundPages = 100

// ListRefunds returns every refund of charge chargeID (GET
// /v1/charges/{id}/refunds), newest first, paging through the list. It is
// how a caller resolves CreateRefund's ErrOutcomeUnknown: find the refund by
// what the request put in its metadata. Errors as for RetrieveCharge;
// ErrMalformedResponse when has_more pages do not advance.
func (c *Client) ListRefunds(ctx context.Context, chargeID string) ([]*Refund, error) {
	if chargeID == "" {
		return nil, errors.New("pingxx: list refunds: empty charge id")
	}
	all := []*Refund{}
	q := url.Values{"limit": {"100"}}
	for range maxRefundPages {
		var page RefundList
		if err := c.do(ctx, c.getRequest(refundsPath(chargeID), q), &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if !page.HasMore {
			return all, nil
		}
		if len(page.Data) == 0 || page.Data[len(page.Data)-1].ID == q.Get("starting_after") {
			return nil, fmt.Errorf("%w: refund list says has_more but its cursor does not advance", ErrMalformedResponse)
		}
		q.Set("starting_after", page.Data[len(page.Data)-1].ID)
	}
	return nil, fmt.Errorf("pingxx: list refunds: charge %s has more than %d pages of refunds", chargeID, maxRefundPages)
}

func refundsPath(chargeID string) string { return "/charges/" + url.PathEscape(chargeID) + "/refunds" }

// checkRefundList checks that l is a list of refunds.
func checkRefundList(l *RefundList) error {
	if l.Object != "" && l.Object != "list" {
		return fmt.Errorf("got a %.32q object, not a list", l.Object)
	}
	for _, rf := range l.Data {
		if err := requireID("refund", rf.ID, rf.Object); err != nil {
			return fmt.Errorf("list: %w", err)
		}
	}
	return nil
}
