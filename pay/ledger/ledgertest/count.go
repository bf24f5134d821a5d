package ledgertest

import (
	"testing"

	"github.com/yianpay/payorder/pay/ledger"
)

// countAnomalies checks that a ledger that counts its anomalies counts
// want, the number Anomalies returned. A ledger that does not count them
// (it is optional) passes.
func countAnomalies(t *testing.T, l ledger.Ledger, want int) {
	t.Helper()
	c, ok := l.(ledger.AnomalyCounter)
	if !ok {
		return
	}
	if n, err := c.CountAnomalies(ctx); err != nil || n != want {
		t.Errorf("CountAnomalies = %d, %v; want %d, the number Anomalies returned", n, err, want)
	}
}
