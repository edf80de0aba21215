package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/divergence"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/target"
)

// Diverge is the pipeline's optional last step for a report the caller
// already has (the daemon's, after its alert lifecycle saw the report
// without it): it probes s again as each identity and amends rs with
// every difference from the snapshot rs names, read from the store. A
// report that is an error, or names no stored snapshot, is left as is.
func (e *Engine) Diverge(ctx context.Context, s *config.Server, rs *report.Server, ids []divergence.Identity) {
	if len(ids) == 0 || rs.Status == report.StatusError || rs.Snapshot == nil {
		return
	}
	seen, err := e.load(rs.Snapshot.ID)
	if err != nil {
		divergence.Apply(rs, nil, err)
		return
	}
	e.diverge(ctx, s, seen, rs, ids, e.limiter().Acquire)
}

// diverge probes s as each identity (skipping one equal to the configured
// identity), each probe in a slot of the limit and under the byte budget,
// and applies to rs how each manifest differs from seen. An identity that
// cannot be probed is an error, joined with the others and redacted; the
// changes found for the rest still count. A panic is such an error.
func (e *Engine) diverge(ctx context.Context, s *config.Server, seen *manifest.Manifest, rs *report.Server, ids []divergence.Identity, slot slotFunc) {
	changes, err := e.divergences(ctx, s, seen, ids, slot)
	if err != nil {
		t, _ := target.For(s)
		err = e.scrubber(t)(err)
	}
	divergence.Apply(rs, changes, err)
}

func (e *Engine) divergences(ctx context.Context, s *config.Server, seen *manifest.Manifest, ids []divergence.Identity, slot slotFunc) (changes []report.Change, err error) {
	defer func() {
		if p := recover(); p != nil {
			e.Logger.Error("client identity check panicked", slog.String("server", s.Name), slog.Any("panic", p))
			changes, err = nil, fmt.Errorf("internal error: %v", p)
		}
	}()
	base, err := target.For(s)
	if err != nil {
		return nil, err
	}
	configured := base.Client
	changes = []report.Change{}
	var errs []error
	for _, id := range ids {
		as := id.Resolve(configured)
		if divergence.Same(as, configured) {
			continue
		}
		t := base
		t.Client = as
		m, err := e.captureAs(ctx, s, t, slot)
		if err != nil {
			errs = append(errs, fmt.Errorf("probing as %s: %w", divergence.Label(as), err))
			continue
		}
		for _, c := range Compare(seen, m, s) {
			changes = append(changes, divergence.Diverged(c, divergence.Label(as), divergence.Label(configured)))
		}
	}
	return changes, errors.Join(errs...)
}

// captureAs is one identity's probe, in a slot and under the byte budget.
func (e *Engine) captureAs(ctx context.Context, s *config.Server, t probe.Target, slot slotFunc) (*manifest.Manifest, error) {
	free, err := slot(ctx)
	if err != nil {
		return nil, err
	}
	defer free()
	_, m, _, release, err := e.budgetedCapture(ctx, s, t)
	if err != nil {
		return nil, err
	}
	release()
	return m, nil
}
