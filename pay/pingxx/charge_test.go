package pingxx

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yianpay/payorder/channel"
)

var ignoreRaw = cmpopts.IgnoreUnexported(Charge{}, Refund{}, Event{})

func TestChargeRoundTripsEverySample(t *testing.T) {
	samples := chargeSamples(t)
	for name, b := range eventCharges(t) {
		samples[name] = b
	}
	for name, raw := range samples {
		t.Run(name, func(t *testing.T) {
			var ch Charge
			if err := json.Unmarshal(raw, &ch); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if ch.ID == "" || ch.Object != "charge" || ch.Channel == "" || ch.Amount <= 0 {
				t.Errorf("decoded %+v: missing id, object, channel or amount", ch)
			}
			want := compacted(t, raw)
			if got := encodeNoEscape(t, &ch); got != want {
				t.Errorf("marshal *Charge:\n got %s\nwant %s", got, want)
			}
			if got := encodeNoEscape(t, ch); got != want {
				t.Errorf("marshal Charge:\n got %s\nwant %s", got, want)
			}
			p, err1 := json.Marshal(&ch)
			v, err2 := json.Marshal(ch)
			if err1 != nil || err2 != nil || string(p) != string(v) {
				t.Errorf("json.Marshal(&ch) = %s, %v; json.Marshal(ch) = %s, %v", p, err1, v, err2)
			}
			if string(ch.Raw()) != string(raw) {
				t.Errorf("Raw() differs from the input")
			}
			cred, err := ch.TypedCredential()
			if err != nil {
				t.Errorf("TypedCredential: %v", err)
			}
			if ch.Paid != (cred == nil) {
				t.Errorf("paid %v but credential %#v", ch.Paid, cred)
			}
		})
	}
}

// Inside a larger document (the endpoint's envelope) the charge is
// embedded as received.
func TestChargeEmbedsVerbatim(t *testing.T) {
	raw := chargeSamples(t)["S4"]
	var ch Charge
	if err := json.Unmarshal(raw, &ch); err != nil {
		t.Fatal(err)
	}
	got := encodeNoEscape(t, map[string]any{"ch": &ch, "status": 0})
	want := `{"ch":` + compacted(t, raw) + `,"status":0}`
	if got != want {
		t.Errorf("envelope:\n got %s\nwant %s", got, want)
	}
}

func TestChargeDecodesFields(t *testing.T) {
	var s2, s5 Charge
	if err := json.Unmarshal(chargeSamples(t)["S2"], &s2); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(chargeSamples(t)["S5"], &s5); err != nil {
		t.Fatal(err)
	}
	want := Charge{
		ID: "ch_100200508389284085760006", Object: "charge", Created: 1588905216,
		App: "app_1Gqj58ynP0mHeX1q", Channel: channel.Wx, OrderNo: "1258585802258649088",
		ClientIP: "10.0.1.36", Amount: 50000, AmountSettle: 50000, Currency: "cny",
		Subject: "喜扣商城-购买", Body: "喜扣商城-购买", Extra: map[string]any{},
		Metadata: map[string]any{}, TimeExpire: 1588912416,
		Credential: json.RawMessage(`{"object":"credential","wx":{"appId":"wxwz5oq9houf9ckydo","partnerId":"4776036683","prepayId":"1101000000200508rj9irp4y9gadhk0e","nonceStr":"471074adf01d117d5ffbd180c782f426","timeStamp":1588905216,"packageValue":"Sign=WXPay","sign":"D5B32302D7AD293375CDC4F7585FAD8E"}}`),
		Refunds:    &RefundList{Object: "list", URL: "/v1/charges/ch_100200508389284085760006/refunds", Data: []*Refund{}},
	}
	if diff := cmp.Diff(want, s2, ignoreRaw); diff != "" {
		t.Errorf("S2 (-want +got):\n%s", diff)
	}
	wantMeta := map[string]any{"type": "week", "time": json.Number("1"), "url": "http://t.cn/RtE6YdU", "open_id": nil, "productType": "url"}
	if diff := cmp.Diff(wantMeta, s5.Metadata); diff != "" {
		t.Errorf("S5 metadata (-want +got):\n%s", diff)
	}
	cred, err := s2.TypedCredential()
	if err != nil {
		t.Fatal(err)
	}
	if wx, ok := cred.(channel.WxCredential); !ok || wx.TimeStamp != "1588905216" {
		t.Errorf("S2 credential = %#v, want a WxCredential with timeStamp 1588905216", cred)
	}
}

// A charge built in code (the emulator's) encodes in Ping++'s key order with
// Ping++'s nulls: S2, which has every field, comes out byte for byte.
func TestChargeBuiltEncodesInPingppOrder(t *testing.T) {
	raw := chargeSamples(t)["S2"]
	var decoded Charge
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	built := decoded
	built.raw = nil
	built.Refunds = &RefundList{Object: "list", URL: decoded.Refunds.URL}
	if got, want := encodeNoEscape(t, built), compacted(t, raw); got != want {
		t.Errorf("built charge:\n got %s\nwant %s", got, want)
	}
	// And an empty one is still a charge object with nulls where Ping++ has them.
	got := encodeNoEscape(t, Charge{ID: "ch_1", Channel: channel.Alipay})
	want := `{"id":"ch_1","object":"charge","created":0,"livemode":false,"paid":false,"refunded":false,"reversed":false,"app":"","channel":"alipay","order_no":"","client_ip":"","amount":0,"amount_settle":0,"currency":"","subject":"","body":"","extra":{},"time_paid":null,"time_expire":0,"time_settle":null,"transaction_no":null,"refunds":null,"amount_refunded":0,"failure_code":null,"failure_msg":null,"metadata":{},"credential":{},"description":null}`
	if got != want {
		t.Errorf("empty charge:\n got %s\nwant %s", got, want)
	}
}

// What Ping++ really sends besides the samples' shapes (API.md §4.4).
func TestChargeToleratesPingppQuirks(t *testing.T) {
	base := `{"id":"ch_1","object":"charge","channel":"alipay_wap","amount":1,%s}`
	tests := []struct {
		name  string
		patch string
		check func(Charge) string
	}{
		{"EmptyArraysAreEmptyObjects", `"extra":[],"metadata":[ ],"credential":[]`, func(c Charge) string {
			if c.Extra == nil || len(c.Extra) != 0 || c.Metadata == nil || len(c.Metadata) != 0 || string(c.Credential) != "[]" {
				return "extra/metadata not empty maps or credential changed"
			}
			return ""
		}},
		{"NullsAreZero", `"time_paid":null,"time_settle":null,"transaction_no":null,"description":null,"extra":null,"metadata":null,"refunds":null,"paid":null`, func(c Charge) string {
			if c.TimePaid != 0 || c.TransactionNo != "" || c.Description != "" || c.Extra == nil || c.Refunds != nil {
				return "nulls not decoded as zero/empty"
			}
			return ""
		}},
		{"AppAsExpandedObject", `"app":{"id":"app_x","object":"app","name":"n"}`, func(c Charge) string {
			return cond(c.App != "app_x", "app = %q", c.App)
		}},
		{"AppAsString", `"app":"app_y"`, func(c Charge) string { return cond(c.App != "app_y", "app = %q", c.App) }},
		{"CreatedAsString", `"created":"1409634192"`, func(c Charge) string {
			return cond(c.Created != 1409634192, "created = %d", c.Created)
		}},
		{"IntegralFloat", `"time_expire":1.4816e9`, func(c Charge) string {
			return cond(c.TimeExpire != 1481600000, "time_expire = %d", c.TimeExpire)
		}},
		{"NumberAsString", `"order_no":20161208`, func(c Charge) string {
			return cond(c.OrderNo != "20161208", "order_no = %q", c.OrderNo)
		}},
		{"PaymentTypeNumber", `"credential":{"object":"credential","alipay_wap":{"channel_url":"https://mapi.alipay.com/gateway.do","payment_type":1}}`, func(c Charge) string {
			cred, err := c.TypedCredential()
			f, ok := cred.(channel.FormCredential)
			return cond(err != nil || !ok || f.Fields["payment_type"] != "1", "credential %#v, %v", cred, err)
		}},
		{"RefundsAsEmptyArray", `"refunds":[]`, func(c Charge) string {
			return cond(c.Refunds == nil || len(c.Refunds.Data) != 0, "refunds = %+v", c.Refunds)
		}},
		{"UnknownKeysKept", `"brand_new":{"x":[1,2]}`, func(c Charge) string {
			return cond(!strings.Contains(string(mustMarshal(c)), `"brand_new":{"x":[1,2]}`), "unknown key dropped")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := strings.Replace(base, "%s", tt.patch, 1)
			var c Charge
			if err := json.Unmarshal([]byte(raw), &c); err != nil {
				t.Fatalf("Unmarshal(%s): %v", raw, err)
			}
			if msg := tt.check(c); msg != "" {
				t.Error(msg)
			}
			if got, want := encodeNoEscape(t, c), compacted(t, []byte(raw)); got != want {
				t.Errorf("re-encoded:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestChargeRejectsWhatIsNotACharge(t *testing.T) {
	for name, raw := range map[string]string{
		"Array":          `[1]`,
		"String":         `"ch_1"`,
		"Truncated":      `{"id":"ch_1"`,
		"IDIsObject":     `{"id":{}}`,
		"AmountIsWord":   `{"amount":"ten"}`,
		"AmountFraction": `{"amount":1.5}`,
		"PaidIsArray":    `{"paid":[true]}`,
		"ExtraIsString":  `{"extra":"x"}`,
		"ExtraIsList":    `{"extra":[1]}`,
		"RefundsIsList":  `{"refunds":[{"id":1}]}`,
		"RefundIsBroken": `{"refunds":{"data":[{"amount":{}}]}}`,
		"AppObjectNoStr": `{"app":{"id":[]}}`,
		"TrailingJunk":   `{"id":"ch_1"}x`,
	} {
		t.Run(name, func(t *testing.T) {
			c := Charge{ID: "before"}
			err := c.UnmarshalJSON([]byte(raw))
			if err == nil {
				t.Fatalf("UnmarshalJSON(%s) = nil error, decoded %+v", raw, c)
			}
			if c.ID != "before" {
				t.Errorf("failed decode changed the charge: %+v", c)
			}
			if !strings.HasPrefix(err.Error(), "pingxx: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestChargeNullLeavesItUnchanged(t *testing.T) {
	c := Charge{ID: "kept"}
	if err := c.UnmarshalJSON([]byte("null")); err != nil || c.ID != "kept" {
		t.Errorf("UnmarshalJSON(null) = %v, charge %+v", err, c)
	}
}

func TestChargeExpired(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 0) }
	tests := []struct {
		name string
		c    Charge
		now  time.Time
		want bool
	}{
		{"BeforeTimeExpire", Charge{TimeExpire: 100}, at(99), false},
		{"AtTimeExpire", Charge{TimeExpire: 100}, at(100), true},
		{"NoTimeExpireUsesChannelDefault", Charge{Created: 100, Channel: channel.Wx}, at(100 + 7199), false},
		{"NoTimeExpireAfterChannelDefault", Charge{Created: 100, Channel: channel.Wx}, at(100 + 7200), true},
		{"NoTimesAtAll", Charge{}, at(0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.Expired(tt.now); got != tt.want {
				t.Errorf("Expired = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRefundRoundTripsSamples(t *testing.T) {
	for _, name := range []string{"R1", "R2"} {
		t.Run(name, func(t *testing.T) {
			_, body, _ := strings.Cut(string(readFile(t, "errors/"+name+".http")), "\n\n")
			var r Refund
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatal(err)
			}
			if r.ID == "" || r.ChargeID == "" || r.Status == "" {
				t.Errorf("decoded %+v", r)
			}
			if got, want := encodeNoEscape(t, r), compacted(t, []byte(body)); got != want {
				t.Errorf("re-encoded:\n got %s\nwant %s", got, want)
			}
			built := r
			built.raw = nil
			if got, want := encodeNoEscape(t, built), compacted(t, []byte(body)); got != want {
				t.Errorf("built refund:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestChargeListDecodes(t *testing.T) {
	s3 := chargeSamples(t)["S3"]
	raw := `{"object":"list","url":"/v1/charges","has_more":true,"data":[` + string(s3) + `]}`
	var l ChargeList
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		t.Fatal(err)
	}
	if !l.HasMore || len(l.Data) != 1 || l.Data[0].ID != "ch_58iDK0u5iDyPOunfHS9ufTS4" {
		t.Errorf("list = %+v", l)
	}
	if got, want := encodeNoEscape(t, l), compacted(t, []byte(raw)); got != want {
		t.Errorf("re-encoded:\n got %s\nwant %s", got, want)
	}
}

func cond(bad bool, format string, args ...any) string {
	if !bad {
		return ""
	}
	return strings.TrimSpace(fmt.Sprintf(format, args...))
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(err.Error())
	}
	return b
}

func FuzzChargeUnmarshal(f *testing.F) {
	for _, b := range chargeSamples(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"id":"ch_1","extra":[],"app":{"id":"a"},"created":"1","refunds":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Charge
		if err := c.UnmarshalJSON(data); err != nil || c.raw == nil {
			return
		}
		// Whatever decodes re-encodes to the same JSON, whitespace aside.
		got, err := c.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		if want := compacted(t, data); string(got) != want {
			t.Fatalf("re-encoded:\n got %s\nwant %s", got, want)
		}
		_, _ = c.TypedCredential()
	})
}
