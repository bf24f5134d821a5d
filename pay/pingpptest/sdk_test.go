package pingpptest

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	pingpp "github.com/pingplusplus/pingpp-go/pingpp"
	"github.com/pingplusplus/pingpp-go/pingpp/charge"
)

// useSDK points pingpp-go's package globals at srv for one test. Those
// globals are why the SDK tests never run in parallel.
func useSDK(t *testing.T, srv *Server, privateKeyPEM string) {
	t.Helper()
	oldBackend, oldKey, oldLevel, oldPriv := pingpp.GetBackend(pingpp.APIBackend), pingpp.Key, pingpp.LogLevel, pingpp.AccountPrivateKey
	pingpp.SetBackend(pingpp.APIBackend, &pingpp.ApiBackend{Type: pingpp.APIBackend, URL: srv.APIBase(), HTTPClient: srv.Client()})
	pingpp.Key, pingpp.LogLevel, pingpp.AccountPrivateKey = DefaultSecretKey, 0, privateKeyPEM
	t.Cleanup(func() {
		pingpp.SetBackend(pingpp.APIBackend, oldBackend)
		pingpp.Key, pingpp.LogLevel, pingpp.AccountPrivateKey = oldKey, oldLevel, oldPriv
	})
}

func sdkParams(orderNo, ch string) *pingpp.ChargeParams {
	return &pingpp.ChargeParams{
		Order_no: orderNo, App: pingpp.App{Id: DefaultAppID}, Channel: ch, Amount: 9900,
		Currency: "cny", Client_ip: "127.0.0.1", Subject: "课程", Body: "collection的使用",
		Metadata: map[string]interface{}{"order_no": orderNo, "buyer": "15201052252"},
	}
}

func TestPingppGoSDKAgainstEmulator(t *testing.T) {
	// The emulator requires signatures here, so the SDK's signing (body +
	// RequestURI + timestamp, PKCS#1 key) is exercised too.
	srv := newServer(t, Config{MerchantPublicKeyPEM: []byte(MerchantPublicKeyPEM)})
	useSDK(t, srv, MerchantPrivateKeyPEM)

	ch, err := charge.New(sdkParams("12134676899915430002", "alipay"))
	if err != nil {
		t.Fatalf("charge.New: %v", err)
	}
	stored, ok := srv.Charge(ch.ID)
	if !ok {
		t.Fatalf("charge.New returned %q, which the emulator does not hold", ch.ID)
	}
	got := [...]any{ch.Object, ch.App, ch.Channel, ch.Order_no, ch.Amount, ch.Currency, ch.Subject, ch.Body, ch.Time_expire, ch.Metadata["buyer"]}
	want := [...]any{"charge", DefaultAppID, "alipay", "12134676899915430002", uint64(9900), "cny", "课程", "collection的使用", uint64(stored.TimeExpire), "15201052252"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charge.New fields (-want +got):\n%s", diff)
	}
	cred, _ := ch.Credential["alipay"].(map[string]interface{})
	if info, _ := cred["orderInfo"].(string); info == "" {
		t.Errorf("credential %v has no alipay.orderInfo", ch.Credential)
	}

	wx, err := charge.New(sdkParams("12134676899915430003", "wx"))
	if err != nil {
		t.Fatalf("charge.New wx: %v", err)
	}
	if err := srv.Pay(wx.ID); err != nil {
		t.Fatal(err)
	}
	paid, err := charge.Get(wx.ID)
	if err != nil || !paid.Paid || paid.Time_paid == 0 || paid.Transaction_no == "" {
		t.Errorf("charge.Get after Pay: %+v, %v", paid, err)
	}

	it := charge.List(DefaultAppID, &pingpp.ChargeListParams{ListParams: pingpp.ListParams{Limit: 1}})
	var ids []string
	for it.Next() {
		ids = append(ids, it.Charge().ID)
	}
	if err := it.Err(); err != nil {
		t.Fatalf("charge.List: %v", err)
	}
	if diff := cmp.Diff([]string{wx.ID, ch.ID}, ids); diff != "" {
		t.Errorf("charge.List with limit 1 over two pages, newest first (-want +got):\n%s", diff)
	}

	_, err = charge.New(sdkParams("bad-order-no", "alipay"))
	var perr *pingpp.Error
	if !errors.As(err, &perr) || perr.HTTPStatusCode != 400 || perr.Param != "order_no" || perr.Type != pingpp.InvalidRequest {
		t.Errorf("invalid order_no: %v, want a 400 *pingpp.Error with param order_no", err)
	}
	_, err = charge.Get("ch_nope")
	if !errors.As(err, &perr) || perr.HTTPStatusCode != 404 || perr.Msg != "未找到 charge : ch_nope。" {
		t.Errorf("unknown charge: %v, want 404", err)
	}
}

func TestPingppGoSDKWithoutSignature(t *testing.T) {
	srv := newServer(t, Config{MerchantPublicKeyPEM: []byte(MerchantPublicKeyPEM)})
	useSDK(t, srv, "")
	_, err := charge.New(sdkParams("12134676899915430004", "alipay"))
	var perr *pingpp.Error
	if !errors.As(err, &perr) || perr.HTTPStatusCode != 400 || perr.Msg != "没有提供签名串，需要在 header 中加入签名串。" {
		t.Errorf("unsigned charge.New: %v, want 400 没有提供签名串", err)
	}
	if n := srv.Stats().ChargesCreated; n != 0 {
		t.Errorf("ChargesCreated %d, want 0", n)
	}
}
