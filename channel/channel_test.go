package channel_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/yianpay/payorder"
	"github.com/yianpay/payorder/channel"
)

func TestParse(t *testing.T) {
	for _, c := range channel.All() {
		got, err := channel.Parse(string(c))
		if err != nil || got != c {
			t.Errorf("Parse(%q) = %q, %v", c, got, err)
		}
	}
	for _, bad := range []string{"", "bitcoin", "ALIPAY", "alipay "} {
		_, err := channel.Parse(bad)
		if !errors.Is(err, payorder.ErrInvalidChannel) || !strings.Contains(err.Error(), "unknown channel") {
			t.Errorf("Parse(%q) = %v, want ErrInvalidChannel naming the channel", bad, err)
		}
	}
	if n := len(channel.All()); n < 40 {
		t.Errorf("All() has %d channels, want every channel of API.md §3", n)
	}
}

func TestValidateExtra(t *testing.T) {
	tests := []struct {
		name    string
		ch      channel.Channel
		extra   map[string]any
		wantErr string // substring; "" means valid
	}{
		{"AlipayNeedsNothing", channel.Alipay, nil, ""},
		{"WxNeedsNothing", channel.Wx, map[string]any{}, ""},
		{"AlipayWapSuccessURL", channel.AlipayWap, map[string]any{"success_url": "https://shop.example/ok"}, ""},
		{"AlipayWapMissingSuccessURL", channel.AlipayWap, nil, "extra.success_url is required"},
		{"AlipayWapRelativeURL", channel.AlipayWap, map[string]any{"success_url": "/ok"}, "extra.success_url must be an absolute"},
		{"AlipayWapBadAppPay", channel.AlipayWap, map[string]any{"success_url": "https://a.example/", "app_pay": "yes"}, "extra.app_pay must be true or false"},
		{"AlipayWapAppPayBool", channel.AlipayWap, map[string]any{"success_url": "https://a.example/", "app_pay": true}, ""},
		{"WxPubOpenID", channel.WxPub, map[string]any{"open_id": "o7xEMsySBFG3MVHI-9VsAJX-j50W"}, ""},
		{"WxPubMissingOpenID", channel.WxPub, map[string]any{"open_id": ""}, "extra.open_id is required"},
		{"WxLiteMissingOpenID", channel.WxLite, nil, "channel wx_lite: extra.open_id is required"},
		{"WxPubQRProductID", channel.WxPubQR, map[string]any{"product_id": "6lnhSExr3p"}, ""},
		{"WxPubQRProductIDTooLong", channel.WxPubQR, map[string]any{"product_id": strings.Repeat("x", 33)}, "extra.product_id must be 1 to 32"},
		{"WxLimitPay", channel.Wx, map[string]any{"limit_pay": "credit"}, "extra.limit_pay must be one of no_credit"},
		{"UpacpWapResultURL", channel.UpacpWap, map[string]any{"result_url": "http://a.example/r"}, ""},
		{"CmbWalletMobileDigits", channel.CmbWallet, map[string]any{"result_url": "https://a.example", "p_no": "1", "seq": "2", "m_uid": "3", "mobile": "1380013800x"}, "extra.mobile must be 11 to 11 digits"},
		{"QpayDevice", channel.Qpay, map[string]any{"device": "ios"}, ""},
		{"UnknownKeysPassThrough", channel.Alipay, map[string]any{"hb_fq_num": "3"}, ""},
		{"UnknownChannel", channel.Channel("bitcoin"), nil, `unknown channel "bitcoin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ch.ValidateExtra(tt.extra)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateExtra = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, payorder.ErrInvalidChannel) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateExtra = %v, want ErrInvalidChannel containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateOrderNo(t *testing.T) {
	tests := []struct {
		ch      channel.Channel
		no      string
		wantErr bool
	}{
		{channel.Alipay, "12134676899915430002", false},
		{channel.Alipay, strings.Repeat("9", 64), false},
		{channel.Alipay, strings.Repeat("9", 65), true},
		{channel.Wx, "1", true},
		{channel.Wx, strings.Repeat("a", 32), false},
		{channel.Wx, strings.Repeat("a", 33), true},
		{channel.Upacp, "1234567", true},
		{channel.Upacp, "12345678", false},
		{channel.Alipay, "order-1", true},
		{channel.Alipay, "订单1", true},
	}
	for _, tt := range tests {
		err := tt.ch.ValidateOrderNo(tt.no)
		if (err != nil) != tt.wantErr || err != nil && !errors.Is(err, payorder.ErrInvalidRequest) {
			t.Errorf("%s.ValidateOrderNo(%q) = %v, wantErr %v", tt.ch, tt.no, err, tt.wantErr)
		}
	}
}

func TestExpiryAndIdempotency(t *testing.T) {
	tests := []struct {
		ch         channel.Channel
		max, def   time.Duration
		idempotent channel.Idempotency
	}{
		{channel.Alipay, 15 * 24 * time.Hour, 24 * time.Hour, channel.Idempotency{Window: time.Minute, NewAfter: true}},
		{channel.Wx, 2 * time.Hour, 2 * time.Hour, channel.Idempotency{Window: 2 * time.Hour}},
		{channel.WxPub, 2 * time.Hour, 2 * time.Hour, channel.Idempotency{Window: 2 * time.Hour}},
		{channel.WxWap, 2 * time.Hour, 2 * time.Hour, channel.Idempotency{Window: 5 * time.Minute}},
		{channel.WxPubScan, 2 * time.Hour, 2 * time.Hour, channel.Idempotency{Window: time.Minute, NewAfter: true}},
		{channel.Upacp, time.Hour, time.Hour, channel.Idempotency{Window: time.Minute, NewAfter: true}},
		{channel.IsvQR, 15 * 24 * time.Hour, 24 * time.Hour, channel.Idempotency{Window: time.Minute}},
	}
	for _, tt := range tests {
		if got := tt.ch.MaxExpiry(); got != tt.max {
			t.Errorf("%s.MaxExpiry() = %v, want %v", tt.ch, got, tt.max)
		}
		if got := tt.ch.DefaultExpiry(); got != tt.def {
			t.Errorf("%s.DefaultExpiry() = %v, want %v", tt.ch, got, tt.def)
		}
		if diff := cmp.Diff(tt.idempotent, tt.ch.Idempotency()); diff != "" {
			t.Errorf("%s.Idempotency() (-want +got):\n%s", tt.ch, diff)
		}
	}
}
