package order

import (
	"context"
	"sync"

	"github.com/yianpay/payorder"
)

// MemStore is a concurrency-safe in-memory order source: the host's orders
// for examples, tests and programs that keep their orders elsewhere in
// memory. It implements pay.OrderStore. The zero value is ready to use.
type MemStore struct {
	mu     sync.RWMutex
	orders map[string]Order
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

// Put inserts o, or replaces the order with its number, after checking it
// with Validate.
func (s *MemStore) Put(o Order) error {
	if err := o.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.orders == nil {
		s.orders = make(map[string]Order)
	}
	s.orders[o.No] = o.Clone()
	return nil
}

// Close marks order no closed, as a host does when the buyer cancels it.
func (s *MemStore) Close(no string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[no]
	if !ok {
		return payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	o.Closed = true
	s.orders[no] = o
	return nil
}

// Order returns a copy of the order numbered no, or an error wrapping
// payorder.ErrOrderNotFound.
func (s *MemStore) Order(_ context.Context, no string) (Order, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	o, ok := s.orders[no]
	if !ok {
		return Order{}, payorder.NewError(payorder.CodeOrderNotFound, "order "+no, nil)
	}
	return o.Clone(), nil
}
