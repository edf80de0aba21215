package lockfile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// Checker compares live servers with a lockfile, with no database: the
// lockfile is the baseline, nothing is stored and nothing is approved.
type Checker struct {
	// Probe captures one server; probe.Probe in production.
	Probe engine.ProbeFunc
	// Logger receives probe logs.
	Logger *slog.Logger
	// Concurrency bounds the servers probed at once (1 when < 1).
	Concurrency int
}

// Result is one server's outcome.
type Result struct {
	Report report.Server
	// Snapshot is the manifest the server sent with its configured client
	// identity; nil when it could not be probed.
	Snapshot *manifest.Manifest
}

// NewChecker returns a checker with the real prober.
func NewChecker(logger *slog.Logger, concurrency int) *Checker {
	return &Checker{Probe: probe.Probe, Logger: logger, Concurrency: concurrency}
}

// Check probes servers and compares each with its entry in f, returning
// results in the order given. A server missing from f is unapproved. A
// manifest edited by hand is compared as written (the lockfile, reviewed as
// code, is the source of truth) and the edit is named in the report's note.
func (c *Checker) Check(ctx context.Context, f *File, servers []*config.Server) []Result {
	n := max(c.Concurrency, 1)
	out := make([]Result, len(servers))
	sem := make(chan struct{}, n)
	done := make(chan struct{})
	for i, s := range servers {
		go func() {
			defer func() { done <- struct{}{} }()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = c.CheckServer(ctx, f, s)
		}()
	}
	for range servers {
		<-done
	}
	return out
}

// CheckServer probes one server and compares it with its entry in f. It
// never panics: a panic in any step becomes an error status.
func (c *Checker) CheckServer(ctx context.Context, f *File, s *config.Server) (res Result) {
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if p := recover(); p != nil {
			logger.Error("lock check panicked", slog.String("server", s.Name), slog.Any("panic", p))
			res = Result{Report: errorStatus(s.Name, fmt.Errorf("internal error while checking: %v", p))}
		}
	}()
	t, err := engine.Target(s)
	if err != nil {
		return Result{Report: errorStatus(s.Name, err)}
	}
	t.Logger = logger
	t.Timeout = engine.StatelessProbeTimeout(s, t)
	pr, err := c.Probe(ctx, t)
	if err != nil {
		return Result{Report: errorStatus(s.Name, err)}
	}
	m, err := manifest.Build(pr.Capture)
	if err != nil {
		return Result{Report: errorStatus(s.Name, fmt.Errorf("server %q sent an unusable manifest: %w", s.Name, err))}
	}
	return Result{Report: Compare(f, s, m, pr.StartedAt), Snapshot: m}
}

// Compare reports how snap differs from s's entry in f, and how it breaks
// s's trust policy, as the daemon does (engine.Conclude).
func Compare(f *File, s *config.Server, snap *manifest.Manifest, takenAt time.Time) report.Server {
	rs := report.Server{
		Server:   s.Name,
		Snapshot: &report.Snapshot{ID: snap.ID(), TakenAt: takenAt.UTC()},
		Changes:  []report.Change{}, Findings: []report.Finding{},
	}
	pinned, ok := f.Server(s.Name)
	if !ok {
		rs.Changes = engine.Violations(snap, s)
		rs.Findings = engine.Lint(snap, nil, s)
		rs.Severity = rs.MaxSeverity()
		rs.Status = report.StatusUnapproved
		rs.Note = fmt.Sprintf("not in the lockfile: review with 'mcpdrift check %s', approve it, then 'mcpdrift lock export'", s.Name)
		return rs
	}
	rs.Baseline = &report.Baseline{ID: pinned.ContentID(), ApprovedAt: pinned.Approval.At.UTC(), ApprovedBy: pinned.Approval.By}
	if err := pinned.Verify(); err != nil && errors.Is(err, ErrEdited) {
		rs.Note = fmt.Sprintf("lockfile manifest edited by hand (recorded %s, content %s): compared against the content as written",
			pinned.Fingerprint, pinned.ContentID())
	}
	rs.Findings = engine.Lint(snap, pinned.Manifest, s)
	engine.Acknowledge(rs.Findings, pinned.Manifest, rs.Baseline.ID, pinned.Approval.By, rs.Snapshot.ID, s)
	var diff []report.Change
	if rs.Baseline.ID != rs.Snapshot.ID {
		diff = engine.Compare(pinned.Manifest, snap, s)
	}
	engine.Conclude(&rs, diff, snap, s)
	return rs
}

func errorStatus(name string, err error) report.Server {
	return report.Server{Server: name, Status: report.StatusError, Error: err.Error(),
		Changes: []report.Change{}, Findings: []report.Finding{}}
}
