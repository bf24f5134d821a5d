package pingxx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pingplusplus/pingpp-go/pingpp"

	"github.com/yianpay/payorder/channel"
)

// CreateCharge creates a charge (POST /v1/charges). p.AppID defaults to the
// client's app id; p itself is not modified.
//
// On a transport error, a 5xx or a malformed answer it resends the identical
// body, but only while it is inside half the channel's idempotency window
// (channel.Channel.Idempotency) counted from the first send, where Ping++
// answers a repeat with the first charge rather than a new one.
//
// Errors: *Error (errors.As) for Ping++'s 4xx answers, which prove nothing
// was created; ErrOutcomeUnknown (errors.Is) when the request was or may
// have been sent and no usable answer came back, including a context
// cancelled or expiring in flight: the charge may exist, so look it up
// (FindCharges) before charging again. A context done before anything was
// sent returns its error unwrapped by ErrOutcomeUnknown.
func (c *Client) CreateCharge(ctx context.Context, p *ChargeParams) (*Charge, error) {
	if p == nil {
		return nil, errors.New("pingxx: create charge: nil params")
	}
	params := *p
	if params.AppID == "" {
		params.AppID = c.appID
	}
	body, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("pingxx: create charge: encoding params: %w", err)
	}
	var ch Charge
	if err := c.do(ctx, c.createRequest(c.key, body, params.Channel), &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

func (c *Client) createRequest(key string, body []byte, ch channel.Channel) *request {
	return &request{
		method: "POST", path: "/charges", body: body, key: key,
		kind: kindCreate, window: ch.Idempotency().Window,
	}
}

// RetrieveCharge fetches a charge (GET /v1/charges/{id}). Errors: *Error for
// a non-2xx answer (HTTPStatus 404 for an unknown id), ErrMalformedResponse,
// or a transport or context error, after retries.
func (c *Client) RetrieveCharge(ctx context.Context, id string) (*Charge, error) {
	return retrieve[Charge](ctx, c, "/charges/", id)
}

// RetrieveEvent fetches an event (GET /v1/events/{id}), for re-checking a
// webhook with Ping++ instead of, or besides, its signature. Errors as for
// RetrieveCharge.
func (c *Client) RetrieveEvent(ctx context.Context, id string) (*Event, error) {
	return retrieve[Event](ctx, c, "/events/", id)
}

// retrieve GETs the object with id under prefix.
func retrieve[T any](ctx context.Context, c *Client, prefix, id string) (*T, error) {
	if id == "" {
		return nil, fmt.Errorf("pingxx: GET %s: empty id", prefix)
	}
	v := new(T)
	if err := c.do(ctx, c.getRequest(prefix+url.PathEscape(id), nil), v); err != nil {
		return nil, err
	}
	return v, nil
}

func (c *Client) getRequest(path string, query url.Values) *request {
	return &request{method: "GET", path: path, query: query, key: c.key, kind: kindRead}
}

// ListFilter selects charges for ListCharges. Zero fields are not sent.
type ListFilter struct {
	AppID      string    // default: the client's
	CreatedGTE time.Time // created[gte], Unix seconds
	CreatedLTE time.Time // created[lte], Unix seconds
	Channel    channel.Channel
	Paid       *bool
	Refunded   *bool
	Limit      int // 1..100; 0 means Ping++'s default, 10
	// StartingAfter and EndingBefore are charge ids: the cursors of the
	// next and previous page.
	StartingAfter string
	EndingBefore  string
}

// query encodes the filter as Ping++'s query parameters.
func (f ListFilter) query(defaultApp string) (url.Values, error) {
	q := url.Values{}
	q.Set("app[id]", orDefault(f.AppID, defaultApp))
	switch {
	case f.Limit < 0 || f.Limit > 100:
		return nil, fmt.Errorf("pingxx: list charges: limit %d is outside 1..100", f.Limit)
	case f.Limit > 0:
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if !f.CreatedGTE.IsZero() {
		q.Set("created[gte]", strconv.FormatInt(f.CreatedGTE.Unix(), 10))
	}
	if !f.CreatedLTE.IsZero() {
		q.Set("created[lte]", strconv.FormatInt(f.CreatedLTE.Unix(), 10))
	}
	if f.Channel != "" {
		q.Set("channel", string(f.Channel))
	}
	if f.Paid != nil {
		q.Set("paid", strconv.FormatBool(*f.Paid))
	}
	if f.Refunded != nil {
		q.Set("refunded", strconv.FormatBool(*f.Refunded))
	}
	if f.StartingAfter != "" {
		q.Set("starting_after", f.StartingAfter)
	}
	if f.EndingBefore != "" {
		q.Set("ending_before", f.EndingBefore)
	}
	return q, nil
}

// ListCharges fetches one page of charges (GET /v1/charges), newest first.
// Without CreatedGTE Ping++ returns only about the last month. Errors as for
// RetrieveCharge; a Limit outside 0..100 fails before sending.
func (c *Client) ListCharges(ctx context.Context, f ListFilter) (*ChargeList, error) {
	q, err := f.query(c.appID)
	if err != nil {
		return nil, err
	}
	var list ChargeList
	if err := c.do(ctx, c.getRequest("/charges", q), &list); err != nil {
		return nil, err
	}
	return &list, nil
}

// maxFindPages bounds FindCharges: 100 pages of 100 charges.
const maxFindPages = 100

// FindCharges returns the charges of this app created between from and to
// (inclusive, Ping++'s clock; a zero to means no upper bound) whose order_no
// is orderNo, newest first, paging through ListCharges. It is how a caller
// resolves ErrOutcomeUnknown: pass the time of the first CreateCharge
// attempt widened by a margin for clock skew; its cost follows the number of
// charges the app made in that span. Errors as for ListCharges;
// ErrMalformedResponse when has_more pages do not advance.
func (c *Client) FindCharges(ctx context.Context, orderNo string, from, to time.Time) ([]*Charge, error) {
	if orderNo == "" {
		return nil, errors.New("pingxx: find charges: empty order_no")
	}
	found := []*Charge{}
	f := ListFilter{CreatedGTE: from, CreatedLTE: to, Limit: 100}
	for range maxFindPages {
		page, err := c.ListCharges(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, ch := range page.Data {
			if ch.OrderNo == orderNo {
				found = append(found, ch)
			}
		}
		if !page.HasMore {
			return found, nil
		}
		if len(page.Data) == 0 || page.Data[len(page.Data)-1].ID == f.StartingAfter {
			return nil, fmt.Errorf("%w: list says has_more but its cursor does not advance", ErrMalformedResponse)
		}
		f.StartingAfter = page.Data[len(page.Data)-1].ID
	}
	return nil, fmt.Errorf("pingxx: find charges: more than %d pages since %s; narrow the time range", maxFindPages, from.UTC().Format(time.RFC3339))
}

// Backend returns a pingpp.Backend that sends through this client, bound to
// ctx, so that pingpp-go's resource clients run on this client's transport,
// key, signing and retries without touching the SDK's globals:
//
//	ch, err := charge.Client{B: c.Backend(ctx)}.Get(id)
//
// It holds ctx, against the usual rule, because pingpp.Backend has no
// context parameter: make one per call and do not keep it. An empty key
// means the client's. Our *Charge, *ChargeList, *Event and *Refund decode
// tolerantly; other types (pingpp.Charge, ...) with pingpp.JsonDecode, the
// SDK's own decoding. POST /charges gets CreateCharge's retry rules.
func (c *Client) Backend(ctx context.Context) pingpp.Backend { return backend{c: c, ctx: ctx} }

type backend struct {
	c   *Client
	ctx context.Context
}

// Call implements pingpp.Backend.
func (b backend) Call(method, path, key string, form *url.Values, params []byte, v interface{}) error {
	method = strings.ToUpper(method)
	key = orDefault(key, b.c.key)
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	var r *request
	switch method {
	case "POST", "PUT":
		if params == nil {
			params = []byte{}
		}
		r = &request{method: method, path: path, body: params, key: key, kind: kindWrite}
		if method == "POST" && path == "/charges" {
			var probe struct {
				Channel string `json:"channel"`
			}
			_ = json.Unmarshal(params, &probe) // unparsable: window 0, no resend after sending
			r = b.c.createRequest(key, params, channel.Channel(probe.Channel))
		}
	default:
		r = &request{method: method, path: path, key: key, kind: kindWrite}
		if form != nil && len(*form) > 0 {
			r.query = *form
		}
		if method == "GET" || method == "HEAD" {
			r.kind = kindRead
		}
	}
	return b.c.do(b.ctx, r, v)
}

// decodeInto decodes a 2xx JSON object into v and checks that it is the
// object asked for.
func decodeInto(b []byte, v any) error {
	switch v := v.(type) {
	case *Charge:
		if err := v.UnmarshalJSON(b); err != nil {
			return err
		}
		return checkCharge(v)
	case *ChargeList:
		if err := v.UnmarshalJSON(b); err != nil {
			return err
		}
		if v.Object != "" && v.Object != "list" {
			return fmt.Errorf("got a %.32q object, not a list", v.Object)
		}
		for _, ch := range v.Data {
			if err := checkCharge(ch); err != nil {
				return fmt.Errorf("list: %w", err)
			}
		}
		return nil
	case *Event:
		if err := v.UnmarshalJSON(b); err != nil {
			return err
		}
		return requireID("event", v.ID, v.Object)
	case *Refund:
		if err := v.UnmarshalJSON(b); err != nil {
			return err
		}
		return requireID("refund", v.ID, v.Object)
	case *RefundList:
		if err := v.UnmarshalJSON(b); err != nil {
			return err
		}
		return checkRefundList(v)
	}
	if err := pingpp.JsonDecode(b, v); err != nil {
		return err
	}
	switch v := v.(type) {
	case *pingpp.Charge:
		return requireID("charge", v.ID, v.Object)
	case *pingpp.Event:
		return requireID("event", v.Id, v.Object)
	}
	return nil
}

func checkCharge(ch *Charge) error { return requireID("charge", ch.ID, ch.Object) }

// requireID fails for an object without an id or of another type.
func requireID(what, id, object string) error {
	if object != "" && object != what {
		return fmt.Errorf("got a %.32q object, not a %s", object, what)
	}
	if id == "" {
		return fmt.Errorf("%s without an id", what)
	}
	return nil
}
