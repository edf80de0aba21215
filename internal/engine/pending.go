package engine

import (
	"errors"
	"fmt"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// Pending compares the latest stored snapshot of s with its baseline without
// probing or writing anything: what `diff` and `status` show. Policy changes
// in the config take effect here at once, since changes are recomputed.
func (e *Engine) Pending(s *config.Server) report.Server {
	last, err := e.Store.LatestSnapshot(s.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return report.Server{Server: s.Name, Status: report.StatusUnapproved,
			Changes: []report.Change{}, Findings: []report.Finding{},
			Note: fmt.Sprintf("never checked: run 'mcpdrift check %s'", s.Name)}
	case err != nil:
		return errorStatus(s.Name, fmt.Errorf("read latest snapshot: %w", err))
	}
	doc, err := e.Store.Manifest(last.SnapshotID)
	if err != nil {
		return errorStatus(s.Name, fmt.Errorf("read snapshot %s: %w", last.SnapshotID, err))
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		return errorStatus(s.Name, fmt.Errorf("parse snapshot %s: %w", last.SnapshotID, err))
	}
	return e.evaluate(s, m, last.SnapshotID, last.TakenAt, nil, false)
}

// Status is Pending plus the outcome of the most recent probe: a server
// whose last probe failed reports status error, keeping its drift fields.
func (e *Engine) Status(s *config.Server) report.Server {
	rs := e.Pending(s)
	if obs, err := e.Store.LatestObservation(s.Name); err == nil {
		t := obs.TakenAt.UTC()
		rs.LastChecked = &t
		if obs.Error != "" {
			rs.Status, rs.Error = report.StatusError, obs.Error
			rs.AuthRequired = probe.IsAuthRequiredMessage(obs.Error)
		}
	}
	return rs
}
