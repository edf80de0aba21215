package engine

import (
	"fmt"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// laterList compares the second listing of the probe's session (or, in
// the daemon, the lists of the server's watch session) with the first. A
// server may answer the first list of a session benignly and the later
// ones (after a list_changed) with something else: a client that keeps
// its session sees the later answer, so that is the snapshot, and the
// difference is a high server.later_list change of its own. first is
// returned unchanged, with no change, when the two agree.
func laterList(s *config.Server, res *probe.Result, first *manifest.Manifest) (*manifest.Manifest, []report.Change) {
	if len(res.Relisted) == 0 {
		return first, nil // the same bytes twice
	}
	relisted, err := manifest.Build(manifest.Capture{Pages: res.Relisted})
	if err != nil {
		// An unusable second answer: the first stands (and is what the
		// server gives every new client).
		return first, nil
	}
	later := first.Clone()
	for k := range res.Relisted {
		later.Entities[k] = relisted.Entities[k]
	}
	if later.ID() == first.ID() {
		return first, nil // the same manifest, spelled differently
	}
	var what []string
	for _, d := range drift.Diff(first, later, Policy(s)) {
		if d.Entity == manifest.EntityServer {
			continue
		}
		what = append(what, fmt.Sprintf("%s `%s` %s", d.Entity, d.Name, verb(d.Kind)))
	}
	if len(what) > 4 {
		what = append(what[:4], fmt.Sprintf("and %d more", len(what)-4))
	}
	ch := report.Change{
		Kind: drift.KindServerLaterList, Entity: manifest.EntityServer, Name: manifest.EntityServer,
		Severity: severity.High, Findings: []report.Finding{},
		Before: report.ShortID(first.ID()), After: report.ShortID(later.ID()),
		Summary: "server: a later list in a session differs from a new session's first list (" + strings.Join(what, ", ") +
			"); a client that keeps its session sees the later one, which is the snapshot compared here",
	}
	return later, []report.Change{ch}
}

// verb says what a change kind did to its entity: "added", "removed",
// "changed".
func verb(kind string) string {
	_, v, ok := strings.Cut(kind, ".")
	if !ok || (v != "added" && v != "removed") {
		return "changed"
	}
	return v
}

// withLaterList adds the later-list change to a report: it is drift,
// whatever the comparison with the baseline found.
func withLaterList(rs report.Server, extra []report.Change) report.Server {
	if len(extra) == 0 || rs.Status == report.StatusError {
		return rs
	}
	rs.Changes = append(rs.Changes, extra...)
	report.SortByRisk(rs.Changes)
	rs.Severity = rs.MaxSeverity()
	if rs.Status == report.StatusOK || rs.Status == report.StatusBaselined {
		rs.Status = report.StatusDrift
	}
	return rs
}
