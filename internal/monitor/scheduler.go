package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/logonce"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// What started a check, for logs.
const (
	triggerFirst       = "startup"
	triggerSchedule    = "schedule"
	triggerListChanged = "list_changed"
	triggerManual      = "manual"
)

// schedule is a parsed server schedule.
type schedule struct {
	spec  string
	sched cron.Schedule
}

func parseSchedule(spec string) (schedule, error) {
	s, err := config.ParseSchedule(spec)
	if err != nil {
		return schedule{}, err
	}
	return schedule{spec: spec, sched: s}, nil
}

// interval estimates the time between two runs from now on.
func (s schedule) interval(now time.Time) time.Duration {
	n1 := s.sched.Next(now)
	if n1.IsZero() {
		return 0
	}
	n2 := s.sched.Next(n1)
	if n2.IsZero() {
		return 0
	}
	return n2.Sub(n1)
}

// scheduler runs one loop per enabled server: a first snapshot (staggered
// at start-up), then one per schedule tick plus jitter, and for `watch:
// true` its watch session. It decides when; check runs the check (through
// the shared concurrency limit: App.check), and goLoop runs each loop in a
// goroutine the daemon waits for. It also keeps when each server last
// completed a check, for readiness and the cycle metric.
type scheduler struct {
	clock      clock.Clock
	log        *slog.Logger
	stagger    time.Duration // Options.Stagger
	maxJitter  time.Duration
	checkGrace time.Duration
	limit      *engine.Limiter // the engine's: shared with check --as
	goLoop     func(ctx context.Context, f func(context.Context))
	// check runs a check of s (skipped if one still runs); watch holds
	// its watch session open.
	check func(ctx context.Context, s *config.Server, trigger string)
	watch func(ctx context.Context, s *config.Server)
	// onCycle is told when a cycle ends.
	onCycle func(at time.Time)

	mu   sync.Mutex
	jobs map[string]*serverJob
	// busy holds a token while a check of the server runs. It outlives
	// the server's job across reloads, so that a rescheduled server never
	// has two checks at once.
	busy map[string]chan struct{}
	// checked is when each server last completed a check.
	checked map[string]time.Time
	// cycleStart is when the current cycle began: the previous cycle's
	// end, or start-up. A cycle ends once every server has completed a
	// check since cycleStart.
	cycleStart time.Time
	errs       map[string]*logonce.Log
}

// serverJob is one server's schedule loop and, for `watch: true`, its
// watch session. Its settings never change: a reload that changes the
// server replaces the job.
type serverJob struct {
	s      *config.Server
	sched  schedule
	cancel context.CancelFunc
	first  atomic.Bool
	run    cron.Job // the chain-wrapped check
}

// reconcile makes the running jobs match rt: it starts jobs for new or
// changed servers and stops those of removed or changed ones. At start-up
// the first snapshots are spread over Options.Stagger.
func (sc *scheduler) reconcile(ctx context.Context, rt *runtimeConfig, startup bool) {
	sc.limit.Resize(rt.cfg.Concurrency)
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for name, j := range sc.jobs {
		if s := rt.servers[name]; s == nil || !reflect.DeepEqual(*s, *j.s) || rt.schedules[name].spec != j.sched.spec {
			j.cancel()
			delete(sc.jobs, name)
			if s == nil {
				delete(sc.checked, name)
				delete(sc.errs, name)
				sc.log.Info("server removed; its checks stopped", "server", name)
			}
		}
	}
	var started []string
	for _, name := range rt.order {
		if sc.jobs[name] == nil {
			started = append(started, name)
		}
	}
	stagger := sc.stagger
	if stagger == 0 {
		stagger = min(DefaultStagger, staggerPerServer*time.Duration(len(started)))
	}
	for i, name := range started {
		delay := time.Duration(0)
		if startup && stagger > 0 && len(started) > 1 {
			delay = time.Duration(int64(stagger) * int64(i) / int64(len(started)))
		}
		sc.start(ctx, rt.servers[name], rt.schedules[name], delay)
		if !startup {
			sc.log.Info("server scheduled", "server", name, "schedule", rt.schedules[name].spec)
		}
	}
	if sc.cycleStart.IsZero() {
		sc.cycleStart = sc.clock.Now()
	}
}

func (sc *scheduler) start(ctx context.Context, s *config.Server, sched schedule, delay time.Duration) {
	jctx, cancel := context.WithCancel(ctx)
	j := &serverJob{s: s, sched: sched, cancel: cancel}
	j.first.Store(true)
	cl := cronLogger{sc.log.With("server", s.Name)}
	j.run = cron.NewChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)).Then(cron.FuncJob(func() {
		trigger := triggerSchedule
		if j.first.CompareAndSwap(true, false) {
			trigger = triggerFirst
		}
		sc.check(jctx, s, trigger)
	}))
	sc.jobs[s.Name] = j
	if _, ok := sc.busy[s.Name]; !ok {
		sc.busy[s.Name] = make(chan struct{}, 1)
	}
	sc.goLoop(jctx, func(ctx context.Context) { sc.loop(ctx, j, delay) })
	if s.Watch {
		sc.goLoop(jctx, func(ctx context.Context) { sc.watch(ctx, s) })
	}
}

// loop runs the job's first snapshot after delay, then at every tick.
// Missed ticks (a suspended host, a slow clock) are skipped, not replayed.
func (sc *scheduler) loop(ctx context.Context, j *serverJob, delay time.Duration) {
	if !clock.Sleep(ctx, sc.clock, delay) {
		return
	}
	sc.spawn(j)
	last := sc.clock.Now()
	for {
		next := j.sched.sched.Next(last)
		if next.IsZero() {
			// A schedule that never fires again (e.g. "0 0 30 2 *").
			<-ctx.Done()
			return
		}
		now := sc.clock.Now()
		if next.Before(now) {
			next = j.sched.sched.Next(now)
		}
		if !clock.Sleep(ctx, sc.clock, next.Sub(now)+sc.jitter(j.sched, next)) {
			return
		}
		last = next
		sc.spawn(j)
	}
}

func (sc *scheduler) spawn(j *serverJob) {
	sc.goLoop(context.Background(), func(context.Context) { j.run.Run() })
}

// jitter is a random delay of up to a tenth of the schedule's interval,
// capped at MaxJitter, so that servers on the same schedule do not all
// start on the same second.
func (sc *scheduler) jitter(s schedule, at time.Time) time.Duration {
	limit := min(sc.maxJitter, s.interval(at)/10)
	if limit <= 0 {
		return 0
	}
	return rand.N(limit) //nolint:gosec // jitter needs no cryptographic randomness
}

// busyToken returns the server's busy channel.
func (sc *scheduler) busyToken(name string) chan struct{} {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	b, ok := sc.busy[name]
	if !ok {
		b = make(chan struct{}, 1)
		sc.busy[name] = b
	}
	return b
}

// completed records that a server finished a check and closes the cycle
// once every enabled server has finished one since it began.
func (sc *scheduler) completed(name string, at time.Time, order []string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.checked[name] = at
	for _, n := range order {
		if t, ok := sc.checked[n]; !ok || t.Before(sc.cycleStart) {
			return
		}
	}
	sc.cycleStart = at
	sc.onCycle(at)
}

// fresh reports an error unless every enabled server has completed a check
// recently enough for its schedule: within two intervals plus its timeout
// (and a minute of slack).
func (sc *scheduler) fresh(rt *runtimeConfig, now time.Time) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var never, stale []string
	for _, name := range rt.order {
		t, ok := sc.checked[name]
		if !ok {
			never = append(never, name)
			continue
		}
		s := rt.servers[name]
		bound := 2*rt.schedules[name].interval(now) + s.Timeout + sc.checkGrace + time.Minute
		if now.Sub(t) > bound {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	switch {
	case len(never) > 0:
		return fmt.Errorf("first cycle not finished: %d of %d servers not checked yet", len(never), len(rt.order))
	case len(stale) > 0:
		return fmt.Errorf("last cycle too old: no recent check of %s", strings.Join(stale, ", "))
	}
	return nil
}

// check runs one check of s: it takes the server's busy token (or skips,
// unless wait is set), a concurrency slot, and runs the check under the
// server's deadline. A check that overruns its deadline by CheckGrace has
// its slot handed on, so a hung server never holds up the others; the
// server itself is not checked again until the hung check returns.
func (a *App) check(ctx context.Context, s *config.Server, trigger string, wait bool) (report.Server, bool) {
	busy := a.sched.busyToken(s.Name)
	if wait {
		select {
		case busy <- struct{}{}:
		case <-ctx.Done():
			return report.Server{}, false
		}
	} else {
		select {
		case busy <- struct{}{}:
		default:
			a.m.skipped.WithLabelValues(s.Name).Inc()
			a.log.Debug("previous check still running; tick skipped", "server", s.Name, "trigger", trigger)
			return report.Server{}, false
		}
	}
	release, err := a.sched.limit.Acquire(ctx)
	if err != nil {
		<-busy
		return report.Server{}, false
	}
	if !a.track() {
		release()
		<-busy
		return report.Server{}, false
	}
	done := make(chan struct{})
	var rs report.Server
	var ok bool
	go func() {
		defer a.wg.Done()
		defer func() { <-busy }()
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("check panicked", "server", s.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		rs, ok = a.runCheck(ctx, s, trigger)
	}()
	watchdog := time.NewTimer(engine.CheckDeadline(s) + a.opts.CheckGrace)
	defer watchdog.Stop()
	select {
	case <-done:
		release()
		return rs, ok
	case <-watchdog.C:
		release()
		a.log.Error("check overran its deadline; its concurrency slot is released and the server is skipped until it returns",
			"server", s.Name, "timeout", s.Timeout)
		return report.Server{}, false
	}
}

// runCheck checks s and feeds the outcome to the logs, the alert
// lifecycle, readiness and the metrics.
func (a *App) runCheck(ctx context.Context, s *config.Server, trigger string) (report.Server, bool) {
	cctx, cancel := context.WithTimeout(ctx, engine.CheckDeadline(s)+a.opts.CheckGrace)
	defer cancel()
	gen := a.life.generation(s.Name)
	start := time.Now()
	rs := a.engine.CheckServer(cctx, s)
	dur := time.Since(start)
	if ctx.Err() != nil {
		// Shutting down or the server was removed: not the server's fault.
		a.log.Debug("check cancelled", "server", s.Name)
		return rs, false
	}
	now := a.clock.Now()
	a.observeTools(rs)
	a.sched.logCheck(s.Name, rs, dur, trigger)
	a.life.observe(s, rs, gen)
	a.sched.completed(s.Name, now, a.runtime().order)
	// Counted last: a check counted in mcpdrift_checks_total has been
	// fed to the alert lifecycle and readiness.
	a.m.observeCheck(rs, now)
	return rs, true
}

// logCheck writes the one line per snapshot: its result at info, or its
// error at warn the first time it occurs and at debug while it repeats,
// then the recovery at info.
func (sc *scheduler) logCheck(name string, rs report.Server, dur time.Duration, trigger string) {
	sc.mu.Lock()
	el := sc.errs[name]
	if el == nil {
		el = &logonce.Log{}
		sc.errs[name] = el
	}
	sc.mu.Unlock()
	attrs := []any{"server", name, "trigger", trigger, "duration", dur.Round(time.Millisecond)}
	if rs.Status == report.StatusError {
		el.Fail(sc.log, "snapshot failed", rs.Error, attrs...)
		return
	}
	el.Recover(sc.log, "server recovered", attrs...)
	snap := ""
	if rs.Snapshot != nil {
		snap = rs.Snapshot.ID
	}
	sc.log.Info("snapshot", append(attrs, "result", rs.Status, "snapshot", snap, "severity", rs.MaxSeverity().String(), "changes", len(rs.Changes))...)
}

// cronLogger adapts slog to the cron package's wrappers (Recover,
// SkipIfStillRunning).
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "error", fmt.Sprint(err))...)
}
