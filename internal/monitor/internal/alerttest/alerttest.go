// Package alerttest holds what the daemon's tests share to observe
// notifications: a notifier that records the alerts it is given.
package alerttest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/notifiers"
)

// Recorder is a notifier that records what it is given. Script, if set,
// decides the outcome of the n-th call (1-based); Block, if set, holds
// every call until it is closed or the call's context ends.
type Recorder struct {
	ID     string
	Script func(n int, a *notifiers.Alert) (retry bool, err error)
	Block  chan struct{}

	mu    sync.Mutex
	calls int
	got   []notifiers.Alert
}

var _ notifiers.Notifier = (*Recorder)(nil)

// Name returns the notifier's name, ID.
func (r *Recorder) Name() string { return r.ID }

// Notify records a, or fails as Script says.
func (r *Recorder) Notify(ctx context.Context, a *notifiers.Alert) (bool, error) {
	if r.Block != nil {
		select {
		case <-r.Block:
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.Script != nil {
		if retry, err := r.Script(r.calls, a); err != nil {
			return retry, err
		}
	}
	r.got = append(r.got, *a)
	return false, nil
}

// Alerts returns the alerts delivered so far.
func (r *Recorder) Alerts() []notifiers.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notifiers.Alert(nil), r.got...)
}

// Calls returns how many times Notify was called, failed calls included.
func (r *Recorder) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// WaitAlerts waits up to a minute until at least n alerts were delivered
// and returns them.
func (r *Recorder) WaitAlerts(t testing.TB, n int) []notifiers.Alert {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for len(r.Alerts()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", fmt.Sprintf("%d alerts at %s", n, r.ID))
		}
		time.Sleep(2 * time.Millisecond)
	}
	return r.Alerts()
}
