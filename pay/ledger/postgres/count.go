package postgres

import (
	"context"
	"fmt"

	"github.com/yianpay/payorder/pay/ledger"
)

var _ ledger.AnomalyCounter = (*Ledger)(nil)

// CountAnomalies implements ledger.AnomalyCounter: one count over the
// anomalies' primary key, without their events.
func (l *Ledger) CountAnomalies(ctx context.Context) (int, error) {
	var n int
	if err := l.pool.QueryRow(ctx, `SELECT count(*) FROM payorder_anomalies`).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: counting anomalies: %w", err)
	}
	return n, nil
}
