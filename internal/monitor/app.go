package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/incident"
	"github.com/mcpdrift/mcpdrift/internal/monitor/logonce"
	"github.com/mcpdrift/mcpdrift/internal/monitor/outbox"
	"github.com/mcpdrift/mcpdrift/internal/monitor/schedule"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// Tuning defaults. Each has an Options field so tests can shrink it.
const (
	DefaultMaxJitter        = 5 * time.Second
	DefaultDebounce         = 200 * time.Millisecond
	DefaultWatchMinInterval = 2 * time.Second
	DefaultReconnectMin     = time.Second
	DefaultReconnectMax     = 5 * time.Minute
	DefaultWatchPing        = 30 * time.Second
	DefaultRetryMin         = 5 * time.Second
	DefaultRetryMax         = 10 * time.Minute
	DefaultDeliveryTimeout  = 30 * time.Second
	DefaultReminderCheck    = 30 * time.Second
	DefaultPruneInterval    = time.Hour
	DefaultShutdownTimeout  = 10 * time.Second
	// DefaultThreadMaxAge is how long notifier threading handles are kept.
	DefaultThreadMaxAge = 90 * 24 * time.Hour
)

// DefaultCheckGrace is what a check may take beyond the server's probe
// timeout (store writes, teardown) before its concurrency slot is handed
// on.
const DefaultCheckGrace = 10 * time.Second

// WatchFunc holds a watch session open; probe.Watch in production.
type WatchFunc func(ctx context.Context, t probe.Target, opts probe.WatchOptions) error

// BuildNotifiers builds the notifier of every configured notifier, by
// name. It is called at start and on every reload, before anything is
// swapped, so an error leaves the running configuration in place.
type BuildNotifiers func(cfg *config.Config) (map[string]notifiers.Notifier, error)

// Options configure an App. Config, Store and Logger are required.
type Options struct {
	Config *config.Config
	Store  *store.DB
	Logger *slog.Logger

	// Clock defaults to the wall clock.
	Clock clock.Clock
	// Probe defaults to probe.Probe.
	Probe engine.ProbeFunc
	// Watch defaults to probe.Watch.
	Watch WatchFunc
	// Notifiers defaults to LogNotifiers: one log line per alert.
	Notifiers BuildNotifiers
	// LoadConfig re-reads the configuration for Reload.
	LoadConfig func() (*config.Config, error)
	// Registry receives the daemon's metrics; a new one if nil.
	Registry *prometheus.Registry
	// Secrets receives the redactor of every configuration the App runs
	// (at New and on each Apply); the App logs through it, and the
	// engine redacts failures with it. Share it with the caller's own log
	// handler. A new one if nil.
	Secrets *redact.Live

	// Stagger spreads the start-up snapshots over this long; zero means
	// 25ms per server up to schedule.DefaultStagger, negative means all
	// at once.
	// MaxJitter caps the random delay added to each scheduled run
	// (at most a tenth of the schedule's interval).
	Stagger   time.Duration
	MaxJitter time.Duration
	// Debounce is how long a list_changed waits for the rest of its burst;
	// WatchMinInterval is the least time between two snapshots a watch
	// session triggers, however many notifications arrive.
	Debounce         time.Duration
	WatchMinInterval time.Duration
	// ReconnectMin and ReconnectMax bound the watch reconnection backoff;
	// WatchPing is the watch session's liveness ping interval.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	WatchPing    time.Duration
	// RetryMin and RetryMax bound the delivery retry backoff;
	// DeliveryTimeout bounds one delivery attempt.
	RetryMin        time.Duration
	RetryMax        time.Duration
	DeliveryTimeout time.Duration
	// ReminderCheck is how often open incidents are re-evaluated and
	// reminders sent when due.
	ReminderCheck time.Duration
	// PruneInterval is how often old observations are pruned (negative:
	// never).
	PruneInterval time.Duration
	// ShutdownTimeout bounds Run's return once its context is cancelled.
	ShutdownTimeout time.Duration
	// CheckGrace is how long a check may overrun the server's timeout
	// before it is abandoned (real time).
	CheckGrace time.Duration
}

// withDefaults fills unset tuning: zero means the default, negative none.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
		if *d < 0 {
			*d = 0
		}
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Probe == nil {
		o.Probe = probe.Probe
	}
	if o.Watch == nil {
		o.Watch = probe.Watch
	}
	if o.Notifiers == nil {
		log := o.Logger
		o.Notifiers = func(cfg *config.Config) (map[string]notifiers.Notifier, error) { return LogNotifiers(cfg, log), nil }
	}
	def(&o.MaxJitter, DefaultMaxJitter)
	def(&o.Debounce, DefaultDebounce)
	def(&o.WatchMinInterval, DefaultWatchMinInterval)
	def(&o.ReconnectMin, DefaultReconnectMin)
	def(&o.ReconnectMax, DefaultReconnectMax)
	def(&o.WatchPing, DefaultWatchPing)
	def(&o.RetryMin, DefaultRetryMin)
	def(&o.RetryMax, DefaultRetryMax)
	def(&o.DeliveryTimeout, DefaultDeliveryTimeout)
	def(&o.ReminderCheck, DefaultReminderCheck)
	def(&o.PruneInterval, DefaultPruneInterval)
	def(&o.ShutdownTimeout, DefaultShutdownTimeout)
	def(&o.CheckGrace, DefaultCheckGrace)
	return o
}

// runtimeConfig is everything built from one configuration, swapped as a
// whole on reload.
type runtimeConfig struct {
	cfg       *config.Config
	servers   map[string]*config.Server // enabled servers by name
	order     []string                  // enabled server names in config order
	schedules map[string]schedule.Spec
	notifiers map[string]notifiers.Notifier
}

// App is the daemon: scheduler, watchers, alert lifecycle and dispatcher
// over one open store. Start it with Run; it is safe for concurrent use.
type App struct {
	opts   Options
	log    *slog.Logger
	clock  clock.Clock
	store  *store.DB
	engine *engine.Engine
	m      *metrics

	rt atomic.Pointer[runtimeConfig]

	// mu serializes Apply and guards the run state below.
	mu      sync.Mutex
	runCtx  context.Context
	running atomic.Bool

	// wg tracks every goroutine Run must wait for; track adds to it
	// unless the daemon is stopping.
	trackMu  sync.Mutex
	stopping bool
	wg       sync.WaitGroup

	sched *schedule.Scheduler
	life  *lifecycle
	disp  *outbox.Dispatcher

	checkLogsMu sync.Mutex
	checkLogs   map[string]*logonce.Log // server -> its check errors

	toolsMu   sync.Mutex
	toolsSeen map[string]string // server -> snapshot id whose tools are exported

	sessions watchSessions
}

// New builds an App from a validated configuration: it parses every
// schedule and builds every notifier, and fails if any of them fails.
func New(opts Options) (*App, error) {
	switch {
	case opts.Config == nil:
		return nil, errors.New("monitor: no configuration")
	case opts.Store == nil:
		return nil, errors.New("monitor: no store")
	case opts.Logger == nil:
		return nil, errors.New("monitor: no logger")
	}
	opts = opts.withDefaults()
	if opts.Secrets == nil {
		opts.Secrets = &redact.Live{}
	}
	opts.Secrets.Store(opts.Config.Redactor())
	opts.Logger = slog.New(redact.NewHandler(opts.Logger.Handler(), opts.Secrets.Load))
	a := &App{
		opts:  opts,
		log:   opts.Logger.With("component", "monitor"),
		clock: opts.Clock,
		store: opts.Store,
		m:     newMetrics(opts.Registry),

		toolsSeen: map[string]string{},
		checkLogs: map[string]*logonce.Log{},
	}
	a.opts.Probe = a.withAuth(a.opts.Probe)
	a.engine = &engine.Engine{
		Store:   opts.Store,
		Probe:   a.instrumentedProbe,
		Now:     opts.Clock.Now,
		Logger:  opts.Logger,
		Secrets: opts.Secrets,
		// Every check of the daemon (scheduled, watched, requested, and
		// the client identities of check --as) shares this limit.
		Limit: engine.NewLimiter(opts.Config.Concurrency),
		// The daemon logs one line per check, with its trigger, and a
		// repeated error once (App.logCheck).
		CallerLogsChecks: true,
	}
	rt, err := a.build(opts.Config)
	if err != nil {
		return nil, err
	}
	a.rt.Store(rt)
	a.m.configLoaded(opts.Config.Hash(), a.clock.Now())
	a.disp = outbox.New(outbox.Options{
		Store: opts.Store, Clock: opts.Clock, Log: a.log, Go: a.goLoop,
		MaxAge:   func() time.Duration { return a.Config().Alerts.MaxDeliveryAge },
		RetryMin: opts.RetryMin, RetryMax: opts.RetryMax, Timeout: opts.DeliveryTimeout,
		Notifications: a.m.notifications, Pending: a.m.outbox,
	})
	a.life = &lifecycle{
		store: opts.Store, clock: opts.Clock, log: a.log, m: a.m, runtime: a.runtime,
		pending: a.engine.Pending, wake: a.disp.Wake, every: opts.ReminderCheck,
		states: map[string]store.AlertState{}, mem: map[string]incident.Memory{}, gen: map[string]uint64{},
	}
	a.sched = schedule.New(schedule.Options{
		Clock: opts.Clock, Log: a.log, Stagger: opts.Stagger, MaxJitter: opts.MaxJitter, CheckGrace: opts.CheckGrace,
		Go: a.goLoop, Watch: a.watch,
		Check:   func(ctx context.Context, s *config.Server, trigger string) { a.check(ctx, s, trigger, false) },
		OnCycle: func(at time.Time) { a.m.lastCycle.Set(float64(at.Unix())) },
	})
	return a, nil
}

// build makes everything fallible from cfg: schedules and notifiers.
func (a *App) build(cfg *config.Config) (*runtimeConfig, error) {
	rt := &runtimeConfig{
		cfg:       cfg,
		servers:   map[string]*config.Server{},
		schedules: map[string]schedule.Spec{},
	}
	var errs []error
	for i := range cfg.Servers {
		s := &cfg.Servers[i]
		if s.Disabled {
			continue
		}
		sc, err := schedule.Parse(s.Schedule)
		if err != nil {
			errs = append(errs, fmt.Errorf("server %q: schedule %q: %w", s.Name, s.Schedule, err))
			continue
		}
		rt.servers[s.Name] = s
		rt.order = append(rt.order, s.Name)
		rt.schedules[s.Name] = sc
	}
	ns, err := a.opts.Notifiers(cfg)
	if err != nil {
		errs = append(errs, fmt.Errorf("build notifiers: %w", err))
	}
	for _, n := range cfg.Notifiers {
		if err == nil && ns[n.Name] == nil {
			errs = append(errs, fmt.Errorf("build notifiers: notifier %q was not built", n.Name))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	rt.notifiers = ns
	return rt, nil
}

func (a *App) runtime() *runtimeConfig { return a.rt.Load() }

// Config returns the running configuration.
func (a *App) Config() *config.Config { return a.runtime().cfg }

// Registry returns the registry holding the daemon's metrics.
func (a *App) Registry() *prometheus.Registry { return a.m.reg }

// Engine returns the engine the daemon checks with, for the admin service.
func (a *App) Engine() *engine.Engine { return a.engine }

// Run starts the daemon and blocks until ctx is cancelled, then stops it:
// in-flight probes are cancelled (stdio servers killed) and Run returns
// within Options.ShutdownTimeout. The store stays open: the caller closes
// it after Run returns.
func (a *App) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.runCtx != nil {
		a.mu.Unlock()
		return errors.New("monitor: Run called twice")
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.runCtx = runCtx
	rt := a.runtime()
	if err := a.life.load(); err != nil {
		a.mu.Unlock()
		return err
	}
	a.disp.Reconcile(runCtx, rt.notifiers)
	a.life.startup(rt)
	a.reschedule(runCtx, rt, true)
	a.goLoop(runCtx, a.life.reminderLoop)
	a.goLoop(runCtx, a.pruneLoop)
	a.running.Store(true)
	a.mu.Unlock()
	a.log.Info("daemon started", "servers", len(rt.order), "notifiers", len(rt.notifiers), "concurrency", rt.cfg.Concurrency)

	<-ctx.Done()
	a.running.Store(false)
	a.trackMu.Lock()
	a.stopping = true
	a.trackMu.Unlock()
	a.log.Info("daemon stopping")
	done := make(chan struct{})
	go func() {
		a.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(a.opts.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		a.log.Info("daemon stopped")
		return nil
	case <-t.C:
		return fmt.Errorf("monitor: stopped with work still running after %s", a.opts.ShutdownTimeout)
	}
}

// track counts one more goroutine for Run to wait for; false once the
// daemon is stopping, when nothing new may start.
func (a *App) track() bool {
	a.trackMu.Lock()
	defer a.trackMu.Unlock()
	if a.stopping {
		return false
	}
	a.wg.Add(1)
	return true
}

// goLoop runs f in a tracked goroutine.
func (a *App) goLoop(ctx context.Context, f func(context.Context)) {
	if !a.track() {
		return
	}
	go func() {
		defer a.wg.Done()
		f(ctx)
	}()
}

// Reload re-reads the configuration with Options.LoadConfig and applies it.
// A configuration that fails to load or build leaves the running one in
// place; the error is logged, counted and returned.
func (a *App) Reload() error {
	if a.opts.LoadConfig == nil {
		return errors.New("monitor: no LoadConfig to reload from")
	}
	cfg, err := a.opts.LoadConfig()
	if err != nil {
		return a.reloadFailed(err)
	}
	return a.Apply(cfg)
}

// Apply replaces the running configuration with cfg once everything it
// needs is built: servers added are scheduled (and snapshotted at once),
// servers removed are stopped, servers whose settings changed are
// rescheduled, notifiers are rebuilt. Storage and listener settings only
// take effect on restart.
func (a *App) Apply(cfg *config.Config) error {
	rt, err := a.build(cfg)
	if err != nil {
		return a.reloadFailed(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.runtime()
	a.warnRestartOnly(old.cfg, cfg)
	a.opts.Secrets.Store(cfg.Redactor())
	a.rt.Store(rt)
	for name := range old.servers {
		if rt.servers[name] == nil {
			a.m.forget(name)
			a.checkLogsMu.Lock()
			delete(a.checkLogs, name)
			a.checkLogsMu.Unlock()
		}
	}
	if a.running.Load() {
		a.disp.Reconcile(a.runCtx, rt.notifiers)
		a.reschedule(a.runCtx, rt, false)
	}
	a.m.reloads.WithLabelValues("success").Inc()
	a.m.configLoaded(cfg.Hash(), a.clock.Now())
	a.log.Info("configuration reloaded", "hash", cfg.Hash(), "servers", len(rt.order), "notifiers", len(rt.notifiers))
	return nil
}

// reschedule resizes the shared concurrency limit to rt and hands its
// servers to the scheduler.
func (a *App) reschedule(ctx context.Context, rt *runtimeConfig, startup bool) {
	a.engine.Limit.Resize(rt.cfg.Concurrency)
	servers := make([]schedule.Server, len(rt.order))
	for i, name := range rt.order {
		servers[i] = schedule.Server{Config: rt.servers[name], Spec: rt.schedules[name]}
	}
	a.sched.Reconcile(ctx, servers, startup)
}

func (a *App) reloadFailed(err error) error {
	a.m.reloadOK.Set(0)
	a.m.reloads.WithLabelValues("failure").Inc()
	a.log.Error("configuration reload failed; the previous configuration keeps running", "error", err.Error())
	return fmt.Errorf("reload configuration: %w", err)
}

func (a *App) warnRestartOnly(old, cfg *config.Config) {
	if old.Storage.Path != cfg.Storage.Path {
		a.log.Warn("storage.path changed; it takes effect on restart")
	}
	if old.HTTP.Listen != cfg.HTTP.Listen {
		a.log.Warn("http.listen changed; it takes effect on restart")
	}
	if old.Admin.Socket != cfg.Admin.Socket {
		a.log.Warn("admin.socket changed; it takes effect on restart")
	}
}

// OnApprove re-evaluates a server right after an approval, so that its
// drift alert resolves at once rather than on the next check.
func (a *App) OnApprove(server string) {
	s := a.runtime().servers[server]
	if s == nil {
		return
	}
	a.life.reevaluate(s, false)
}

// Ready reports whether the daemon is fit to serve: running, its store
// readable, and every server checked recently enough for its schedule.
func (a *App) Ready() error {
	if !a.running.Load() {
		return errors.New("scheduler not running")
	}
	if _, err := a.store.AlertState("readyz"); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return a.sched.Fresh(a.clock.Now())
}

// instrumentedProbe times every probe for the metrics. A server with an
// open watch session is listed in that session too, right after the fresh
// probe (watchSessions.addSessionLists).
func (a *App) instrumentedProbe(ctx context.Context, t probe.Target) (*probe.Result, error) {
	start := time.Now()
	res, err := a.opts.Probe(ctx, t)
	a.m.probeDuration.WithLabelValues(t.Name).Observe(time.Since(start).Seconds())
	if err != nil {
		a.m.probeFailures.WithLabelValues(t.Name).Inc()
		return res, err
	}
	a.sessions.addSessionLists(ctx, a.log, t.Name, res)
	return res, nil
}

// pruneLoop prunes old observations and thread handles at start-up and
// then every PruneInterval.
func (a *App) pruneLoop(ctx context.Context) {
	if a.opts.PruneInterval <= 0 {
		return
	}
	for {
		cfg := a.Config()
		now := a.clock.Now()
		if n, err := a.store.Prune(now, cfg.Storage.MaxObservations, cfg.Storage.ObservationMaxAge); err != nil {
			a.log.Error("prune observations", "error", err.Error())
		} else if n > 0 {
			a.log.Info("pruned observations", "removed", n)
		}
		if _, err := a.store.PruneThreads(now.Add(-DefaultThreadMaxAge)); err != nil {
			a.log.Error("prune notifier threads", "error", err.Error())
		}
		if !clock.Sleep(ctx, a.clock, a.opts.PruneInterval) {
			return
		}
	}
}

// observeTools exports the tool count of a server's snapshot, reading the
// manifest only when the snapshot changed.
func (a *App) observeTools(rs report.Server) {
	if rs.Snapshot == nil {
		return
	}
	a.toolsMu.Lock()
	seen := a.toolsSeen[rs.Server] == rs.Snapshot.ID
	a.toolsMu.Unlock()
	if seen {
		return
	}
	doc, err := a.store.Manifest(rs.Snapshot.ID)
	if err != nil {
		return
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		return
	}
	a.m.tools.WithLabelValues(rs.Server).Set(float64(m.Count(manifest.KindTool)))
	a.toolsMu.Lock()
	a.toolsSeen[rs.Server] = rs.Snapshot.ID
	a.toolsMu.Unlock()
}
