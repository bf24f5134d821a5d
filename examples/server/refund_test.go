package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const testAdminToken = "op-0123456789abcdef0123456789abcdef"

// postRefund posts body to the refund route with the Authorization header
// auth and returns the HTTP status and the decoded answer.
func postRefund(t *testing.T, base, auth, body string) (int, map[string]any) {
	t.Helper()
	return postAdmin(t, base+"/admin/refunds/", auth, body)
}

// postAdmin posts body to the operator's route url with the Authorization
// header auth and returns the HTTP status and the decoded answer.
func postAdmin(t *testing.T, url, auth, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var got map[string]any
	json.Unmarshal(b, &got) // a 404 has a text body
	return res.StatusCode, got
}

// payOrder pays the seed's order through the embedded emulator and waits
// for the webhook to record it.
func payOrder(t *testing.T, a addrs) {
	t.Helper()
	got := putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay")
	ch, _ := got["ch"].(map[string]any)
	id, _ := ch["id"].(string)
	res, err := http.Get(a.Emulator + "/notify/charges/" + id + "?livemode=false")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	eventually(t, 10*time.Second, func() bool {
		return putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=alipay")["status"] == -3.0
	})
}

// TestOperatorRefundRoute is the README's "Refunds" walk-through: the
// operator's token refunds, a repeat of the same request id answers the
// same refund without a second, a buyer's token is refused, and more than
// is refundable is refused with its status.
func TestOperatorRefundRoute(t *testing.T) {
	a := start(t, map[string]string{"PAYORDER_ADMIN_TOKEN": testAdminToken})
	payOrder(t, a)
	body := `{"order_no":"` + seedOrderNo + `","amount":3000,"request_id":"op-1","description":"退一节课"}`
	for _, auth := range []string{"", "Token " + seedToken, "Bearer " + seedToken, "Token " + testAdminToken} {
		if code, _ := postRefund(t, a.API, auth, body); code != http.StatusUnauthorized {
			t.Errorf("Authorization %q answered %d; want 401", auth, code)
		}
	}
	var first map[string]any
	for i := range 2 {
		code, got := postRefund(t, a.API, "Bearer "+testAdminToken, body)
		rf, _ := got["refund"].(map[string]any)
		if code != http.StatusOK || got["status"] != 0.0 || rf["state"] != "succeeded" || rf["amount"] != 3000.0 {
			t.Fatalf("refund #%d: %d %v", i+1, code, got)
		}
		if i == 0 {
			first = rf
		} else if rf["refund_id"] != first["refund_id"] {
			t.Errorf("the same request id answered refund %v, then %v", first["refund_id"], rf["refund_id"])
		}
	}
	for _, tt := range []struct {
		body   string
		status float64
	}{
		{`{"order_no":"` + seedOrderNo + `","amount":7000,"request_id":"op-2","description":"too much"}`, -7},
		{`{"order_no":"` + otherOrderNo + `","amount":1,"request_id":"op-3","description":"unpaid"}`, -8},
		{`{"order_no":"` + seedOrderNo + `","amount":1,"request_id":"op-4"}`, -1},
		{`{"order_no":"` + seedOrderNo + `","amount":6900,"request_id":"op-5","description":"rest"}`, 0},
		{`{"order_no":"` + seedOrderNo + `","request_id":"op-6","description":"nothing left"}`, -6},
	} {
		if code, got := postRefund(t, a.API, "Bearer "+testAdminToken, tt.body); code != http.StatusOK || got["status"] != tt.status {
			t.Errorf("%s: %d %v; want status %v", tt.body, code, got, tt.status)
		}
	}
	// Only a refund_unconfirmed refund may be abandoned; the route is the
	// operator's too.
	abandon := `{"order_no":"` + seedOrderNo + `","request_id":"op-1","reason":"not in the dashboard"}`
	if code, got := postAdmin(t, a.API+"/admin/refunds/abandon/", "Bearer "+testAdminToken, abandon); code != http.StatusOK || got["status"] != -1.0 {
		t.Errorf("abandoning a succeeded refund: %d %v; want status -1", code, got)
	}
	if code, _ := postAdmin(t, a.API+"/admin/refunds/abandon/", "Token "+seedToken, abandon); code != http.StatusUnauthorized {
		t.Errorf("abandon with a buyer's token answered %d; want 401", code)
	}
	if code, _ := postAdmin(t, a.API+"/admin/refunds/other/", "Bearer "+testAdminToken, abandon); code != http.StatusNotFound {
		t.Errorf("an unknown operator route answered %d; want 404", code)
	}
	res, err := httpClient.Get(a.Emulator + "/_emulator/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var stats map[string]int64
	if err := json.NewDecoder(res.Body).Decode(&stats); err != nil || stats["refund_requests"] != 2 || stats["refunds_created"] != 2 {
		t.Errorf("stats %v (%v); want two refunds from two requests", stats, err)
	}
}

// TestRefundRouteNeedsAnAdminToken: without PAYORDER_ADMIN_TOKEN, or with a
// short one, the route is not mounted at all.
func TestRefundRouteNeedsAnAdminToken(t *testing.T) {
	for _, token := range []string{"", "short"} {
		a := start(t, map[string]string{"PAYORDER_ADMIN_TOKEN": token})
		if code, _ := postRefund(t, a.API, "Bearer "+token, `{}`); code != http.StatusNotFound {
			t.Errorf("token %q: the route answered %d; want 404, not mounted", token, code)
		}
	}
}
