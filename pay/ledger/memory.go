package ledger

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Memory is a Ledger in memory, for tests, examples and a single instance
// that may lose its ledger on restart. The zero value is ready to use, on
// the clock time.Now.
type Memory struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu        sync.RWMutex
	records   map[string]*Record
	numbers   map[string]string // Ping++ order number → order number
	charges   map[string]string // charge id → order number
	anomalies []Anomaly
}

var _ Ledger = (*Memory)(nil)

func (m *Memory) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Read implements Ledger.
func (m *Memory) Read(_ context.Context, no string) (*Record, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.copyOf(no), nil
}

func (m *Memory) copyOf(no string) *Record {
	var r *Record
	if stored, ok := m.records[no]; ok {
		r = stored.Clone()
	} else {
		r = &Record{OrderNo: no}
	}
	r.Now = m.now()
	return r
}

// Update implements Ledger.
func (m *Memory) Update(_ context.Context, no string, fn func(r *Record, db any) error) (*Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.copyOf(no)
	nAttempts, nCharges := len(r.Attempts), len(r.Charges)
	if err := fn(r, nil); err != nil {
		return nil, err
	}
	r.OrderNo = no
	for _, a := range r.Attempts[nAttempts:] {
		if owner, ok := m.numbers[a.PingppOrderNo]; ok && owner != no || r.NumberUsedTwice(a.PingppOrderNo) {
			return nil, ErrNumberTaken
		}
	}
	for _, c := range r.Charges[nCharges:] {
		if owner, ok := m.charges[c.ID]; ok && owner != no {
			return nil, fmt.Errorf("ledger: charge %s is recorded for order %s, not %s", c.ID, owner, no)
		}
	}
	if m.records == nil {
		m.records, m.numbers, m.charges = make(map[string]*Record), make(map[string]string), make(map[string]string)
	}
	for _, a := range r.Attempts[nAttempts:] {
		m.numbers[a.PingppOrderNo] = no
	}
	for _, c := range r.Charges[nCharges:] {
		m.charges[c.ID] = no
		if _, ok := m.numbers[c.PingppOrderNo]; !ok {
			m.numbers[c.PingppOrderNo] = no
		}
	}
	for _, a := range r.Anomalies {
		m.recordAnomaly(a)
	}
	r.Anomalies = nil
	m.records[no] = r.Clone()
	return r, nil
}

// OrderOfCharge implements Ledger.
func (m *Memory) OrderOfCharge(_ context.Context, chargeID string) (string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if no, ok := m.charges[chargeID]; ok {
		return no, nil
	}
	return "", ErrNotFound
}

// RecordAnomaly implements Ledger.
func (m *Memory) RecordAnomaly(_ context.Context, a Anomaly) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.recordAnomaly(a), nil
}

func (m *Memory) recordAnomaly(a Anomaly) bool {
	if slices.ContainsFunc(m.anomalies, func(x Anomaly) bool { return x.ID == a.ID }) {
		return false
	}
	a.Event = slices.Clone(a.Event)
	m.anomalies = append(m.anomalies, a)
	return true
}

// Anomalies implements Ledger.
func (m *Memory) Anomalies(context.Context) ([]Anomaly, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := slices.Clone(m.anomalies)
	for i := range out {
		out[i].Event = slices.Clone(out[i].Event)
	}
	return out, nil
}

// ResolveAnomaly implements Ledger.
func (m *Memory) ResolveAnomaly(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := slices.IndexFunc(m.anomalies, func(a Anomaly) bool { return a.ID == id })
	switch {
	case i < 0:
		return false, ErrNotFound
	case !m.anomalies[i].Resolved.IsZero():
		return false, nil
	}
	m.anomalies[i].Resolved = m.now().UTC().Truncate(time.Microsecond)
	return true, nil
}

// Due implements Ledger. Memory scans its records: it is meant for small ledgers.
func (m *Memory) Due(_ context.Context, since time.Time) ([]string, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var due []string
	for no, r := range m.records {
		if r.DueUntil().After(since) {
			due = append(due, no)
		}
	}
	slices.Sort(due)
	return due, nil
}
