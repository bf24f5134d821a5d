package order

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/yianpay/payorder"
)

// MemStore is a concurrency-safe in-memory store of orders and their charges.
// It suits tests, examples and single-instance deployments that can lose
// their orders on restart; use a database store otherwise. The zero value is
// ready to use.
type MemStore struct {
	mu        sync.RWMutex
	orders    map[string]*memEntry
	byCharge  map[string]string // charge id → order number
	anomalies []Anomaly
}

type memEntry struct {
	order   Order
	charges []Charge
}

// NewMemStore returns a store holding orders.
func NewMemStore(orders ...Order) (*MemStore, error) {
	s := &MemStore{}
	for _, o := range orders {
		if err := s.Put(o); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Put inserts o, or replaces the order with its number. Replacing keeps what
// the store owns: the charges recorded and the payment state (status,
// payment, refunds, fulfilment). An empty status becomes StatusUnpaid and an
// empty currency "cny".
func (s *MemStore) Put(o Order) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Status == "" {
		o.Status = StatusUnpaid
	}
	if o.Currency == "" {
		o.Currency = "cny"
	}
	o.Metadata = maps.Clone(o.Metadata)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders == nil {
		s.orders = make(map[string]*memEntry)
	}
	if e, ok := s.orders[o.No]; ok {
		o.Status, o.Paid, o.Refunds = e.order.Status, e.order.Paid, e.order.Refunds
		o.FulfilledAt, o.FulfilmentLeaseUntil, o.FulfilmentClaim = e.order.FulfilledAt, e.order.FulfilmentLeaseUntil, e.order.FulfilmentClaim
		e.order = o
		return nil
	}
	s.orders[o.No] = &memEntry{order: o.clone()}
	return nil
}

// Order returns a copy of the order numbered no, or payorder.ErrOrderNotFound.
func (s *MemStore) Order(ctx context.Context, no string) (Order, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.orders[no]
	if !ok {
		return Order{}, payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	return e.order.clone(), nil
}

// Charges returns the charges recorded for order no, oldest first, or
// payorder.ErrOrderNotFound.
func (s *MemStore) Charges(ctx context.Context, no string) ([]Charge, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.orders[no]
	if !ok {
		return nil, payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	return slices.Clone(e.charges), nil
}

// OrderWithCharges returns the order numbered no and its charges, read
// together, or payorder.ErrOrderNotFound.
func (s *MemStore) OrderWithCharges(ctx context.Context, no string) (Order, []Charge, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.orders[no]
	if !ok {
		return Order{}, nil, payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	return e.order.clone(), slices.Clone(e.charges), nil
}

// AddCharge records c for its order. Recording a charge id twice is a no-op.
func (s *MemStore) AddCharge(ctx context.Context, c Charge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.orders[c.OrderNo]
	if !ok {
		return payorder.NewError(payorder.CodeOrderNotFound, "order "+c.OrderNo, nil)
	}
	if slices.ContainsFunc(e.charges, func(x Charge) bool { return x.ID == c.ID }) {
		return nil
	}
	e.charges = append(e.charges, c)
	if s.byCharge == nil {
		s.byCharge = make(map[string]string)
	}
	s.byCharge[c.ID] = c.OrderNo
	return nil
}

// UpdateOrder applies fn to the order numbered no and keeps the result,
// atomically: no other call sees or changes the order in between. When fn
// returns an error nothing changes and UpdateOrder returns that error.
func (s *MemStore) UpdateOrder(ctx context.Context, no string, fn func(*Order) error) (Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.orders[no]
	if !ok {
		return Order{}, payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	o := e.order.clone()
	if err := fn(&o); err != nil {
		return Order{}, err
	}
	o.No = no
	e.order = o.clone()
	return o, nil
}

// OrderByCharge returns the order a recorded charge belongs to, or
// payorder.ErrOrderNotFound.
func (s *MemStore) OrderByCharge(ctx context.Context, chargeID string) (Order, error) {
	s.mu.RLock()
	no, ok := s.byCharge[chargeID]
	s.mu.RUnlock()
	if !ok {
		return Order{}, payorder.NewError(payorder.CodeOrderNotFound, "charge "+chargeID, nil)
	}
	return s.Order(ctx, no)
}

// RecordAnomaly keeps a; an anomaly with the same ID is kept once, and
// RecordAnomaly reports whether a was new.
func (s *MemStore) RecordAnomaly(ctx context.Context, a Anomaly) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(s.anomalies, func(x Anomaly) bool { return x.ID == a.ID }) {
		return false, nil
	}
	a.Event = slices.Clone(a.Event)
	s.anomalies = append(s.anomalies, a)
	return true, nil
}

// Anomalies returns the anomalies recorded, oldest first.
func (s *MemStore) Anomalies(ctx context.Context) ([]Anomaly, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.anomalies), nil
}

// PendingCharges returns the charges that may still need work: those of
// unpaid orders that expire after since (a lost webhook may have left them
// paid at Ping++ without the order knowing), and every charge of a paid order
// whose fulfilment has not succeeded (the host's hook must still run).
func (s *MemStore) PendingCharges(ctx context.Context, since time.Time) ([]Charge, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var pending []Charge
	for _, e := range s.orders {
		if !e.order.FulfilledAt.IsZero() {
			continue
		}
		for _, c := range e.charges {
			if e.order.Paid != nil || c.ExpiresAt.After(since) {
				pending = append(pending, c)
			}
		}
	}
	slices.SortFunc(pending, func(a, b Charge) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return pending, nil
}
