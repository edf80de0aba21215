package monitor

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

func TestNewRejects(t *testing.T) {
	cfg := parseConfig(t, "storage: {path: /unused}\nservers:\n  - {name: a, url: \"http://x/mcp\"}\nnotifiers:\n  - {name: n, type: log}\n")
	db := openDB(t, dbPath(t))
	defer db.Close()
	log := slogDiscard()
	broken := func(*config.Config) (map[string]notifiers.Notifier, error) {
		return nil, errors.New("slack: bad token file")
	}
	missing := func(*config.Config) (map[string]notifiers.Notifier, error) {
		return map[string]notifiers.Notifier{}, nil
	}
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no config", Options{Store: db, Logger: log}, "no configuration"},
		{"no store", Options{Config: cfg, Logger: log}, "no store"},
		{"notifier build fails", Options{Config: cfg, Store: db, Logger: log, Notifiers: broken}, "slack: bad token file"},
		{"notifier not built", Options{Config: cfg, Store: db, Logger: log, Notifiers: missing}, `notifier "n" was not built`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestReadyAndApply(t *testing.T) { synctest.Test(t, testReadyAndApply) }

func testReadyAndApply(t *testing.T) {
	fleet := newFakeFleet(clock.Real{})
	fleet.set("a", toolsV1)
	fleet.set("b", toolsV1)
	db := openDB(t, dbPath(t))
	defer db.Close()
	cfgA := parseConfig(t, "storage: {path: /unused}\nservers:\n  - {name: a, url: \"http://x/mcp\", schedule: \"@every 1m\", timeout: 10s}\n")
	// a's probe hangs, ignoring its context, while hang is set: a check
	// that never returns.
	var hang atomic.Bool
	release := make(chan struct{})
	probeFn := func(ctx context.Context, tg probe.Target) (*probe.Result, error) {
		if tg.Name == "a" && hang.Load() {
			<-release
		}
		return fleet.Probe(ctx, tg)
	}
	var buildErr error // what building the notifiers fails with
	h := startSync(t, db, Options{Config: cfgA, Probe: probeFn,
		Notifiers: func(*config.Config) (map[string]notifiers.Notifier, error) { return nil, buildErr }})
	h.waitRuns("a", 1)
	if err := h.app.Ready(); err != nil {
		t.Fatalf("Ready after the first cycle: %v", err)
	}
	// Two intervals, the timeout, grace and a minute of slack without a
	// completed check: not ready.
	hang.Store(true)
	h.advance(2*time.Minute + 10*time.Second + DefaultCheckGrace + time.Minute + time.Second)
	if err := h.app.Ready(); err == nil || !strings.Contains(err.Error(), "no recent check of a") {
		t.Errorf("Ready with a stale server: %v", err)
	}
	hang.Store(false)
	close(release)
	synctest.Wait()

	// A config whose notifiers cannot be built is refused; the old one runs.
	buildErr = errors.New("boom")
	if err := h.app.Apply(cfgA); err == nil {
		t.Fatal("Apply accepted a config whose notifiers fail")
	}
	if v := h.metric("mcpdrift_config_last_reload_successful"); v != 0 {
		t.Errorf("reload success gauge = %v after a failure", v)
	}
	if !strings.Contains(h.logs.String(), "configuration reload failed") {
		t.Error("failed reload not logged")
	}
	buildErr = nil

	// Replace a by b: b is snapshotted at once, a stops.
	cfgB := parseConfig(t, "storage: {path: /unused}\nservers:\n  - {name: b, url: \"http://y/mcp\", schedule: \"@every 1m\"}\n")
	if err := h.app.Apply(cfgB); err != nil {
		t.Fatal(err)
	}
	h.waitRuns("b", 1)
	if v := h.metric("mcpdrift_config_last_reload_successful"); v != 1 {
		t.Errorf("reload success gauge = %v after a success", v)
	}
	aProbes := fleet.probeCount("a")
	// A minute on, b's schedule has ticked once: one more check.
	h.advance(time.Minute)
	h.waitRuns("b", 2)
	if got := fleet.probeCount("a"); got != aProbes {
		t.Errorf("removed server a ran %d more checks", got-aProbes)
	}
	if err := h.app.Ready(); err != nil {
		t.Errorf("Ready after the reload: %v", err)
	}
}
