package report

import (
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Risk tiers, riskiest first. A reviewer facing a vendor upgrade of a
// hundred changes reads from the top and stops when tired, so what a rug
// pull needs (poisoned text, a tool that may now write, a wider schema, new
// instructions) must come before the routine additions and removals that
// hide it.
const (
	// TierEscalation: a change carrying lint findings, a tool moving to a
	// riskier group, a widened schema or escalated annotations (high or
	// above), new server instructions, a trust-policy breach, a client
	// divergence, or anything critical.
	TierEscalation = iota
	// TierText: description and instruction edits, changed prompts,
	// resources and templates, and renames.
	TierText
	// TierAddition: whole entities added.
	TierAddition
	// TierOther: everything else (identity, titles, icons, server info).
	TierOther
	// TierRemoval: whole entities removed, and info changes (meaning
	// preserved), which need no review.
	TierRemoval
)

// Tier is the risk tier of a change (see the Tier constants).
func Tier(c *Change) int {
	switch {
	case c.Severity == severity.Info:
		return TierRemoval
	case len(c.Findings) > 0, c.Severity >= severity.Critical:
		return TierEscalation
	}
	switch c.Kind {
	case "tool.risk", "policy.violation", "client.divergence":
		return TierEscalation
	case "tool.input_schema", "tool.output_schema", "tool.annotations":
		if c.Severity >= severity.High {
			return TierEscalation
		}
		return TierOther
	case "server.instructions":
		if c.Before == "" {
			return TierEscalation
		}
		return TierText
	case "tool.description", "tool.renamed", "prompt.changed", "resource.changed", "resource_template.changed":
		return TierText
	}
	switch {
	case strings.HasSuffix(c.Kind, ".added"):
		return TierAddition
	case strings.HasSuffix(c.Kind, ".removed"):
		return TierRemoval
	}
	return TierOther
}

// compareRisk orders two changes riskiest first: by tier, then severity
// (highest first), then entity, name, path and kind, so that the order is
// total and every rendering (text, markdown, JSON, notifiers) agrees.
func compareRisk(a, b *Change) int {
	if ta, tb := Tier(a), Tier(b); ta != tb {
		return ta - tb
	}
	if a.Severity != b.Severity {
		return int(b.Severity) - int(a.Severity)
	}
	if ra, rb := manifest.EntityRank(a.Entity), manifest.EntityRank(b.Entity); ra != rb {
		return ra - rb
	}
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := strings.Compare(a.Path, b.Path); c != 0 {
		return c
	}
	return strings.Compare(a.Kind, b.Kind)
}

// SortByRisk orders changes riskiest first (see Tier), stably, in place.
func SortByRisk(cs []Change) {
	slices.SortStableFunc(cs, func(a, b Change) int { return compareRisk(&a, &b) })
}
