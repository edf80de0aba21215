package engine

import (
	"context"
	"sync"
)

// Limiter bounds how many probes run at once, for every caller of the
// engine: the daemon's scheduled, watched and requested checks share one,
// and so do the servers and the client identities of one CLI check.
// Resizing swaps in a new semaphore; holders of a slot of the old one
// release it there.
type Limiter struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewLimiter returns a limiter of n slots (1 when n < 1).
func NewLimiter(n int) *Limiter { return &Limiter{ch: make(chan struct{}, max(n, 1))} }

// Resize makes the limit n (1 when n < 1), as on a config reload.
func (l *Limiter) Resize(n int) {
	n = max(n, 1)
	l.mu.Lock()
	defer l.mu.Unlock()
	if cap(l.ch) != n {
		l.ch = make(chan struct{}, n)
	}
}

// Acquire waits for a slot until ctx ends and returns the function that
// frees it.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	l.mu.Lock()
	ch := l.ch
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
