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

func compare(base, snap *manifest.Manifest, s *config.Server, hook func(entity, name, text string) []drift.Finding) []report.Change {
	p := Policy(s)
	p.Lint = hook
	cs := drift.Diff(base, snap, p)
	out := make([]report.Change, 0, len(cs))
	for _, c := range cs {
		rc := report.Change{
			Kind: c.Kind, Entity: c.Entity, Name: c.Name, Path: c.Path,
			Severity: c.Severity, Summary: c.Summary,
			Before: c.Before, After: c.After, Diff: c.Diff,
			Findings: []report.Finding{},
		}
		for _, f := range c.Findings {
			rc.Findings = append(rc.Findings, report.Finding{Rule: f.Rule, Severity: f.Severity, Message: f.Message, Evidence: f.Evidence})
		}
		out = append(out, rc)
	}
	return out
}
