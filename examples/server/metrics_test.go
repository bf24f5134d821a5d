package main

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scrape reads GET url and returns the values of the samples of the named
// metric families, keyed by their name and labels as the text format
// writes them (payorder_charges_total{channel="alipay",…}).
func scrape(t *testing.T, url string, families ...string) map[string]float64 {
	t.Helper()
	res, err := httpClient.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, f := range families {
			if !strings.HasPrefix(line, f+"{") && !strings.HasPrefix(line, f+" ") {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			v, err := strconv.ParseFloat(line[i+1:], 64)
			if err != nil {
				t.Fatalf("sample %q: %v", line, err)
			}
			out[dropScope(line[:i])] = v
		}
	}
	return out
}

// dropScope removes the otel_scope_* labels the exporter adds, which name
// the instrumenting package and its version, not what is measured.
func dropScope(sample string) string {
	name, labels, ok := strings.Cut(strings.TrimSuffix(sample, "}"), "{")
	if !ok {
		return sample
	}
	var kept []string
	for l := range strings.SplitSeq(labels, ",") {
		if !strings.HasPrefix(l, "otel_scope_") {
			kept = append(kept, l)
		}
	}
	return name + "{" + strings.Join(kept, ",") + "}"
}

// TestMetricsEndpoint: with -metrics-addr the server serves GET /metrics on
// its own listener, and the counters move with a create, a reuse and a
// refusal; the public endpoint does not serve them.
func TestMetricsEndpoint(t *testing.T) {
	a := start(t, nil, "-metrics-addr", "127.0.0.1:0")
	metricsURL := "http://" + a.Metrics + "/metrics"
	families := []string{"payorder_charges_total", "payorder_pay_for_order_duration_seconds_count", "payorder_pingxx_request_duration_seconds_count", "payorder_ledger_orders_open"}
	before := scrape(t, metricsURL, families...)
	if diff := cmp.Diff(map[string]float64{"payorder_ledger_orders_open{}": 0}, before); diff != "" {
		t.Errorf("before any payment (-want +got):\n%s", diff)
	}
	form := "order_no=" + seedOrderNo + "&channel=alipay"
	for range 2 {
		if body := putForm(t, a.API, seedToken, form); body["status"] != 0.0 {
			t.Fatalf("answered %v", body)
		}
	}
	if body := putForm(t, a.API, seedToken, "order_no="+seedOrderNo+"&channel=bitcoin"); body["status"] != -4.0 {
		t.Fatalf("bitcoin answered %v", body)
	}
	want := map[string]float64{
		`payorder_charges_total{channel="alipay",outcome="created"}`:                                 1,
		`payorder_charges_total{channel="alipay",outcome="reused"}`:                                  1,
		`payorder_charges_total{channel="unknown",outcome="failed",reason="invalid_channel"}`:        1,
		`payorder_pay_for_order_duration_seconds_count{channel="alipay",path="create"}`:              1,
		`payorder_pay_for_order_duration_seconds_count{channel="alipay",path="reuse"}`:               1,
		`payorder_pay_for_order_duration_seconds_count{channel="unknown",path="rejected"}`:           1,
		`payorder_pingxx_request_duration_seconds_count{route="POST /v1/charges",status_code="200"}`: 1,
		`payorder_ledger_orders_open{}`:                                                              0,
	}
	if diff := cmp.Diff(want, scrape(t, metricsURL, families...)); diff != "" {
		t.Errorf("after a create, a reuse and a refusal (-want +got):\n%s", diff)
	}

	res, err := httpClient.Get(a.API + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /metrics on the public endpoint answered %d, want 404", res.StatusCode)
	}
}

// TestMetricsOffByDefault: without the flag or PAYORDER_METRICS_ADDR no
// metrics listener is opened.
func TestMetricsOffByDefault(t *testing.T) {
	if a := start(t, nil); a.Metrics != "" {
		t.Errorf("metrics served at %s without being asked", a.Metrics)
	}
	if a := start(t, map[string]string{"PAYORDER_METRICS_ADDR": "127.0.0.1:0"}); a.Metrics == "" {
		t.Error("PAYORDER_METRICS_ADDR did not turn the metrics on")
	}
}
