// Package engine is the check pipeline: every check mcpdrift runs goes
// through Engine.Check (a batch: `check`, `check --lock`, `check --as`) or
// Engine.CheckServer (one server: the daemon's scheduled, watched and
// requested checks; Engine.Diverge adds a requested `check --as`), in
// these steps:
//
//	slot (Limiter) and bytes (the byte budget) → probe → canonical manifest
//	(recalled from the store when the capture is unchanged; and the
//	session's later list) → store → compare with the baseline
//	(Baselines: the store's, or a lockfile's) → lint → conclude
//	→ client-identity divergence (optional: Options.As, Diverge)
//
// One Limiter bounds the probes of every caller and one byte budget the
// manifests in flight, so the CLI and the daemon run the same code under
// the same limits. Every error the pipeline reports, stores or logs is
// redacted here. The callers: service.Local (the CLI with the database),
// service.CheckLock (`check --lock`, no database), and monitor.App
// (scheduler, watcher, admin socket), which adds schedules and alerting
// around CheckServer. The engine also approves baselines (Approve, from an
// approval.Request) and evaluates what is stored without probing (Pending,
// Status). The probe target of a server comes from internal/target and the
// request types from internal/approval, so the CLI, which renders what the
// engine produces, uses them without importing the engine.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/divergence"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/internal/target"
	"github.com/mcpdrift/mcpdrift/store"
)

// ApproverTOFU is the approver recorded for a trusted first snapshot.
const ApproverTOFU = "trust-on-first-use"

// Store is what the engine needs from persistence.
type Store interface {
	PutSnapshot(server string, doc []byte, obs store.Observation) (id string, created bool, err error)
	RecordFailure(server string, obs store.Observation) error
	Baseline(server string) (report.Approval, error)
	Manifest(id string) ([]byte, error)
	Approve(a report.Approval, baselineDoc []byte) (report.Approval, error)
	LatestSnapshot(server string) (store.Observation, error)
	LatestObservation(server string) (store.Observation, error)
}

// ProbeFunc captures one server; probe.Probe in production.
type ProbeFunc func(ctx context.Context, t probe.Target) (*probe.Result, error)

// Engine checks servers against their baselines. Its methods are safe for
// concurrent use on different servers.
type Engine struct {
	// Store keeps snapshots and baselines; nil for a check that only
	// reads a lockfile (Options.Lock).
	Store  Store
	Probe  ProbeFunc
	Now    func() time.Time
	Logger *slog.Logger
	// Limit bounds the probes in flight across every check of this
	// engine; nil means one at a time.
	Limit *Limiter
	// CallerLogsChecks is set by a caller that logs one line per check
	// itself (the daemon, which logs a repeated error once): the engine
	// then logs no "snapshot" or "snapshot failed" line of its own.
	CallerLogsChecks bool
	// Peers, when set, lists the tools of all configured servers for the
	// cross-server lint rules.
	Peers PeersFunc
	// Secrets, when set, holds the redactor of the whole configuration
	// (config.Config.Redactor). A failure is always stored, logged and
	// reported with the server's own secrets hidden; with Secrets, every
	// other configured secret (another server's token, a notifier's) is
	// hidden too.
	Secrets *redact.Live
	// ProbeBytes is the budget of manifest bytes in flight across
	// concurrent checks, beside the caller's concurrency limit: a check
	// reserves its expected manifest size before probing and holds it
	// until it is done (see budgetedCapture). 0 means DefaultProbeBytes,
	// negative no budget.
	ProbeBytes int64

	bytes  *byteBudget
	sizes  map[string]int64 // per server: raw bytes of the last capture
	mu     sync.Mutex
	caches map[string]*manifest.Cache // per server: canonical entities of the last build
	lints  map[string]lintCache       // per server: findings of the last lint
}

// Options are a batch check's optional steps and sources.
type Options struct {
	// Lock, when set, is where the baselines come from instead of the
	// store (LockBaselines): nothing is stored, recorded or approved, and
	// a server it has no baseline for is unapproved.
	Lock Baselines
	// As are other client identities to probe each server as, reporting
	// every difference from what the configured identity saw as a
	// client.divergence change.
	As []divergence.Identity
}

// New returns an engine over st with the real prober and clock.
func New(st Store, logger *slog.Logger) *Engine {
	return &Engine{Store: st, Probe: probe.Probe, Now: time.Now, Logger: logger}
}

// limiter returns the engine's concurrency limit.
func (e *Engine) limiter() *Limiter {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.Limit == nil {
		e.Limit = NewLimiter(1)
	}
	return e.Limit
}

// Check checks servers, their probes bounded by the engine's Limit and
// byte budget, and returns their reports in the order given. One server's
// failure never affects another.
func (e *Engine) Check(ctx context.Context, servers []*config.Server, o Options) report.Report {
	out := make([]report.Server, len(servers))
	// The limit is on probes (processes, connections, servers' patience),
	// not on storing and comparing: a server's slot is free for the next
	// probe while its snapshot waits for the database.
	limit := e.limiter()
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			rs, seen := e.checkServer(ctx, s, o.Lock, limit.Acquire)
			if len(o.As) > 0 && seen != nil && rs.Status != report.StatusError {
				e.diverge(ctx, s, seen, &rs, o.As, limit.Acquire)
			}
			out[i] = rs
		})
	}
	wg.Wait()
	return report.Report{Servers: out}
}

// CheckServer probes one server, stores what it saw and compares it with the
// baseline, the caller holding a slot of Limit (the daemon, which hands the
// slot on when a check overruns its deadline). It never panics: a panic in
// any step becomes an error status.
func (e *Engine) CheckServer(ctx context.Context, s *config.Server) report.Server {
	rs, _ := e.checkServer(ctx, s, nil, nil)
	return rs
}

// slotFunc takes a slot of the concurrency limit.
type slotFunc func(ctx context.Context) (release func(), err error)

// checkServer is one server's pipeline, with the probe (only) run inside a
// slot of the limit when slot is set, and the baselines of lock instead of
// the store's when lock is set. It returns the report and the manifest
// compared (nil when none was read).
func (e *Engine) checkServer(ctx context.Context, s *config.Server, lock Baselines, slot slotFunc) (rs report.Server, seen *manifest.Manifest) {
	start := e.Now()
	stateless := lock != nil
	t, terr := target.For(s)
	switch {
	case terr != nil:
	case stateless:
		t.Timeout = StatelessProbeTimeout(s, t)
	default:
		t.Timeout = e.probeTimeout(s)
	}
	// Everything said about a failure, which may quote the server's
	// output, leaves here redacted: the report, the stored failure record
	// (and so status and notifications) and the log.
	scrub := e.scrubber(t)
	defer func() {
		if p := recover(); p != nil {
			err := scrub(fmt.Errorf("internal error while checking: %v", p))
			rs, seen = errorStatus(s.Name, err), nil
			e.Logger.Error("check panicked", slog.String("server", s.Name), slog.String("panic", err.Error()))
		}
	}()
	res, m, key, release, err := func() (*probe.Result, *manifest.Manifest, string, func(), error) {
		if terr != nil {
			return nil, nil, "", nil, terr
		}
		if slot != nil {
			free, err := slot(ctx)
			if err != nil {
				return nil, nil, "", nil, fmt.Errorf("check cancelled: %w", err)
			}
			defer free()
		}
		return e.budgetedCapture(ctx, s, t)
	}()
	src := lock
	if src == nil {
		src = storeBaselines{e.Store}
	}
	if err != nil {
		malformed := isMalformed(err)
		err = scrub(err)
		obs := store.Observation{Server: s.Name, TakenAt: start, Duration: e.Now().Sub(start), Transport: string(s.Transport), Error: err.Error()}
		if !stateless {
			if rerr := e.Store.RecordFailure(s.Name, obs); rerr != nil {
				err = errors.Join(err, fmt.Errorf("record failure: %w", rerr))
			}
		}
		if !e.CallerLogsChecks {
			e.Logger.Warn("snapshot failed", slog.String("server", s.Name), slog.Duration("duration", obs.Duration), slog.String("error", err.Error()))
		}
		if rs, ok := e.unusable(s, src, malformed, err, start); ok {
			return rs, nil
		}
		return errorStatus(s.Name, err), nil
	}
	defer release()
	built := m
	m, later := laterList(s, res, m)
	id := m.ID()
	if !stateless {
		obs := store.Observation{
			Server:     s.Name,
			TakenAt:    res.StartedAt,
			Duration:   res.Duration,
			Client:     res.Client.Name + "/" + res.Client.Version,
			ClientCaps: shortFingerprint(res.ClientCapabilities),
			Protocol:   res.Protocol,
			Transport:  string(res.Transport),
		}
		if m == built {
			// What is stored is what the capture builds to (no later
			// list replaced it): a new process may recall it.
			obs.Capture = key
		}
		var created bool
		if id, created, err = e.Store.PutSnapshot(s.Name, m.Document(), obs); err != nil {
			return errorStatus(s.Name, fmt.Errorf("store snapshot: %w", err)), nil
		}
		if !e.CallerLogsChecks {
			e.Logger.Info("snapshot", slog.String("server", s.Name), slog.String("snapshot", id),
				slog.Bool("new", created), slog.Duration("duration", res.Duration), slog.Int("tools", m.Count(manifest.KindTool)))
		}
	}
	rs = e.evaluate(s, m, id, res.StartedAt, lock, true)
	return withLaterList(rs, later), m
}

// scrubber returns what redacts an error about target t: its own secrets
// and, with Secrets, every other configured one.
func (e *Engine) scrubber(t probe.Target) func(error) error {
	return func(err error) error { return redact.Merge(t.Redactor(), e.Secrets.Load()).Err(err) }
}

// capture probes a server and returns the result, the manifest built or
// recalled from it and the capture's key (manifest.CaptureKey).
func (e *Engine) capture(ctx context.Context, s *config.Server, t probe.Target) (*probe.Result, *manifest.Manifest, string, error) {
	// The probe hides the target's own secrets from what it logs; the
	// rest of the configuration's are hidden here.
	t.Logger = slog.New(redact.NewHandler(e.Logger.Handler(), e.Secrets.Load))
	res, err := e.Probe(ctx, t)
	if err != nil {
		return nil, nil, "", err
	}
	key := manifest.CaptureKey(res.Capture)
	m := e.recall(s.Name, key)
	if m != nil {
		// Unchanged since the latest snapshot: the store answers the
		// next identical capture as well, so nothing of the server stays
		// in memory (issue 15: the daemon's memory).
		e.dropCache(s.Name)
	} else if m, err = manifest.BuildCached(res.Capture, key, e.cache(s.Name)); err != nil {
		return nil, nil, "", fmt.Errorf("server %q sent an unusable manifest: %w", s.Name, err)
	}
	// The raw pages are as large as the manifest and nothing after the
	// build reads them: dropping them here keeps them out of the peak of
	// storing, linting and diffing (issue 15: memory of one check).
	res.Capture = manifest.Capture{}
	return res, m, key, nil
}

// cache returns the server's canonicalization cache. A server is checked by
// one goroutine at a time (the daemon's scheduler skips overlapping runs), so
// the cache itself needs no lock.
func (e *Engine) cache(server string) *manifest.Cache {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.caches == nil {
		e.caches = map[string]*manifest.Cache{}
	}
	c, ok := e.caches[server]
	if !ok {
		c = &manifest.Cache{}
		e.caches[server] = c
	}
	return c
}

// dropCache forgets the server's canonicalization cache.
func (e *Engine) dropCache(server string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.caches, server)
}

// evaluate compares a snapshot with the server's baseline: a lockfile's
// when lock is set (a server it does not pin is unapproved), else the
// store's, trusting a first snapshot on first use when mayTrust allows.
func (e *Engine) evaluate(s *config.Server, snap *manifest.Manifest, snapID string, takenAt time.Time, lock Baselines, mayTrust bool) report.Server {
	rs := report.Server{Server: s.Name, Snapshot: &report.Snapshot{ID: snapID, TakenAt: takenAt.UTC()}}
	src := lock
	if src == nil {
		src = storeBaselines{e.Store}
	}
	base, err := src.Baseline(s.Name)
	switch {
	case errors.Is(err, ErrNoBaseline) && lock != nil:
		rs.Changes = FirstSight(snap, s)
		rs.Findings = e.cachedFindings(snap, snapID, s, e.lintContext(s, nil))
		rs.Severity = rs.MaxSeverity()
		rs.Status = report.StatusUnapproved
		rs.Note = fmt.Sprintf("not in the lockfile: review with 'mcpdrift check %s', approve it, then 'mcpdrift lock export'", s.Name)
		return rs
	case errors.Is(err, ErrNoBaseline):
		return e.firstSight(s, snap, snapID, rs, mayTrust)
	case err != nil:
		return errorStatus(s.Name, fmt.Errorf("read baseline: %w", err))
	}
	rs.Baseline = &base.Ref
	rs.Note = base.Note
	baseM := snap
	if base.Ref.ID != snapID {
		if baseM, err = base.Manifest(); err != nil {
			return errorStatus(s.Name, err)
		}
	}
	lctx := e.lintContext(s, baseM)
	rs.Findings = e.cachedFindings(snap, snapID, s, lctx)
	e.acknowledge(rs.Findings, baseM, base.Ref, snapID, s, lctx)
	var diff []report.Change
	if base.Ref.ID != snapID {
		diff = compare(baseM, snap, s, lintHook(s, lctx))
	}
	Conclude(&rs, diff, snap, s)
	return rs
}

func (e *Engine) firstSight(s *config.Server, snap *manifest.Manifest, snapID string, rs report.Server, mayTrust bool) report.Server {
	rs.Changes = FirstSight(snap, s)
	rs.Findings = e.cachedFindings(snap, snapID, s, e.lintContext(s, nil))
	rs.Severity = rs.MaxSeverity()
	if len(rs.Changes) > 0 {
		// A first sight that breaks the configured trust policy is never
		// trusted, whatever trust_on_first_use says.
		rs.Status = report.StatusUnapproved
		rs.Note = fmt.Sprintf("not trusted on first use: %s; review with 'mcpdrift show %s'", rs.Changes[0].Summary, s.Name)
		return rs
	}
	if !s.TrustOnFirstUse || !mayTrust {
		rs.Status = report.StatusUnapproved
		rs.Note = fmt.Sprintf("no baseline: review with 'mcpdrift show %s' and approve with 'mcpdrift approve %s --snapshot %s'", s.Name, s.Name, snapID)
		return rs
	}
	if refusal := RefuseFirstUse(rs.Findings); refusal != "" {
		rs.Status = report.StatusUnapproved
		rs.Note = "not trusted on first use: " + refusal
		return rs
	}
	a, err := e.Store.Approve(report.Approval{
		Server:     s.Name,
		At:         e.Now().UTC(),
		Approver:   ApproverTOFU,
		Comment:    "first snapshot trusted on first use",
		BaselineID: snapID,
		SnapshotID: snapID,
		Method:     ApproverTOFU,
	}, snap.Document())
	if err != nil {
		return errorStatus(s.Name, fmt.Errorf("record first-use baseline: %w", err))
	}
	rs.Status = report.StatusBaselined
	rs.Baseline = a.Baseline()
	// The findings below high it was trusted with are now the baseline's,
	// acknowledged as on every later check of the same snapshot.
	e.acknowledge(rs.Findings, snap, *rs.Baseline, snapID, s, e.lintContext(s, nil))
	rs.Severity = rs.MaxSeverity()
	return rs
}

// RefuseFirstUse says why a first snapshot must not be trusted on first
// use, or "" when it may be: a poisoned first sight is never trusted.
func RefuseFirstUse(findings []report.Finding) string {
	for _, f := range findings {
		if f.Suppressed == "" && f.Severity >= severity.High {
			return fmt.Sprintf("%s finding %q on %s %q", f.Severity, f.Rule, f.Entity, f.Name)
		}
	}
	return ""
}

func errorStatus(name string, err error) report.Server {
	return report.Server{Server: name, Status: report.StatusError, Error: err.Error(),
		Changes: []report.Change{}, Findings: []report.Finding{}, AuthRequired: errors.Is(err, probe.ErrAuthRequired)}
}

func shortFingerprint(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return manifest.Fingerprint(b)[:len("sha256:")+12]
}
