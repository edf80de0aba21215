package schedule

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
)

func TestParse(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC)
	tests := []struct {
		name     string
		spec     string
		next     time.Time
		interval time.Duration
	}{
		{"five fields", "*/10 * * * *", time.Date(2026, 3, 1, 12, 10, 0, 0, time.UTC), 10 * time.Minute},
		{"every", "@every 5m", at.Add(5 * time.Minute).Truncate(time.Second), 5 * time.Minute},
		{"descriptor", "@hourly", time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC), time.Hour},
		// 09:00 in Paris is 08:00 UTC in March (CET, UTC+1).
		{"time zone", "CRON_TZ=Europe/Paris 0 9 * * *", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Next(at); !got.Equal(tt.next) {
				t.Errorf("Next(%s) = %s, want %s", at, got.UTC(), tt.next)
			}
			if got := s.Interval(at); got != tt.interval {
				t.Errorf("interval = %s, want %s", got, tt.interval)
			}
		})
	}
	for _, bad := range []string{"", "@every 10ms", "CRON_TZ=Nowhere/City 0 9 * * *", "* * *"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestJitterIsBounded(t *testing.T) {
	sc := New(Options{MaxJitter: 5 * time.Second})
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		spec string
		max  time.Duration
	}{
		{"a tenth of a short interval", "@every 10s", time.Second},
		{"capped by MaxJitter", "@every 1h", 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := Parse(tt.spec)
			var seen time.Duration
			for range 200 {
				j := sc.jitter(s, t0)
				if j < 0 || j >= tt.max {
					t.Fatalf("jitter %s outside [0, %s)", j, tt.max)
				}
				seen = max(seen, j)
			}
			if seen == 0 {
				t.Error("no jitter at all")
			}
		})
	}
}

// recorder is the Check and Watch a Scheduler is given: it records each
// call, as "server trigger +offset" from the bubble's start.
type recorder struct {
	start time.Time

	mu      sync.Mutex
	checks  []call
	watches []string
	cycles  int
}

type call struct {
	server, trigger string
	at              time.Duration
}

func (r *recorder) check(_ context.Context, s *config.Server, trigger string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, call{s.Name, trigger, time.Since(r.start)})
}

func (r *recorder) watch(ctx context.Context, s *config.Server) {
	r.mu.Lock()
	r.watches = append(r.watches, s.Name)
	r.mu.Unlock()
	<-ctx.Done()
}

// took returns the checks since the last call, in order of time (then
// server: checks due at the same time start in any order).
func (r *recorder) took() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.SortStableFunc(r.checks, func(a, b call) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.server, b.server)) })
	var out []string
	for _, c := range r.checks {
		out = append(out, fmt.Sprintf("%s %s +%s", c.server, c.trigger, c.at))
	}
	r.checks = nil
	return strings.Join(out, ", ")
}

// run starts a Scheduler in the caller's synctest bubble; it is stopped
// when the test ends.
func run(t *testing.T, rec *recorder, o Options) (*Scheduler, context.Context) {
	t.Helper()
	var wg sync.WaitGroup
	o.Clock, o.Log = clock.Real{}, slog.New(slog.DiscardHandler)
	o.Go = func(ctx context.Context, f func(context.Context)) { wg.Go(func() { f(ctx) }) }
	o.Check, o.Watch = rec.check, rec.watch
	o.OnCycle = func(time.Time) { rec.mu.Lock(); rec.cycles++; rec.mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return New(o), ctx
}

func server(t *testing.T, name, spec string, watch bool) Server {
	t.Helper()
	sp, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return Server{Config: &config.Server{Name: name, Schedule: spec, Timeout: 10 * time.Second, Watch: watch}, Spec: sp}
}

// TestSchedulerRuns: the start-up checks are staggered, then each server
// is checked on every tick of its schedule; a server added later is
// checked at once, one removed is not checked again, one changed is
// rescheduled; a watched server's session runs until it is removed.
func TestSchedulerRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{start: time.Now()}
		sc, ctx := run(t, rec, Options{Stagger: 10 * time.Second})
		a, b := server(t, "a", "@every 1m", false), server(t, "b", "@every 1m", true)
		sc.Reconcile(ctx, []Server{a, b}, true)
		time.Sleep(2*time.Minute + 30*time.Second)
		synctest.Wait()
		if got, want := rec.took(), "a startup +0s, b startup +5s, a schedule +1m0s, b schedule +1m5s, a schedule +2m0s, b schedule +2m5s"; got != want {
			t.Errorf("checks:\n got %s\nwant %s", got, want)
		}

		// Remove b, add c, move a to every 2 minutes.
		a2, c := server(t, "a", "@every 2m", false), server(t, "c", "@every 1m", false)
		sc.Reconcile(ctx, []Server{a2, c}, false)
		time.Sleep(2*time.Minute + 40*time.Second)
		synctest.Wait()
		if got, want := rec.took(), "a startup +2m30s, c startup +2m30s, c schedule +3m30s, a schedule +4m30s, c schedule +4m30s"; got != want {
			t.Errorf("checks after the reload:\n got %s\nwant %s", got, want)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if strings.Join(rec.watches, ",") != "b" {
			t.Errorf("watch sessions %v, want b's", rec.watches)
		}
	})
}

// TestSchedulerFresh: readiness until every server completed a check,
// then until one has not for two intervals, its timeout, CheckGrace and a
// minute; a cycle ends when every server has completed one.
func TestSchedulerFresh(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{start: time.Now()}
		sc, ctx := run(t, rec, Options{Stagger: -1, CheckGrace: 10 * time.Second})
		sc.Reconcile(ctx, []Server{server(t, "a", "@every 1m", false), server(t, "b", "@every 1m", false)}, true)
		if err := sc.Fresh(time.Now()); err == nil || !strings.Contains(err.Error(), "2 of 2 servers not checked yet") {
			t.Errorf("Fresh before any check: %v", err)
		}
		sc.Completed("a", time.Now())
		if err := sc.Fresh(time.Now()); err == nil || !strings.Contains(err.Error(), "1 of 2") {
			t.Errorf("Fresh with b unchecked: %v", err)
		}
		time.Sleep(time.Second)
		sc.Completed("b", time.Now())
		if err := sc.Fresh(time.Now()); err != nil {
			t.Errorf("Fresh after both: %v", err)
		}
		// a's bound: two intervals, the timeout, CheckGrace and a minute.
		bound := 2*time.Minute + 10*time.Second + 10*time.Second + time.Minute
		time.Sleep(bound - time.Second)
		sc.Completed("b", time.Now())
		if err := sc.Fresh(time.Now()); err != nil {
			t.Errorf("Fresh at a's bound: %v", err)
		}
		time.Sleep(time.Second)
		if err := sc.Fresh(time.Now()); err == nil || !strings.Contains(err.Error(), "no recent check of a") {
			t.Errorf("Fresh past a's bound: %v", err)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.cycles != 1 {
			t.Errorf("%d cycles ended, want 1 (b alone does not end one)", rec.cycles)
		}
	})
}
