package order

import (
	"context"
	"maps"
	"slices"
	"sync"

	"github.com/yianpay/payorder"
)

// MemStore is a concurrency-safe in-memory store of orders and their charges.
// It suits tests, examples and single-instance deployments that can lose
// their orders on restart; use a database store otherwise. The zero value is
// ready to use.
type MemStore struct {
	mu     sync.RWMutex
	orders map[string]*memEntry
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

// Put inserts o, or replaces the order with its number, keeping the charges
// already recorded. An empty status becomes StatusUnpaid and an empty currency "cny".
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
		e.order = o
		return nil
	}
	s.orders[o.No] = &memEntry{order: o}
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
	o := e.order
	o.Metadata = maps.Clone(o.Metadata)
	return o, nil
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
	return nil
}
