package ledger

import "context"

// AnomalyCounter is a Ledger that counts its anomalies without reading them.
// payorder's gauge of anomalies waiting (payorder.ledger.anomalies), read at
// every collection, uses it where the ledger has it and lists Anomalies,
// payloads and all, where it does not. Memory and the PostgreSQL and MySQL
// ledgers have it; ledgertest.Run checks it against Anomalies.
type AnomalyCounter interface {
	// CountAnomalies returns how many anomalies are recorded: the length
	// of what Anomalies would return.
	CountAnomalies(ctx context.Context) (int, error)
}

var _ AnomalyCounter = (*Memory)(nil)

// CountAnomalies implements AnomalyCounter.
func (m *Memory) CountAnomalies(context.Context) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.anomalies), nil
}
