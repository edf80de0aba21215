package monitor

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
)

// fakeClock is a Clock that moves only when told to. Timers fire (in
// order of their deadline) when Advance passes them.
//
// Only the end-to-end tests use it: their notifiers talk to real HTTP and
// SMTP servers, and a goroutine waiting on the network (an idle
// keep-alive connection) keeps a testing/synctest bubble's clock from
// moving. Everything else runs in a bubble (startSync).
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

func newFakeClock(t0 time.Time) *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, when: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t
	}
	c.timers = append(c.timers, t)
	return t
}

// Advance moves the clock forward by d, firing every timer due by then.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].when.Before(c.timers[j].when) })
	kept := c.timers[:0]
	for _, t := range c.timers {
		if !t.when.After(c.now) {
			t.ch <- t.when
			continue
		}
		kept = append(kept, t)
	}
	c.timers = kept
}

// Pending returns how many timers wait.
func (c *fakeClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitForTimers polls until at least n timers wait, so that an Advance
// reaches the loops it is meant for.
func (c *fakeClock) WaitForTimers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for c.Pending() < n {
		if time.Now().After(deadline) {
			t.Fatalf("fake clock: %d timers waiting after %s, want %d", c.Pending(), waitTimeout, n)
		}
		time.Sleep(time.Millisecond)
	}
}

type fakeTimer struct {
	c    *fakeClock
	when time.Time
	ch   chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

func TestFakeClock(t *testing.T) {
	c := newFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a, b := c.NewTimer(time.Minute), c.NewTimer(time.Hour)
	stopped := c.NewTimer(time.Second)
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop should report true once, then false")
	}
	c.Advance(30 * time.Minute)
	select {
	case <-a.C():
	default:
		t.Error("1m timer did not fire after 30m")
	}
	select {
	case <-b.C():
		t.Error("1h timer fired after 30m")
	default:
	}
	if c.Pending() != 1 {
		t.Errorf("Pending = %d, want 1", c.Pending())
	}
}
