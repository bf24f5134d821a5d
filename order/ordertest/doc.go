// Package ordertest is the conformance suite for order stores: every store
// that backs the pay package (order.MemStore, the PostgreSQL store, a host's
// own) must pass Run. It checks what the pay package relies on: lookups that
// answer payorder.ErrOrderNotFound, charges kept in order and recorded once
// even under concurrent writers, and copies that callers cannot mutate.
package ordertest
