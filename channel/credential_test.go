package channel_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yianpay/payorder/channel"
)

// Credentials as they appear in the real samples of pingpp/samples/charges
// and in the seed document.
func TestDecodeCredential(t *testing.T) {
	tests := []struct {
		name string
		ch   channel.Channel
		json string
		want channel.Credential
	}{
		{
			"AlipaySeed", channel.Alipay,
			`{"alipay":{"orderInfo":"service=\"mobile.securitypay.pay\"&total_fee=\"99.00\""},"object":"credential"}`,
			channel.AlipayCredential{OrderInfo: `service="mobile.securitypay.pay"&total_fee="99.00"`},
		},
		{
			"WxNumericTimeStamp", channel.Wx,
			`{"object":"credential","wx":{"appId":"wxwz5oq9houf9ckydo","partnerId":"4776036683","prepayId":"1101000000200508rj9irp4y9gadhk0e","nonceStr":"471074adf01d117d5ffbd180c782f426","timeStamp":1588905216,"packageValue":"Sign=WXPay","sign":"D5B32302D7AD293375CDC4F7585FAD8E"}}`,
			channel.WxCredential{AppID: "wxwz5oq9houf9ckydo", PartnerID: "4776036683", PrepayID: "1101000000200508rj9irp4y9gadhk0e", NonceStr: "471074adf01d117d5ffbd180c782f426", TimeStamp: "1588905216", PackageValue: "Sign=WXPay", Sign: "D5B32302D7AD293375CDC4F7585FAD8E"},
		},
		{
			"WxStringTimeStamp", channel.Wx,
			`{"object":"credential","wx":{"appId":"a","timeStamp":"1478848025"}}`,
			channel.WxCredential{AppID: "a", TimeStamp: "1478848025"},
		},
		{
			"WxPub", channel.WxPub,
			`{"object":"credential","wx_pub":{"package":"prepay_id=wx201606230944313536d8cf380312696196","timeStamp":"1466646271","signType":"MD5","paySign":"3D1C88384E5F1420A7EFC432B3928053","appId":"wx3f91056a2928ad2d","nonceStr":"3b9fcceda9eed71e5913806f60935792"}}`,
			nil, // compared field by field below: the channel is unexported
		},
		{"Empty", channel.Wx, `{}`, nil},
		{"EmptyArray", channel.Wx, `[]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := channel.DecodeCredential(tt.ch, []byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "WxPub" {
				c, ok := got.(channel.WxPubCredential)
				if !ok || c.Channel() != channel.WxPub || c.Package != "prepay_id=wx201606230944313536d8cf380312696196" || c.TimeStamp != "1466646271" || c.PaySign == "" {
					t.Fatalf("got %#v", got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeCredentialShapes(t *testing.T) {
	tests := []struct {
		ch    channel.Channel
		json  string
		check func(t *testing.T, c channel.Credential)
	}{
		{channel.WxPubQR, `{"object":"credential","wx_pub_qr":"weixin://wxpay/bizpayurl?pr=kW7d8uK"}`, func(t *testing.T, c channel.Credential) {
			if u := c.(channel.URLCredential); u.URL != "weixin://wxpay/bizpayurl?pr=kW7d8uK" {
				t.Errorf("URL = %q", u.URL)
			}
		}},
		{channel.Upacp, `{"object":"credential","upacp":{"tn":"201509181017374044084","mode":"00"}}`, func(t *testing.T, c channel.Credential) {
			if u := c.(channel.UpacpCredential); u.TN != "201509181017374044084" || u.Mode != "00" {
				t.Errorf("got %+v", u)
			}
		}},
		{channel.AlipayWap, `{"object":"credential","alipay_wap":{"channel_url":"https://mapi.alipay.com/gateway.do","payment_type":1,"total_fee":"0.01","app_pay":"Y"}}`, func(t *testing.T, c channel.Credential) {
			f := c.(channel.FormCredential)
			want := map[string]string{"payment_type": "1", "total_fee": "0.01", "app_pay": "Y"}
			if f.ChannelURL != "https://mapi.alipay.com/gateway.do" || !cmp.Equal(want, f.Fields, cmpopts.EquateEmpty()) {
				t.Errorf("got %+v", f)
			}
		}},
		{channel.Balance, `{"object":"credential","balance":{"x":1}}`, func(t *testing.T, c channel.Credential) {
			if r := c.(channel.RawCredential); string(r.JSON) != `{"x":1}` || r.Channel() != channel.Balance {
				t.Errorf("got %+v", r)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.ch), func(t *testing.T) {
			c, err := channel.DecodeCredential(tt.ch, []byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if c.Channel() != tt.ch {
				t.Errorf("Channel() = %s", c.Channel())
			}
			tt.check(t, c)
		})
	}
}

func TestDecodeCredentialErrors(t *testing.T) {
	for _, bad := range []string{`{"object":"credential","alipay":{"orderInfo":1}}`, `{"object":"credential","wx":{}}`, `"x"`, `{`} {
		if _, err := channel.DecodeCredential(channel.Alipay, []byte(bad)); err == nil {
			t.Errorf("DecodeCredential(%s) = nil error", bad)
		}
	}
}
