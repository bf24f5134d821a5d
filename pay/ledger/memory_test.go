package ledger_test

import (
	"testing"

	"github.com/yianpay/payorder/pay/ledger"
	"github.com/yianpay/payorder/pay/ledger/ledgertest"
)

func TestMemory(t *testing.T) {
	ledgertest.Run(t, func(testing.TB) ledger.Ledger { return &ledger.Memory{} })
}

func TestMemoryInstances(t *testing.T) {
	ledgertest.RunInstances(t, func(testing.TB) []ledger.Ledger {
		m := &ledger.Memory{}
		return []ledger.Ledger{m, m}
	})
}
