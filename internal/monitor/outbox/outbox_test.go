package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/internal/alerttest"
	"github.com/mcpdrift/mcpdrift/internal/syncbuf"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// These tests run the dispatcher in a testing/synctest bubble: the real
// clock there is a fake one that jumps ahead whenever every goroutine of
// the bubble waits, and synctest.Wait returns once the workers are idle.

// recNotifier records the alerts it is given.
type recNotifier = alerttest.Recorder

func incidents(as []notifiers.Alert) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Incident)
	}
	return strings.Join(out, ",")
}

func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// harness runs a Dispatcher over db for the notifiers "rec" and "other"
// (recording ones unless given), retrying after 1s doubling to 1m and
// dropping deliveries older than an hour.
type harness struct {
	t      *testing.T
	db     *store.DB
	logs   *syncbuf.Buffer
	counts *prometheus.CounterVec
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func start(t *testing.T, db *store.DB, ns ...*recNotifier) *harness {
	t.Helper()
	h := &harness{t: t, db: db, logs: &syncbuf.Buffer{}, counts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "n"}, []string{"notifier", "outcome"})}
	m := map[string]notifiers.Notifier{}
	for _, n := range ns {
		m[n.ID] = n
	}
	for _, name := range []string{"rec", "other"} {
		if m[name] == nil {
			m[name] = &recNotifier{ID: name}
		}
	}
	d := New(Options{
		Store: db, Clock: clock.Real{},
		Log: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Go: func(ctx context.Context, f func(context.Context)) {
			h.wg.Go(func() { f(ctx) })
		},
		MaxAge:   func() time.Duration { return time.Hour },
		RetryMin: time.Second, RetryMax: time.Minute, Timeout: 30 * time.Second,
		Notifications: h.counts,
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	d.Reconcile(ctx, m)
	t.Cleanup(h.stop)
	return h
}

// stop stops the workers and waits for them (idempotent).
func (h *harness) stop() {
	h.cancel()
	h.wg.Wait()
}

func (h *harness) outcomes(notifier, outcome string) float64 {
	h.t.Helper()
	var m dto.Metric
	if err := h.counts.WithLabelValues(notifier, outcome).Write(&m); err != nil {
		h.t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// outboxEmpty fails unless no delivery is queued.
func (h *harness) outboxEmpty() {
	h.t.Helper()
	if c, err := h.db.OutboxCounts(); err != nil || len(c) != 0 {
		h.t.Fatalf("outbox %v %v, want it empty", c, err)
	}
}

func enqueue(t *testing.T, db *store.DB, notifier string, created time.Time, n int) {
	t.Helper()
	var ds []store.Delivery
	for i := range n {
		body, _ := json.Marshal(notifiers.Alert{Incident: fmt.Sprintf("drift/a/x/%d", i), Kind: notifiers.KindDrift, Server: "a", At: created})
		ds = append(ds, store.Delivery{Notifier: notifier, Alert: body, Created: created})
	}
	if _, err := db.Enqueue(ds); err != nil {
		t.Fatal(err)
	}
}

func pending(t *testing.T, db *store.DB, notifier string) []store.Delivery {
	t.Helper()
	ds, err := db.Deliveries(notifier)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDeliveryRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		db := openDB(t, filepath.Join(t.TempDir(), "db"))
		defer db.Close()
		rec := &recNotifier{ID: "rec", Script: func(n int, _ *notifiers.Alert) (bool, error) {
			if n <= 2 {
				return true, errors.New("503 service unavailable")
			}
			return false, nil
		}}
		enqueue(t, db, "rec", t0, 1)
		h := start(t, db, rec)
		for attempt := 1; attempt <= 2; attempt++ {
			synctest.Wait()
			ds := pending(t, db, "rec")
			if len(ds) != 1 || ds[0].Attempts != attempt {
				t.Fatalf("attempt %d: %d pending, %+v", attempt, len(ds), ds)
			}
			wait := time.Until(ds[0].NextAttempt)
			base := time.Second << (attempt - 1)
			if wait < base/2 || wait > base {
				t.Errorf("attempt %d: retry in %s, want within [%s, %s]", attempt, wait, base/2, base)
			}
			if ds[0].LastError != "503 service unavailable" {
				t.Errorf("LastError = %q", ds[0].LastError)
			}
			time.Sleep(wait)
		}
		synctest.Wait()
		h.outboxEmpty()
		if got := rec.Alerts(); rec.Calls() != 3 || len(got) != 1 {
			t.Errorf("calls %d, delivered %d; want 3 calls, 1 delivery", rec.Calls(), len(got))
		}
		if n := h.outcomes("rec", OutcomeRetried); n != 2 {
			t.Errorf("retried metric = %v, want 2", n)
		}
		if n := h.outcomes("rec", OutcomeDelivered); n != 1 {
			t.Errorf("delivered metric = %v, want 1", n)
		}
	})
}

func TestDeliveryHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		t0 := time.Now()
		db := openDB(t, filepath.Join(t.TempDir(), "db"))
		defer db.Close()
		rec := &recNotifier{ID: "rec", Script: func(n int, _ *notifiers.Alert) (bool, error) {
			if n == 1 {
				return true, &notifiers.RetryAfterError{After: 90 * time.Second, Err: errors.New("429 too many requests")}
			}
			return false, nil
		}}
		enqueue(t, db, "rec", t0, 1)
		h := start(t, db, rec)
		synctest.Wait()
		ds := pending(t, db, "rec")
		if len(ds) != 1 || ds[0].Attempts != 1 {
			t.Fatalf("after the first attempt: %+v", ds)
		}
		if next := ds[0].NextAttempt; !next.Equal(t0.Add(90 * time.Second)) {
			t.Fatalf("next attempt at %s, want exactly Retry-After (90s) after %s", next, t0)
		}
		time.Sleep(89 * time.Second)
		synctest.Wait()
		if rec.Calls() != 1 {
			t.Fatalf("retried before Retry-After: %d calls", rec.Calls())
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(rec.Alerts()); n != 1 {
			t.Fatalf("%d delivered after Retry-After, want 1", n)
		}
		h.outboxEmpty()
	})
}

func TestDeliveryDrops(t *testing.T) {
	tests := []struct {
		name    string
		age     time.Duration
		script  func(int, *notifiers.Alert) (bool, error)
		outcome string
		log     string
		calls   int
	}{
		{"permanent error", 0, func(int, *notifiers.Alert) (bool, error) { return false, errors.New("400 invalid payload") },
			OutcomeFailed, "notifier failed permanently", 1},
		{"older than max_delivery_age", 2 * time.Hour, nil, OutcomeTooOld, "older than alerts.max_delivery_age", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				db := openDB(t, filepath.Join(t.TempDir(), "db"))
				defer db.Close()
				rec := &recNotifier{ID: "rec", Script: tt.script}
				enqueue(t, db, "rec", time.Now().Add(-tt.age), 1)
				h := start(t, db, rec)
				synctest.Wait()
				h.outboxEmpty()
				if n := h.outcomes("rec", tt.outcome); n != 1 {
					t.Errorf("%s metric = %v, want 1", tt.outcome, n)
				}
				if rec.Calls() != tt.calls || len(rec.Alerts()) != 0 {
					t.Errorf("notifier called %d times, delivered %d; want %d calls, none delivered", rec.Calls(), len(rec.Alerts()), tt.calls)
				}
				if !strings.Contains(h.logs.String(), tt.log) || !strings.Contains(h.logs.String(), "level=ERROR") {
					t.Errorf("no error log %q:\n%s", tt.log, h.logs.String())
				}
			})
		})
	}
}

func TestBlockedNotifierDoesNotDelayOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := openDB(t, filepath.Join(t.TempDir(), "db"))
		defer db.Close()
		slow := &recNotifier{ID: "rec", Block: make(chan struct{})}
		fast := &recNotifier{ID: "other"}
		enqueue(t, db, "rec", time.Now(), 3)
		enqueue(t, db, "other", time.Now(), 3)
		h := start(t, db, slow, fast)
		synctest.Wait()
		if n := len(fast.Alerts()); n != 3 {
			t.Fatalf("the other notifier delivered %d while one was blocked, want 3", n)
		}
		if n := len(slow.Alerts()); n != 0 {
			t.Fatalf("blocked notifier delivered %d", n)
		}
		close(slow.Block)
		synctest.Wait()
		if n := len(slow.Alerts()); n != 3 {
			t.Fatalf("unblocked notifier delivered %d, want 3", n)
		}
		h.outboxEmpty()
	})
}

func TestPendingDeliveriesSurviveRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "db")
		db := openDB(t, path)
		failing := &recNotifier{ID: "rec", Script: func(int, *notifiers.Alert) (bool, error) {
			return true, errors.New("connection reset")
		}}
		enqueue(t, db, "rec", time.Now(), 2)
		h := start(t, db, failing)
		synctest.Wait()
		if ds := pending(t, db, "rec"); len(ds) != 2 || ds[0].Attempts != 1 {
			t.Fatalf("after a failed attempt: %+v", ds)
		}
		h.stop()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}

		// A minute later: past the first delivery's backoff.
		time.Sleep(time.Minute)
		db = openDB(t, path)
		defer db.Close()
		rec := &recNotifier{ID: "rec"}
		h = start(t, db, rec)
		synctest.Wait()
		h.outboxEmpty()
		if got := incidents(rec.Alerts()); got != "drift/a/x/0,drift/a/x/1" {
			t.Errorf("after restart delivered %s, want both deliveries once, in order", got)
		}
	})
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		lo, hi   time.Duration
	}{
		{"first retry", 1, 500 * time.Millisecond, time.Second},
		{"doubles", 3, 2 * time.Second, 4 * time.Second},
		{"capped", 10, 4 * time.Second, 8 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				if d := Backoff(time.Second, 8*time.Second, tt.attempts); d < tt.lo || d > tt.hi {
					t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tt.attempts, d, tt.lo, tt.hi)
				}
			}
		})
	}
}
