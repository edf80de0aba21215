// Package schedule decides when the daemon checks each server: a first
// check at start-up (spread over a stagger) or when a server is added,
// then one per tick of its cron schedule plus jitter; for `watch: true`
// servers it also keeps the watch session running. It keeps a busy token
// per server, so that a server's checks never overlap, and when each
// server last completed a check, for readiness and the cycle metric.
//
// It runs nothing itself: the daemon (internal/monitor) hands it the check
// and the watch session to run, and a way to start goroutines it waits
// for on shutdown.
package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
)

// What started a scheduled check, for logs.
const (
	TriggerStartup  = "startup"
	TriggerSchedule = "schedule"
)

// DefaultStagger caps how long the start-up checks are spread over when
// Options.Stagger is zero: 25ms per server.
const (
	DefaultStagger   = 5 * time.Second
	staggerPerServer = 25 * time.Millisecond
)

// Spec is a parsed server schedule.
type Spec struct {
	spec  string
	sched cron.Schedule
}

// Parse parses a server's schedule (config.ParseSchedule).
func Parse(spec string) (Spec, error) {
	s, err := config.ParseSchedule(spec)
	if err != nil {
		return Spec{}, err
	}
	return Spec{spec: spec, sched: s}, nil
}

// String returns the schedule as configured.
func (s Spec) String() string { return s.spec }

// Next returns the first tick after t (zero if there is none).
func (s Spec) Next(t time.Time) time.Time { return s.sched.Next(t) }

// Interval estimates the time between two runs from now on.
func (s Spec) Interval(now time.Time) time.Duration {
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

// Server is a server to schedule.
type Server struct {
	Config *config.Server
	Spec   Spec
}

// Options configure a Scheduler. All funcs and Clock and Log are required.
type Options struct {
	Clock clock.Clock
	Log   *slog.Logger
	// Stagger spreads the start-up checks over this long; zero means
	// 25ms per server up to DefaultStagger, negative means all at once.
	// MaxJitter caps the random delay added to each scheduled run (at
	// most a tenth of the schedule's interval).
	Stagger   time.Duration
	MaxJitter time.Duration
	// CheckGrace is what a check may take beyond the server's timeout;
	// Fresh allows for it.
	CheckGrace time.Duration
	// Go runs f in a goroutine the daemon waits for on shutdown.
	Go func(ctx context.Context, f func(context.Context))
	// Check runs a scheduled check of s, skipping it if one still runs
	// (Busy); Watch holds s's watch session open until ctx ends.
	Check func(ctx context.Context, s *config.Server, trigger string)
	Watch func(ctx context.Context, s *config.Server)
	// OnCycle is told when every server has completed a check since the
	// previous cycle ended.
	OnCycle func(at time.Time)
}

// Scheduler runs one loop per server. It is safe for concurrent use.
type Scheduler struct {
	o Options

	mu      sync.Mutex
	servers []Server // as of the last Reconcile, in order
	jobs    map[string]*job
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
}

// New returns a Scheduler with nothing scheduled: Reconcile starts it.
func New(o Options) *Scheduler {
	return &Scheduler{o: o, jobs: map[string]*job{}, busy: map[string]chan struct{}{}, checked: map[string]time.Time{}}
}

// job is one server's schedule loop and, for `watch: true`, its watch
// session. Its settings never change: a reload that changes the server
// replaces the job.
type job struct {
	s      *config.Server
	spec   Spec
	cancel context.CancelFunc
	first  atomic.Bool
	run    cron.Job // the chain-wrapped check
}

// Reconcile makes the running jobs match servers: it starts jobs for new
// or changed servers and stops those of removed or changed ones. At
// start-up the first checks are spread over Options.Stagger.
func (sc *Scheduler) Reconcile(ctx context.Context, servers []Server, startup bool) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.servers = servers
	byName := make(map[string]Server, len(servers))
	for _, s := range servers {
		byName[s.Config.Name] = s
	}
	for name, j := range sc.jobs {
		s, ok := byName[name]
		if ok && reflect.DeepEqual(*s.Config, *j.s) && s.Spec.spec == j.spec.spec {
			continue
		}
		j.cancel()
		delete(sc.jobs, name)
		if !ok {
			delete(sc.checked, name)
			sc.o.Log.Info("server removed; its checks stopped", "server", name)
		}
	}
	var started []Server
	for _, s := range servers {
		if sc.jobs[s.Config.Name] == nil {
			started = append(started, s)
		}
	}
	stagger := sc.o.Stagger
	if stagger == 0 {
		stagger = min(DefaultStagger, staggerPerServer*time.Duration(len(started)))
	}
	for i, s := range started {
		delay := time.Duration(0)
		if startup && stagger > 0 && len(started) > 1 {
			delay = time.Duration(int64(stagger) * int64(i) / int64(len(started)))
		}
		sc.start(ctx, s, delay)
		if !startup {
			sc.o.Log.Info("server scheduled", "server", s.Config.Name, "schedule", s.Spec.spec)
		}
	}
	if sc.cycleStart.IsZero() {
		sc.cycleStart = sc.o.Clock.Now()
	}
}

func (sc *Scheduler) start(ctx context.Context, srv Server, delay time.Duration) {
	s := srv.Config
	jctx, cancel := context.WithCancel(ctx)
	j := &job{s: s, spec: srv.Spec, cancel: cancel}
	j.first.Store(true)
	cl := cronLogger{sc.o.Log.With("server", s.Name)}
	j.run = cron.NewChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)).Then(cron.FuncJob(func() {
		trigger := TriggerSchedule
		if j.first.CompareAndSwap(true, false) {
			trigger = TriggerStartup
		}
		sc.o.Check(jctx, s, trigger)
	}))
	sc.jobs[s.Name] = j
	if _, ok := sc.busy[s.Name]; !ok {
		sc.busy[s.Name] = make(chan struct{}, 1)
	}
	sc.o.Go(jctx, func(ctx context.Context) { sc.loop(ctx, j, delay) })
	if s.Watch {
		sc.o.Go(jctx, func(ctx context.Context) { sc.o.Watch(ctx, s) })
	}
}

// loop runs the job's first check after delay, then at every tick.
// Missed ticks (a suspended host, a slow clock) are skipped, not replayed.
func (sc *Scheduler) loop(ctx context.Context, j *job, delay time.Duration) {
	if !clock.Sleep(ctx, sc.o.Clock, delay) {
		return
	}
	sc.spawn(j)
	last := sc.o.Clock.Now()
	for {
		next := j.spec.sched.Next(last)
		if next.IsZero() {
			// A schedule that never fires again (e.g. "0 0 30 2 *").
			<-ctx.Done()
			return
		}
		now := sc.o.Clock.Now()
		if next.Before(now) {
			next = j.spec.sched.Next(now)
		}
		if !clock.Sleep(ctx, sc.o.Clock, next.Sub(now)+sc.jitter(j.spec, next)) {
			return
		}
		last = next
		sc.spawn(j)
	}
}

func (sc *Scheduler) spawn(j *job) {
	sc.o.Go(context.Background(), func(context.Context) { j.run.Run() })
}

// jitter is a random delay of up to a tenth of the schedule's interval,
// capped at MaxJitter, so that servers on the same schedule do not all
// start on the same second.
func (sc *Scheduler) jitter(s Spec, at time.Time) time.Duration {
	limit := min(sc.o.MaxJitter, s.Interval(at)/10)
	if limit <= 0 {
		return 0
	}
	return rand.N(limit) //nolint:gosec // jitter needs no cryptographic randomness
}

// Busy returns the server's busy token: a check of the server holds it
// (sends to it) while it runs.
func (sc *Scheduler) Busy(name string) chan struct{} {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	b, ok := sc.busy[name]
	if !ok {
		b = make(chan struct{}, 1)
		sc.busy[name] = b
	}
	return b
}

// Completed records that a server finished a check and closes the cycle
// once every server has finished one since it began.
func (sc *Scheduler) Completed(name string, at time.Time) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.checked[name] = at
	for _, s := range sc.servers {
		if t, ok := sc.checked[s.Config.Name]; !ok || t.Before(sc.cycleStart) {
			return
		}
	}
	sc.cycleStart = at
	sc.o.OnCycle(at)
}

// Fresh reports an error unless every server has completed a check
// recently enough for its schedule: within two intervals plus its timeout
// and CheckGrace (and a minute of slack).
func (sc *Scheduler) Fresh(now time.Time) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var never, stale []string
	for _, s := range sc.servers {
		name := s.Config.Name
		t, ok := sc.checked[name]
		if !ok {
			never = append(never, name)
			continue
		}
		bound := 2*s.Spec.Interval(now) + s.Config.Timeout + sc.o.CheckGrace + time.Minute
		if now.Sub(t) > bound {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	switch {
	case len(never) > 0:
		return fmt.Errorf("first cycle not finished: %d of %d servers not checked yet", len(never), len(sc.servers))
	case len(stale) > 0:
		return fmt.Errorf("last cycle too old: no recent check of %s", strings.Join(stale, ", "))
	}
	return nil
}

// cronLogger adapts slog to the cron package's wrappers (Recover,
// SkipIfStillRunning).
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "error", fmt.Sprint(err))...)
}
