package drift

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Risk is what a tool may do, from its annotations read through the spec's
// defaults (manifest.EffectiveHints). Risks are ordered: each is riskier
// than the one before.
type Risk int

// The risk groups, least risky first.
const (
	// RiskReadOnly: readOnlyHint is true. The tool says it changes
	// nothing (it may still reach an open world: see RiskOf).
	RiskReadOnly Risk = iota
	// RiskWrites: not read-only, destructiveHint false, and a closed world
	// (openWorldHint false): it changes things, additively, locally.
	RiskWrites
	// RiskDestructive: not read-only, destructiveHint true (the default)
	// and a closed world.
	RiskDestructive
	// RiskOpenWorld: not read-only and openWorldHint true (the default):
	// it acts on the world outside the server, where its effects (and
	// what it sends) cannot be taken back.
	RiskOpenWorld
	// RiskUnannotated: no annotations object at all. The spec's defaults
	// assume the worst, and so does mcpdrift: nothing is known.
	RiskUnannotated
)

var riskNames = [...]string{"read-only", "writes", "destructive", "open-world", "unannotated"}

// RiskNames lists the risk names, least risky first.
func RiskNames() []string { return append([]string(nil), riskNames[:]...) }

func (r Risk) String() string {
	if r < 0 || int(r) >= len(riskNames) {
		return fmt.Sprintf("risk(%d)", int(r))
	}
	return riskNames[r]
}

// ParseRisk reads a risk name.
func ParseRisk(s string) (Risk, bool) {
	for i, n := range riskNames {
		if n == s {
			return Risk(i), true
		}
	}
	return 0, false
}

// MarshalText writes the risk name.
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a risk name.
func (r *Risk) UnmarshalText(b []byte) error {
	v, ok := ParseRisk(string(b))
	if !ok {
		return fmt.Errorf("unknown risk %q (want one of %s)", b, strings.Join(riskNames[:], ", "))
	}
	*r = v
	return nil
}

// ToolRisk is a tool's risk group and its open-world flag.
type ToolRisk struct {
	Risk Risk
	// OpenWorld is the effective openWorldHint: true for every open-world
	// and unannotated tool, and for read-only tools that reach outside.
	OpenWorld bool
	Hints     manifest.Hints
}

// RiskOf classifies a tool (its canonical JSON):
//
//   - unannotated: no "annotations" object at all (an annotations value
//     that is not an object counts as absent);
//   - read-only: readOnlyHint true;
//   - open-world: not read-only and openWorldHint true (the default);
//   - destructive: not read-only, closed world, destructiveHint true (the
//     default);
//   - writes: not read-only, closed world, destructiveHint false.
//
// Open world ranks above destructive because a tool that writes to the
// outside world can exfiltrate and cannot be rolled back by the operator.
func RiskOf(tool json.RawMessage) ToolRisk {
	var t struct {
		Annotations json.RawMessage `json:"annotations"`
	}
	h := manifest.EffectiveHints(tool)
	tr := ToolRisk{OpenWorld: h.OpenWorld, Hints: h}
	if json.Unmarshal(tool, &t) != nil || !isObject(t.Annotations) {
		tr.Risk = RiskUnannotated
		tr.Hints = manifest.DefaultHints
		tr.OpenWorld = true
		return tr
	}
	switch {
	case h.ReadOnly:
		tr.Risk = RiskReadOnly
	case h.OpenWorld:
		tr.Risk = RiskOpenWorld
	case h.Destructive:
		tr.Risk = RiskDestructive
	default:
		tr.Risk = RiskWrites
	}
	return tr
}

func isObject(raw json.RawMessage) bool {
	var m map[string]json.RawMessage
	return len(raw) > 0 && json.Unmarshal(raw, &m) == nil && m != nil
}

// riskChange reports a tool moving between risk groups, next to its
// tool.annotations change: high when the new group is riskier, info when
// it is not.
func (d *differ) riskChange(key string, a, b map[string]any) {
	ra, rb := riskOfDecoded(a), riskOfDecoded(b)
	if ra.Risk == rb.Risk || ra.Hints == rb.Hints {
		// Same group, or only an annotations object holding nothing but
		// defaults appeared or went: the same meaning, and the
		// tool.annotations change already shows it.
		return
	}
	level := severity.Info
	if rb.Risk > ra.Risk {
		level = d.levels[KindToolRisk]
	}
	c := Change{
		Kind:   KindToolRisk,
		Entity: "tool",
		Name:   escape.Line(key),
		Path:   "annotations",
		Before: ra.Risk.String(),
		After:  rb.Risk.String(),
		Diff:   "-" + ra.Risk.String() + "\n+" + rb.Risk.String(),
	}
	what := "less risky"
	if rb.Risk > ra.Risk {
		what = "riskier"
	}
	c.Summary = oneLine(fmt.Sprintf("tool `%s` moves from %s to %s (%s)", escape.Truncate(key, maxSummaryKey), ra.Risk, rb.Risk, what))
	d.finish(&c, level, key, "", false)
}

func riskOfDecoded(v map[string]any) ToolRisk {
	raw, err := json.Marshal(v)
	if err != nil {
		return ToolRisk{Risk: RiskUnannotated, OpenWorld: true, Hints: manifest.DefaultHints}
	}
	return RiskOf(raw)
}
