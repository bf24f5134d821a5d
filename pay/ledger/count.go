package ledger

import "context"

// AnomalyCounter is a Ledger that counts its unresolved anomalies without
// reading them. payorder's gauge of anomalies waiting for a person
// (payorder.ledger.anomalies), read at every collection, uses it where the
// ledger has it, and lists Anomalies, payloads and all, where it does not.
// Memory and the PostgreSQL and MySQL ledgers have it; ledgertest.Run
// checks it against Anomalies.
type AnomalyCounter interface {
	// CountUnresolved returns how many anomalies are recorded and not
	// resolved: those of Anomalies whose Resolved is zero.
	CountUnresolved(ctx context.Context) (int, error)
}

var _ AnomalyCounter = (*Memory)(nil)

// CountUnresolved implements AnomalyCounter.
func (m *Memory) CountUnresolved(context.Context) (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for _, a := range m.anomalies {
		if a.Resolved.IsZero() {
			n++
		}
	}
	return n, nil
}
