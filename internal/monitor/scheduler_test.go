package monitor

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/probe"
)

func TestParseSchedule(t *testing.T) {
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
			s, err := parseSchedule(tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.sched.Next(at); !got.Equal(tt.next) {
				t.Errorf("Next(%s) = %s, want %s", at, got.UTC(), tt.next)
			}
			if got := s.interval(at); got != tt.interval {
				t.Errorf("interval = %s, want %s", got, tt.interval)
			}
		})
	}
	for _, bad := range []string{"", "@every 10ms", "CRON_TZ=Nowhere/City 0 9 * * *", "* * *"} {
		if _, err := parseSchedule(bad); err == nil {
			t.Errorf("parseSchedule(%q) accepted", bad)
		}
	}
}

func TestJitterIsBounded(t *testing.T) {
	sc := &scheduler{maxJitter: 5 * time.Second}
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
			s, _ := parseSchedule(tt.spec)
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

// TestPanicAndHangStayIsolated runs, through a concurrency of one, a
// server whose probe panics and one whose probe hangs ignoring its
// context, next to a healthy one: the healthy server keeps being checked.
func TestPanicAndHangStayIsolated(t *testing.T) { synctest.Test(t, testPanicAndHangStayIsolated) }

func testPanicAndHangStayIsolated(t *testing.T) {
	fleet := newFakeFleet(clock.Real{})
	fleet.set("ok", toolsV1)
	release := make(chan struct{})
	defer close(release)
	probeFn := func(ctx context.Context, tg probe.Target) (*probe.Result, error) {
		switch tg.Name {
		case "panics":
			panic("server sent something we choke on")
		case "hangs":
			<-release // ignores ctx: a bug, not a slow server
		}
		return fleet.Probe(ctx, tg)
	}
	db := openDB(t, dbPath(t))
	defer db.Close()
	h := startSync(t, db, Options{
		Config: parseConfig(t, `
storage: {path: /unused}
concurrency: 1
servers:
  - {name: hangs, url: "http://h/mcp", schedule: "@every 1s", timeout: 100ms}
  - {name: panics, url: "http://p/mcp", schedule: "@every 1s", timeout: 1s}
  - {name: ok, url: "http://o/mcp", schedule: "@every 1s", timeout: 1s}
`),
		Probe:      probeFn,
		CheckGrace: 100 * time.Millisecond,
	})
	h.waitRuns("ok", 3)
	h.waitRuns("panics", 2)
	if got := h.runs("hangs"); got != 0 {
		t.Errorf("the hung server completed %d checks", got)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "check overran its deadline") || !strings.Contains(logs, "panicked") {
		t.Errorf("hang or panic not logged:\n%s", logs)
	}
}
