package postgres_test

import (
	"testing"

	"github.com/yianpay/payorder/pay/ledger/internal/restarttest"
)

// TestOnRefundedRunsOnceAcrossADatabaseRestart: see restarttest.OnRefunded.
func TestOnRefundedRunsOnceAcrossADatabaseRestart(t *testing.T) {
	restarttest.OnRefunded(t, openRestart)
}
