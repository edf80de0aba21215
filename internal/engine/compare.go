package engine

import (
	"regexp"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/lint"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// Policy builds a server's drift policy from its config.
func Policy(s *config.Server) drift.Policy {
	p := drift.Policy{Severity: s.Severity}
	for _, ig := range s.Ignore {
		rule := drift.Ignore{Path: ig.Path}
		if ig.Pattern != "" {
			// Validated when the config was loaded; a pattern that still
			// fails to compile ignores nothing rather than everything.
			re, err := regexp.Compile(ig.Pattern)
			if err != nil {
				continue
			}
			rule.Pattern = re
		}
		p.Ignore = append(p.Ignore, rule)
	}
	return p
}

// Compare diffs a baseline and a snapshot under the server's policy, with
// lint findings on every changed text (cross-server context not included).
func Compare(base, snap *manifest.Manifest, s *config.Server) []report.Change {
	lctx := lint.Context{Server: s.Name}
	for _, t := range base.Entities[manifest.KindTool] {
		lctx.BaselineNames = append(lctx.BaselineNames, t.Key)
	}
	return compare(base, snap, s, lintHook(s, lctx))
}

func compare(base, snap *manifest.Manifest, s *config.Server, hook func(entity, name, text string) []report.Finding) []report.Change {
	// A baseline stored under older canonicalization rules is compared
	// with the snapshot under the same rules: an upgrade alone changes
	// ids, never the changes reported.
	if u, err := manifest.Under(snap, base.Rules); err == nil {
		snap = u
	}
	p := Policy(s)
	p.Lint = hook
	return drift.Diff(base, snap, p)
}

// TrustPolicy maps a server's configured trust policy. Values were
// validated when the config was loaded; an unknown max_risk sets no limit.
func TrustPolicy(s *config.Server) drift.Trust {
	t := s.Trust
	if t == nil {
		return drift.Trust{}
	}
	out := drift.Trust{
		Hosts: t.Hosts, TLSIssuer: t.TLSIssuer, TLSSPKI: t.TLSSPKI,
		AuthorizationServers: t.AuthorizationServers, Scopes: t.Scopes,
	}
	if r, ok := drift.ParseRisk(t.MaxRisk); ok {
		out.MaxRisk = &r
	}
	return out
}

// Violations checks one snapshot against the server's trust policy: one
// critical policy.violation change per breach. It depends on the snapshot
// alone, so every evaluation reports it, whether or not the snapshot
// differs from the baseline.
func Violations(snap *manifest.Manifest, s *config.Server) []report.Change {
	return drift.Violations(snap, TrustPolicy(s), Policy(s))
}

// FirstSight is what a server seen for the first time is reported with,
// there being no baseline to compare with: its trust policy violations
// and every list it serves without advertising the capability (a high
// server.unadvertised change). Either keeps the snapshot from being
// trusted on first use.
func FirstSight(snap *manifest.Manifest, s *config.Server) []report.Change {
	out := Violations(snap, s)
	out = append(out, drift.Unadvertised(snap, Policy(s))...)
	report.SortByRisk(out)
	return out
}

// Conclude completes rs once diff, the changes from the baseline (none when
// the snapshot is the baseline), is known: it adds snap's trust violations,
// reported on every evaluation since they depend on the snapshot alone,
// orders the changes riskiest first (report.SortByRisk), then sets the
// severity and the status: drift, or ok when nothing is left
// (identical, or every difference ignored by policy). The daemon, check and
// check --lock all end here, so they agree.
func Conclude(rs *report.Server, diff []report.Change, snap *manifest.Manifest, s *config.Server) {
	rs.Changes = append(append([]report.Change{}, diff...), Violations(snap, s)...)
	report.SortByRisk(rs.Changes)
	rs.Severity = rs.MaxSeverity()
	rs.Status = report.StatusDrift
	if len(rs.Changes) == 0 {
		rs.Status = report.StatusOK
	}
}
