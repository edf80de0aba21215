package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/syncbuf"

	dto "github.com/prometheus/client_model/go"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/internal/alerttest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// t0 is the fake clock's start; tests with a fake clock never read the
// wall clock for alert times.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// waitTimeout bounds every wait in these tests. It is how long a failing
// run takes, never how long a passing one does: -race on a loaded 2-core
// machine makes real probes and the store many times slower.
const waitTimeout = time.Minute

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// within polls cond for at most d and reports whether it came to hold.
func within(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

func parseConfig(t testing.TB, y string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(y), nil)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", y, err)
	}
	return cfg
}

func openDB(t testing.TB, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path, store.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// fakeFleet serves manifests from memory in place of probe.Probe: each
// server has a set of tools (name -> description) or is down.
type fakeFleet struct {
	clock clock.Clock

	mu     sync.Mutex
	tools  map[string]map[string]string
	down   map[string]bool
	probes map[string]int
}

func newFakeFleet(c clock.Clock) *fakeFleet {
	return &fakeFleet{clock: c, tools: map[string]map[string]string{}, down: map[string]bool{}, probes: map[string]int{}}
}

func (f *fakeFleet) set(server string, tools map[string]string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tools[server] = tools
}

// probeCount is how many times server was probed.
func (f *fakeFleet) probeCount(server string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.probes[server]
}

func (f *fakeFleet) setDown(server string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[server] = down
}

func (f *fakeFleet) Probe(ctx context.Context, t probe.Target) (*probe.Result, error) {
	f.mu.Lock()
	f.probes[t.Name]++
	tools, down := f.tools[t.Name], f.down[t.Name]
	f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, &probe.Error{Server: t.Name, Phase: "connect", Err: err}
	}
	if down {
		return nil, &probe.Error{Server: t.Name, Phase: "connect", Err: errors.New("connection refused")}
	}
	names := make([]string, 0, len(tools))
	for n := range tools {
		names = append(names, n)
	}
	sort.Strings(names)
	var list []map[string]any
	for _, n := range names {
		list = append(list, map[string]any{"name": n, "description": tools[n], "inputSchema": map[string]any{"type": "object"}})
	}
	page, err := json.Marshal(map[string]any{"tools": list})
	if err != nil {
		return nil, err
	}
	return &probe.Result{
		Capture: manifest.Capture{
			Init:     json.RawMessage(`{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"fake","version":"1"}}`),
			Protocol: "2025-06-18",
			Pages:    map[manifest.Kind][]json.RawMessage{manifest.KindTool: {page}},
		},
		StartedAt: f.clock.Now(),
		Duration:  time.Millisecond,
		Protocol:  "2025-06-18",
		Client:    t.Client,
		Transport: probe.TransportStreamable,
	}, nil
}

// recNotifier records the alerts it is given.
type recNotifier = alerttest.Recorder

// describe summarizes alerts for failure messages and comparisons.
func describe(as []notifiers.Alert) string {
	var parts []string
	for _, a := range as {
		s := a.Kind
		if a.Resolves != "" {
			s += "(" + a.Resolves + ")"
		}
		if a.Reminder > 0 {
			s += fmt.Sprintf("#%d", a.Reminder)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// harness runs an App in-process.
type harness struct {
	t      *testing.T
	app    *App
	db     *store.DB
	clock  *fakeClock
	fleet  *fakeFleet
	logs   *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan error
	// sync: the App runs in a testing/synctest bubble (startSync).
	sync bool
}

// wait waits until cond holds: polling with a deadline in real time, or
// in a synctest bubble on its clock. There, each poll first waits until
// the daemon is idle, so what needs no time is done when cond is first
// asked; only then does time move, a little at a time (a store commit
// lingers a few milliseconds; a schedule ticks later), up to waitTimeout.
func (h *harness) wait(what string, cond func() bool) {
	h.t.Helper()
	if !h.sync {
		eventually(h.t, what, cond)
		return
	}
	deadline := time.Now().Add(waitTimeout)
	for step := time.Millisecond; ; step = min(2*step, 50*time.Millisecond) {
		synctest.Wait()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s on the bubble's clock waiting for %s", waitTimeout, what)
		}
		time.Sleep(step)
	}
}

// advance lets d pass on the bubble's clock, every timer firing at its
// time, and waits until the daemon is idle again.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	if !h.sync {
		h.t.Fatal("advance needs startSync")
	}
	time.Sleep(d)
	synctest.Wait()
}

// advanceTo lets the bubble's clock run to at (see advance).
func (h *harness) advanceTo(at time.Time) {
	h.t.Helper()
	h.advance(time.Until(at))
}

// waitAlerts waits until r has received at least n alerts and returns them.
func (h *harness) waitAlerts(r *recNotifier, n int) []notifiers.Alert {
	h.t.Helper()
	h.wait(fmt.Sprintf("%d alerts at %s", n, r.ID), func() bool { return len(r.Alerts()) >= n })
	return r.Alerts()
}

// start runs an App over db with opts (Config required). Unset tuning is
// made test-friendly: no stagger or jitter, no pruning.
func start(t *testing.T, db *store.DB, opts Options) *harness {
	t.Helper()
	return startWith(t, db, opts, false)
}

// startSync is start inside a testing/synctest bubble (call it from the
// function synctest.Test runs): the daemon runs on the bubble's fake
// clock, which moves only when every goroutine in the bubble waits, and
// the harness's waits are synctest.Wait: once the daemon is idle, what was
// waited for must hold.
func startSync(t *testing.T, db *store.DB, opts Options) *harness {
	t.Helper()
	return startWith(t, db, opts, true)
}

func startWith(t *testing.T, db *store.DB, opts Options, sync bool) *harness {
	t.Helper()
	h := &harness{t: t, db: db, logs: &syncbuf.Buffer{}, sync: sync}
	if fc, ok := opts.Clock.(*fakeClock); ok {
		h.clock = fc
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts.Store = db
	if opts.Stagger == 0 {
		opts.Stagger = -1
	}
	if opts.MaxJitter == 0 {
		opts.MaxJitter = -1
	}
	if opts.PruneInterval == 0 {
		opts.PruneInterval = -1
	}
	app, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.app = app
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- app.Run(ctx) }()
	h.wait("the app to run", app.running.Load)
	t.Cleanup(func() {
		h.stop()
		if t.Failed() {
			t.Logf("daemon log:\n%s", h.logs.String())
		}
	})
	return h
}

// stop stops the App (idempotent) and fails if it does not stop in time.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		h.t.Fatal("App did not stop")
	}
}

// waitRuns waits until n checks of server have completed.
func (h *harness) waitRuns(server string, n int) {
	h.t.Helper()
	h.wait(fmt.Sprintf("%d completed checks of %s", n, server), func() bool {
		return h.runs(server) >= n
	})
}

// outboxEmpty waits until no delivery is queued.
func (h *harness) outboxEmpty() {
	h.t.Helper()
	h.wait("an empty outbox", func() bool {
		c, err := h.db.OutboxCounts()
		return err == nil && len(c) == 0
	})
}

func dbPath(t *testing.T) string { return filepath.Join(t.TempDir(), "mcpdrift.db") }

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// metric sums the samples of the daemon's metric family name (a counter
// or gauge) whose labels include the given label/value pairs, as a scrape
// of /metrics would show them; 0 if there are none.
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	mfs, err := h.app.Registry().Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	samples:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if !hasLabel(m, labels[i], labels[i+1]) {
					continue samples
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue() == value
		}
	}
	return false
}

// runs is how many checks of server completed (mcpdrift_checks_total,
// counted once the check's result reached the alert lifecycle).
func (h *harness) runs(server string) int {
	h.t.Helper()
	return int(h.metric("mcpdrift_checks_total", "server", server))
}

// states reads the alert states the daemon committed to the store.
func (h *harness) states() map[string]store.AlertState {
	h.t.Helper()
	st, err := h.db.AlertStates()
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}
