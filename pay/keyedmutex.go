package pay

import (
	"context"
	"sync"
)

// keyedMutex is a set of mutexes, one per key, created on demand and dropped
// when unused, so that callers for different keys never wait on each other.
type keyedMutex struct {
	mu   sync.Mutex
	keys map[string]*keyLock
}

type keyLock struct {
	sem  chan struct{} // holds one token while locked
	refs int           // holders and waiters
}

// lock blocks until it holds key or ctx is done.
func (k *keyedMutex) lock(ctx context.Context, key string) (unlock func(), err error) {
	k.mu.Lock()
	if k.keys == nil {
		k.keys = make(map[string]*keyLock)
	}
	l, ok := k.keys[key]
	if !ok {
		l = &keyLock{sem: make(chan struct{}, 1)}
		k.keys[key] = l
	}
	l.refs++
	k.mu.Unlock()

	select {
	case l.sem <- struct{}{}:
		return func() {
			<-l.sem
			k.release(key, l)
		}, nil
	case <-ctx.Done():
		k.release(key, l)
		return nil, ctx.Err()
	}
}

func (k *keyedMutex) release(key string, l *keyLock) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l.refs--
	if l.refs == 0 {
		delete(k.keys, key)
	}
}
