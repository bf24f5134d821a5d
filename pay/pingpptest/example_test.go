package pingpptest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/yianpay/payorder/pay/pingpptest"
	"github.com/yianpay/payorder/pay/pingxx"
)

// A test creates a charge over HTTP, pays it, and receives a signed
// charge.succeeded webhook.
func ExampleNewServer() {
	events := make(chan string, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		pub, _ := pingxx.ParsePublicKey([]byte(pingpptest.WebhookPublicKeyPEM))
		if err := pingxx.Verify(pub, body, r.Header.Get(pingxx.HeaderWebhookSignature)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ev struct{ Type string }
		json.Unmarshal(body, &ev)
		events <- ev.Type
	}))
	defer receiver.Close()

	srv := pingpptest.NewServer(pingpptest.Config{WebhookURL: receiver.URL})
	defer srv.Close()

	body := `{"order_no":"12134676899915430002","app":{"id":"` + pingpptest.DefaultAppID + `"},` +
		`"channel":"alipay","amount":9900,"currency":"cny","client_ip":"127.0.0.1","subject":"课程","body":"collection的使用"}`
	req, _ := http.NewRequest("POST", srv.APIBase()+"/charges", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+pingpptest.DefaultSecretKey)
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	var ch struct {
		ID     string
		Paid   bool
		Amount int
	}
	json.NewDecoder(resp.Body).Decode(&ch)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, ch.Paid, ch.Amount)

	if err := srv.Pay(ch.ID); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(<-events)
	deliveries, _ := srv.WaitDeliveries(context.Background(), 1)
	fmt.Println(deliveries[0].Status, srv.Stats().ChargesCreated)
	// Output:
	// 200 false 9900
	// charge.succeeded
	// 200 1
}

// Faults make the next calls fail; After lets the charge be created and
// then loses the answer, the "unknown outcome" a client must handle.
func ExampleEmulator_Fail() {
	srv := pingpptest.NewServer(pingpptest.Config{})
	defer srv.Close()
	srv.Fail(pingpptest.Fault{Route: pingpptest.RouteCreateCharge, Kind: pingpptest.FaultHTTP502HTML, Times: 1, After: true})

	body := `{"order_no":"A0001","app":{"id":"` + pingpptest.DefaultAppID + `"},` +
		`"channel":"wx","amount":1,"currency":"cny","client_ip":"127.0.0.1","subject":"s","body":"b"}`
	req, _ := http.NewRequest("POST", srv.APIBase()+"/charges", strings.NewReader(body))
	req.SetBasicAuth(pingpptest.DefaultSecretKey, "")
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), len(srv.Charges()))
	// Output:
	// 502 text/html 1
}
