package postgres

import (
	"context"
	"fmt"

	"github.com/yianpay/payorder/pay/ledger"
)

var _ ledger.AnomalyCounter = (*Ledger)(nil)

// CountUnresolved implements ledger.AnomalyCounter: one count of the
// anomalies not resolved, without their events.
func (l *Ledger) CountUnresolved(ctx context.Context) (int, error) {
	var n int
	if err := l.pool.QueryRow(ctx, `SELECT count(*) FROM payorder_anomalies WHERE resolved_at IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: counting unresolved anomalies: %w", err)
	}
	return n, nil
}
