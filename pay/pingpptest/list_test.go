package pingpptest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// listPage is a decoded list answer.
type listPage struct {
	Object  string   `json:"object"`
	URL     string   `json:"url"`
	HasMore bool     `json:"has_more"`
	Data    []Charge `json:"data"`
}

func TestListCharges(t *testing.T) {
	clock := newClock()
	srv := newServer(t, Config{Now: clock.Now, AppIDs: []string{DefaultAppID, "app_other0000000001"}})
	// c[0] oldest … c[5] newest, one second apart; c[1] and c[4] are wx, c[2] is paid.
	var c []Charge
	for i := range 6 {
		ch := "alipay"
		if i == 1 || i == 4 {
			ch = "wx"
		}
		c = append(c, create(t, srv, params(ch, map[string]any{"order_no": fmt.Sprintf("LIST%04d", i)})))
		clock.Add(time.Second)
	}
	create(t, srv, params("alipay", map[string]any{"order_no": "OTHERAPP", "app": map[string]any{"id": "app_other0000000001"}}))
	if err := srv.Pay(c[2].ID); err != nil {
		t.Fatal(err)
	}
	ids := func(cs ...Charge) []string {
		out := []string{}
		for _, x := range cs {
			out = append(out, x.ID)
		}
		return out
	}
	t0 := c[0].Created
	tests := []struct {
		name  string
		query string
		want  []string
		more  bool
	}{
		{"NewestFirst", "", ids(c[5], c[4], c[3], c[2], c[1], c[0]), false},
		{"Limit", "&limit=2", ids(c[5], c[4]), true},
		{"StartingAfter", "&limit=2&starting_after=" + c[4].ID, ids(c[3], c[2]), true},
		{"StartingAfterLastPage", "&limit=2&starting_after=" + c[2].ID, ids(c[1], c[0]), false},
		{"EndingBefore", "&limit=2&ending_before=" + c[1].ID, ids(c[3], c[2]), true},
		{"EndingBeforeFirstPage", "&limit=2&ending_before=" + c[3].ID, ids(c[5], c[4]), false},
		{"Channel", "&channel=wx", ids(c[4], c[1]), false},
		{"Paid", "&paid=true", ids(c[2]), false},
		{"Unpaid", "&paid=false&limit=1", ids(c[5]), true},
		{"Refunded", "&refunded=true", ids(), false},
		{"Reversed", "&reversed=false&limit=1", ids(c[5]), true},
		{"CreatedExact", fmt.Sprintf("&created=%d", t0+3), ids(c[3]), false},
		{"CreatedRange", fmt.Sprintf("&created[gte]=%d&created[lt]=%d", t0+1, t0+3), ids(c[2], c[1]), false},
		{"CreatedGtLte", fmt.Sprintf("&created[gt]=%d&created[lte]=%d", t0+3, t0+4), ids(c[4]), false},
		{"FilterWithCursor", "&channel=wx&starting_after=" + c[3].ID, ids(c[1]), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, "GET", "/v1/charges?app%5Bid%5D="+DefaultAppID+tt.query, nil)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var p listPage
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Object != "list" || p.URL != "/v1/charges" || p.HasMore != tt.more {
				t.Errorf("list meta %q %q has_more %v, want list /v1/charges %v", p.Object, p.URL, p.HasMore, tt.more)
			}
			if diff := cmp.Diff(tt.want, ids(p.Data...)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	clock.Add(31 * 24 * time.Hour)
	_, body := call(t, srv, "GET", "/v1/charges?app%5Bid%5D="+DefaultAppID, nil)
	if got := string(body); got != `{"object":"list","url":"/v1/charges","has_more":false,"data":[]}` {
		t.Errorf("a month later without created: %s, want an empty list", got)
	}
}

func TestListChargesErrors(t *testing.T) {
	srv := newServer(t, Config{})
	tests := []struct {
		name, query, param string
	}{
		{"MissingApp", "", "app[id]"},
		{"UnknownApp", "app[id]=app_nope", "app[id]"},
		{"LimitZero", "limit=0", "limit"},
		{"LimitTooBig", "limit=101", "limit"},
		{"LimitNotNumber", "limit=ten", "limit"},
		{"UnknownCursor", "starting_after=ch_nope", "starting_after"},
		{"UnknownEndingBefore", "ending_before=ch_nope", "ending_before"},
		{"BadCreated", "created[gt]=yesterday", "created[gt]"},
		{"BadPaid", "paid=yes", "paid"},
		{"UnknownChannel", "channel=bitcoin", "channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			if tt.name != "MissingApp" && !q.Has("app[id]") {
				q.Set("app[id]", DefaultAppID)
			}
			status, body := call(t, srv, "GET", "/v1/charges?"+q.Encode(), nil)
			if e := decodeErr(t, body); status != 400 || e.Param != tt.param || e.Type != "invalid_request_error" {
				t.Errorf("status %d error %+v, want 400 param %q", status, e, tt.param)
			}
		})
	}
}

// TestRefunds drives refunds by hand (RefundStaysPending); refunds_test.go
// tests how they finish by themselves.
func TestRefunds(t *testing.T) {
	rc := newReceiver(t)
	srv := newServer(t, Config{WebhookURL: rc.URL, RefundOutcome: RefundStaysPending})
	ctx := testCtx(t)
	c := create(t, srv, params("wx", nil)) // amount 100
	path := "/v1/charges/" + c.ID + "/refunds"
	if status, body := call(t, srv, "POST", path, map[string]any{"description": "x"}); status != 400 {
		t.Errorf("refund of unpaid charge: %d %s, want 400", status, body)
	}
	srv.Pay(c.ID)
	if _, err := srv.WaitDeliveries(ctx, 1); err != nil {
		t.Fatal(err)
	}
	status, body := call(t, srv, "POST", path, map[string]any{"amount": 30, "description": "Refund Description", "metadata": map[string]any{"k": "v"}})
	if status != 200 {
		t.Fatalf("create refund: %d %s", status, body)
	}
	var r1 Refund
	json.Unmarshal(body, &r1)
	// R2.http is a real refund object; compare key order and the fixed fields.
	_, sample, _ := strings.Cut(string(readTestdata(t, "R2.http")), "\n\n")
	if diff := cmp.Diff(keyOrder(t, []byte(sample)), keyOrder(t, body)); diff != "" {
		t.Errorf("refund key order differs from samples/errors/R2.http (-sample +emulator):\n%s", diff)
	}
	if r1.Object != "refund" || r1.Status != RefundPending || r1.Succeed || r1.Amount != 30 || r1.Charge != c.ID ||
		r1.ChargeOrderNo != c.OrderNo || r1.OrderNo != r1.ID[3:] || string(r1.Metadata) != `{"k":"v"}` {
		t.Errorf("refund %+v", r1)
	}
	if got, _ := srv.Charge(c.ID); !got.Refunded || got.AmountRefunded != 0 || len(got.Refunds.Data) != 1 {
		t.Errorf("charge after pending refund: refunded %v amount_refunded %d refunds %d", got.Refunded, got.AmountRefunded, len(got.Refunds.Data))
	}
	tests := []struct {
		name   string
		body   any
		status int
		param  string
	}{
		{"MissingDescription", map[string]any{"amount": 1}, 400, "description"},
		{"TooMuch", map[string]any{"amount": 71, "description": "x"}, 400, "amount"},
		{"ZeroAmount", map[string]any{"amount": 0, "description": "x"}, 400, "amount"},
		{"BadFundingSource", map[string]any{"description": "x", "funding_source": "cash"}, 400, "funding_source"},
		{"NotJSON", "amount=1", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, srv, "POST", path, tt.body)
			if e := decodeErr(t, body); status != tt.status || e.Param != tt.param {
				t.Errorf("status %d error %+v, want %d param %q", status, e, tt.status, tt.param)
			}
		})
	}
	// The rest (70) by default.
	_, body = call(t, srv, "POST", path, map[string]any{"description": "rest"})
	var r2 Refund
	json.Unmarshal(body, &r2)
	if r2.Amount != 70 {
		t.Errorf("default refund amount %d, want the remaining 70", r2.Amount)
	}
	status, body = call(t, srv, "POST", path, map[string]any{"description": "again"})
	want := apiErr{Type: "invalid_request_error", Message: "不能对订单号 " + c.OrderNo + " 发起退款，因为已经全额退款了。Charge id: " + c.ID + "。"}
	if diff := cmp.Diff(want, decodeErr(t, body)); status != 400 || diff != "" {
		t.Errorf("fully refunded (as samples/errors/E4.http): %d (-want +got):\n%s", status, diff)
	}

	if err := srv.SucceedRefund(r1.ID); err != nil {
		t.Fatal(err)
	}
	if err := srv.SucceedRefund(r1.ID); err != nil {
		t.Errorf("second SucceedRefund: %v, want nil (it has succeeded)", err)
	}
	if err := srv.FailRefund(r1.ID, "x"); err != ErrRefundDone {
		t.Errorf("FailRefund of a succeeded refund: %v, want ErrRefundDone", err)
	}
	if err := srv.FailRefund(r2.ID, "交易未结算资金不足，请使用可用余额退款"); err != nil {
		t.Fatal(err)
	}
	if err := srv.SucceedRefund(r2.ID); err != ErrRefundDone {
		t.Errorf("SucceedRefund of a failed refund: %v, want ErrRefundDone", err)
	}
	ds, err := srv.WaitDeliveries(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	json.Unmarshal(ds[1].Payload, &ev)
	var done Refund
	json.Unmarshal(ev.Data.Object, &done)
	if ev.Type != EventRefundSucceeded || done.ID != r1.ID || !done.Succeed || done.Status != RefundSucceeded || done.TimeSucceed == nil || done.TransactionNo == nil {
		t.Errorf("refund.succeeded event %s", ds[1].Payload)
	}
	if got, _ := srv.Charge(c.ID); got.AmountRefunded != 30 {
		t.Errorf("amount_refunded %d, want 30", got.AmountRefunded)
	}
	failed, _ := srv.Refund(r2.ID)
	if failed.Status != RefundFailed || failed.FailureCode == nil || *failed.FailureCode != "refund_refused_msg" {
		t.Errorf("failed refund %+v", failed)
	}
	// A failed refund frees its amount again.
	if status, body := call(t, srv, "POST", path, map[string]any{"amount": 70, "description": "retry"}); status != 200 {
		t.Errorf("refund after a failed one: %d %s", status, body)
	}

	status, body = call(t, srv, "GET", path+"/"+r1.ID, nil)
	var got Refund
	json.Unmarshal(body, &got)
	if status != 200 || got.ID != r1.ID || got.Status != RefundSucceeded {
		t.Errorf("GET refund: %d %s", status, body)
	}
	status, body = call(t, srv, "GET", path+"/re_nope", nil)
	if e := decodeErr(t, body); status != 404 || e.Message != "未找到 refund : re_nope。" || e.Param != "id" {
		t.Errorf("GET unknown refund: %d %+v", status, e)
	}
	status, body = call(t, srv, "GET", path+"?limit=2", nil)
	var list struct {
		URL     string   `json:"url"`
		HasMore bool     `json:"has_more"`
		Data    []Refund `json:"data"`
	}
	json.Unmarshal(body, &list)
	if status != 200 || list.URL != path || !list.HasMore || len(list.Data) != 2 || list.Data[1].ID != r2.ID {
		t.Errorf("GET refunds: %d %s", status, body)
	}
}
