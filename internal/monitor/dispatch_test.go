package monitor

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/mcpdrift/mcpdrift/internal/monitor/outbox"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

const outboxConfig = `
storage: {path: /unused}
servers:
  - {name: a, url: "http://fake.invalid/mcp", schedule: "@every 24h"}
notifiers:
  - {name: rec, type: log}
  - {name: other, type: log}
alerts: {max_delivery_age: 1h}
`

// outboxHarness starts an App whose only work is the outbox: the server is
// down (no alerts of its own, unreachable_after defaults to 3) and
// deliveries are queued directly.
func outboxHarness(t *testing.T, db *store.DB, clock *fakeClock, ns ...*recNotifier) *harness {
	t.Helper()
	fleet := newFakeFleet(clock)
	fleet.setDown("a", true)
	m := map[string]notifiers.Notifier{}
	for _, n := range ns {
		m[n.name] = n
	}
	for _, name := range []string{"rec", "other"} {
		if m[name] == nil {
			m[name] = &recNotifier{name: name}
		}
	}
	h := start(t, db, Options{
		Config:    parseConfig(t, outboxConfig),
		Clock:     clock,
		Probe:     fleet.Probe,
		Notifiers: func(*config.Config) (map[string]notifiers.Notifier, error) { return m, nil },
		RetryMin:  time.Second,
		RetryMax:  time.Minute,
	})
	h.waitRuns("a", 1)
	return h
}

func enqueue(t *testing.T, db *store.DB, notifier string, created time.Time, n int) []store.Delivery {
	t.Helper()
	var ds []store.Delivery
	for i := range n {
		body, _ := json.Marshal(notifiers.Alert{Incident: fmt.Sprintf("drift/a/x/%d", i), Kind: notifiers.KindDrift, Server: "a", At: created})
		ds = append(ds, store.Delivery{Notifier: notifier, Alert: body, Created: created})
	}
	out, err := db.Enqueue(ds)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pending(t *testing.T, db *store.DB, notifier string) []store.Delivery {
	t.Helper()
	ds, err := db.Deliveries(notifier)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// timers waiting while an outbox harness idles: the schedule loop of "a"
// and the reminder loop.
const idleTimers = 2

func TestDeliveryRetriesWithBackoff(t *testing.T) {
	db := openDB(t, dbPath(t))
	defer db.Close()
	clock := newFakeClock(t0)
	rec := &recNotifier{name: "rec", script: func(n int, _ *notifiers.Alert) (bool, error) {
		if n <= 2 {
			return true, errors.New("503 service unavailable")
		}
		return false, nil
	}}
	enqueue(t, db, "rec", t0, 1)
	h := outboxHarness(t, db, clock, rec)

	var prevWait time.Duration
	for attempt := 1; attempt <= 2; attempt++ {
		eventually(t, fmt.Sprintf("attempt %d recorded", attempt), func() bool {
			ds := pending(t, db, "rec")
			return len(ds) == 1 && ds[0].Attempts == attempt
		})
		d := pending(t, db, "rec")[0]
		wait := d.NextAttempt.Sub(clock.Now())
		base := time.Second << (attempt - 1)
		if wait < base/2 || wait > base {
			t.Errorf("attempt %d: retry in %s, want within [%s, %s]", attempt, wait, base/2, base)
		}
		if d.LastError != "503 service unavailable" {
			t.Errorf("LastError = %q", d.LastError)
		}
		prevWait = wait
		clock.WaitForTimers(t, idleTimers+1)
		clock.Advance(prevWait)
	}
	got := rec.waitAlerts(t, 1)
	h.outboxEmpty()
	if rec.callCount() != 3 || len(got) != 1 {
		t.Errorf("calls %d, delivered %d; want 3 calls, 1 delivery", rec.callCount(), len(got))
	}
	if n := h.metric("mcpdrift_notifications_total", "notifier", "rec", "outcome", outbox.OutcomeRetried); n != 2 {
		t.Errorf("retried metric = %v, want 2", n)
	}
	if n := h.metric("mcpdrift_notifications_total", "notifier", "rec", "outcome", outbox.OutcomeDelivered); n != 1 {
		t.Errorf("delivered metric = %v, want 1", n)
	}
}

func TestDeliveryHonoursRetryAfter(t *testing.T) {
	db := openDB(t, dbPath(t))
	defer db.Close()
	clock := newFakeClock(t0)
	rec := &recNotifier{name: "rec", script: func(n int, _ *notifiers.Alert) (bool, error) {
		if n == 1 {
			return true, &notifiers.RetryAfterError{After: 90 * time.Second, Err: errors.New("429 too many requests")}
		}
		return false, nil
	}}
	enqueue(t, db, "rec", t0, 1)
	h := outboxHarness(t, db, clock, rec)
	eventually(t, "the first attempt", func() bool { ds := pending(t, db, "rec"); return len(ds) == 1 && ds[0].Attempts == 1 })
	if next := pending(t, db, "rec")[0].NextAttempt; !next.Equal(t0.Add(90 * time.Second)) {
		t.Fatalf("next attempt at %s, want exactly Retry-After (90s) after %s", next, t0)
	}
	clock.WaitForTimers(t, idleTimers+1)
	clock.Advance(89 * time.Second)
	clock.WaitForTimers(t, idleTimers+1)
	if rec.callCount() != 1 {
		t.Fatalf("retried before Retry-After: %d calls", rec.callCount())
	}
	clock.Advance(time.Second)
	rec.waitAlerts(t, 1)
	h.outboxEmpty()
}

func TestDeliveryDrops(t *testing.T) {
	tests := []struct {
		name    string
		created time.Time
		script  func(int, *notifiers.Alert) (bool, error)
		outcome string
		log     string
		calls   int
	}{
		{"permanent error", t0, func(int, *notifiers.Alert) (bool, error) { return false, errors.New("400 invalid payload") },
			outbox.OutcomeFailed, "notifier failed permanently", 1},
		{"older than max_delivery_age", t0.Add(-2 * time.Hour), nil, outbox.OutcomeTooOld, "older than alerts.max_delivery_age", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t, dbPath(t))
			defer db.Close()
			rec := &recNotifier{name: "rec", script: tt.script}
			enqueue(t, db, "rec", tt.created, 1)
			h := outboxHarness(t, db, newFakeClock(t0), rec)
			h.outboxEmpty()
			if n := h.metric("mcpdrift_notifications_total", "notifier", "rec", "outcome", tt.outcome); n != 1 {
				t.Errorf("%s metric = %v, want 1", tt.outcome, n)
			}
			if rec.callCount() != tt.calls || len(rec.alerts()) != 0 {
				t.Errorf("notifier called %d times, delivered %d; want %d calls, none delivered", rec.callCount(), len(rec.alerts()), tt.calls)
			}
			if !strings.Contains(h.logs.String(), tt.log) || !strings.Contains(h.logs.String(), "level=ERROR") {
				t.Errorf("no error log %q:\n%s", tt.log, h.logs.String())
			}
		})
	}
}

func TestBlockedNotifierDoesNotDelayOthers(t *testing.T) {
	db := openDB(t, dbPath(t))
	defer db.Close()
	slow := &recNotifier{name: "rec", block: make(chan struct{})}
	fast := &recNotifier{name: "other"}
	enqueue(t, db, "rec", t0, 3)
	enqueue(t, db, "other", t0, 3)
	h := outboxHarness(t, db, newFakeClock(t0), slow, fast)
	fast.waitAlerts(t, 3)
	if n := len(slow.alerts()); n != 0 {
		t.Fatalf("blocked notifier delivered %d", n)
	}
	close(slow.block)
	slow.waitAlerts(t, 3)
	h.outboxEmpty()
}

func TestPendingDeliveriesSurviveRestart(t *testing.T) {
	path := dbPath(t)
	db := openDB(t, path)
	failing := &recNotifier{name: "rec", script: func(int, *notifiers.Alert) (bool, error) {
		return true, errors.New("connection reset")
	}}
	enqueue(t, db, "rec", t0, 2)
	h := outboxHarness(t, db, newFakeClock(t0), failing)
	eventually(t, "a failed attempt", func() bool { ds := pending(t, db, "rec"); return len(ds) == 2 && ds[0].Attempts == 1 })
	h.stop()
	db.Close()

	db = openDB(t, path)
	defer db.Close()
	rec := &recNotifier{name: "rec"}
	// A minute later: past the first delivery's backoff.
	h = outboxHarness(t, db, newFakeClock(t0.Add(time.Minute)), rec)
	rec.waitAlerts(t, 2)
	h.outboxEmpty()
	got := rec.alerts()
	if len(got) != 2 || got[0].Incident != "drift/a/x/0" || got[1].Incident != "drift/a/x/1" {
		t.Errorf("after restart delivered %s (%d), want both deliveries once, in order", describe(got), len(got))
	}
}
