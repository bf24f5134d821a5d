package ledgertest

import (
	"testing"

	"github.com/yianpay/payorder/pay/ledger"
)

// countAnomalies checks that a ledger that counts its unresolved anomalies
// counts those of Anomalies. A ledger that does not count them (it is
// optional) passes.
func countAnomalies(t *testing.T, l ledger.Ledger) {
	t.Helper()
	c, ok := l.(ledger.AnomalyCounter)
	if !ok {
		return
	}
	all, err := l.Anomalies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, a := range all {
		if a.Resolved.IsZero() {
			want++
		}
	}
	if n, err := c.CountUnresolved(ctx); err != nil || n != want {
		t.Errorf("CountUnresolved = %d, %v; want %d, the unresolved of Anomalies", n, err, want)
	}
}
