package pingpptest

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/yianpay/payorder/pay/pingxx"
)

func TestConcurrentRepeatsCreateOneCharge(t *testing.T) {
	srv := newServer(t, Config{})
	const n = 16
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { ids <- create(t, srv, params("wx", nil)).ID })
	}
	wg.Wait()
	close(ids)
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Errorf("concurrent repeats got charges %s and %s, want one", first, id)
		}
	}
	if s := srv.Stats(); s.ChargesCreated != 1 || s.Requests != n || s.MaxInFlight < 1 || s.InFlight != 0 {
		t.Errorf("stats %+v, want 1 charge from %d requests", s, n)
	}
}

// BenchmarkCreateCharge reports what request signature checks cost: the
// time of a signed create relative to an unsigned one (signed/unsigned).
func BenchmarkCreateCharge(b *testing.B) {
	plain := newServer(b, Config{})
	signed := newServer(b, Config{MerchantPublicKeyPEM: []byte(MerchantPublicKeyPEM)})
	key, err := pingxx.ParsePrivateKey([]byte(MerchantPrivateKeyPEM))
	if err != nil {
		b.Fatal(err)
	}
	body := func(i int) []byte {
		return mustJSON(b, params("alipay", map[string]any{"order_no": "BENCH" + strconv.Itoa(i)}))
	}
	var unsignedTime, signedTime time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if status, out := call(b, plain, "POST", "/v1/charges", body(i)); status != 200 {
			b.Fatalf("unsigned: %d %s", status, out)
		}
		unsignedTime += time.Since(start)
		p := body(i)
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		sig, err := pingxx.SignRequest(key, p, "/v1/charges", ts)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now() // the client's signing is not the emulator's cost
		if status, out := call(b, signed, "POST", "/v1/charges", p, pingxx.HeaderSignature, sig, pingxx.HeaderTimestamp, ts); status != 200 {
			b.Fatalf("signed: %d %s", status, out)
		}
		signedTime += time.Since(start)
	}
	b.ReportMetric(float64(signedTime)/float64(unsignedTime), "signed/unsigned")
}
