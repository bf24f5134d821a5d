package pay_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkHandler measures the endpoint on its most common path, a repeat
// that hands out the live charge, over HTTP from parallel clients, against a
// bare net/http handler that parses the same form and writes the same bytes,
// in the same run, each from 32 client goroutines over keep-alive
// connections. It reports the endpoint's throughput as a fraction of the
// bare handler's ("of-bare").
func BenchmarkHandler(b *testing.B) {
	e := setup(b)
	body := "order_no=" + seedOrderNo + "&channel=alipay"
	first := e.payForm(b, seedToken, seedOrderNo, "alipay")
	if first.env.Status != 0 {
		b.Fatalf("first payment: %s", first.body)
	}
	answer := []byte(first.body)
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("order_no") != seedOrderNo || r.Header.Get("Authorization") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	})
	// Each run times both handlers on b.N requests, one after the other, so
	// that the ratio compares them under the same load of the machine.
	run := func(b *testing.B, h http.Handler) time.Duration {
		srv := httptest.NewServer(h)
		defer srv.Close()
		transport := srv.Client().Transport.(*http.Transport).Clone()
		transport.MaxIdleConnsPerHost = 64
		client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
		var next atomic.Int64
		var wg sync.WaitGroup
		began := time.Now()
		for range 32 {
			wg.Go(func() {
				for next.Add(1) <= int64(b.N) {
					if err := putOnce(client, srv.URL, body, len(answer)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		return time.Since(began)
	}
	b.ResetTimer()
	bareTime := run(b, bare)
	endpointTime := run(b, e.handler)
	b.ReportMetric(float64(bareTime)/float64(endpointTime), "of-bare")
	b.ReportMetric(float64(endpointTime.Nanoseconds())/float64(b.N), "endpoint-ns/req")
}

// putOnce sends one PUT of body and checks that a 200 answer of want bytes
// comes back.
func putOnce(client *http.Client, base, body string, want int) error {
	req, err := http.NewRequest(http.MethodPut, base+"/pay/pay_for_order/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Token "+seedToken)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || len(got) != want {
		return fmt.Errorf("answer %d, %d bytes (%v); want 200 and %d bytes", res.StatusCode, len(got), err, want)
	}
	return nil
}
