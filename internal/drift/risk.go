package drift

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Risk is what a tool may do, from its annotations read through the spec's
// defaults (manifest.EffectiveHints). Risks are ordered: each is riskier
// than the one before.
//
// A tool's risk says what it may do (read-only, writes, destructive) and
// ToolRisk.OpenWorld, separately, whether it reaches outside the server:
// openWorldHint defaults to true, so grouping by it hid the destructive
// tools among nearly all the others. RiskOpenWorld is no tool's risk; it
// remains as the trust.max_risk level that allows writing tools in an
// open world (see Exceeds).
type Risk int

// The risk groups, least risky first.
const (
	// RiskReadOnly: readOnlyHint is true. The tool says it changes
	// nothing (it may still reach an open world).
	RiskReadOnly Risk = iota
	// RiskWrites: not read-only, destructiveHint false: it changes
	// things, additively.
	RiskWrites
	// RiskDestructive: not read-only, destructiveHint true (the default):
	// it may delete or overwrite.
	RiskDestructive
	// RiskOpenWorld is a trust.max_risk level only: any annotated tool,
	// writing ones in an open world included. The levels below it allow a
	// writing tool only in a closed world (openWorldHint false).
	RiskOpenWorld
	// RiskUnannotated: no annotations object at all. The spec's defaults
	// assume the worst, and so does mcpdrift: nothing is known.
	RiskUnannotated
)

var riskNames = [...]string{"read-only", "writes", "destructive", "open-world", "unannotated"}

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
	// OpenWorld is the effective openWorldHint (true unless said
	// otherwise): the tool reaches outside the server.
	OpenWorld bool
	Hints     manifest.Hints
}

// String is the risk and, when it reaches outside, "open world":
// "destructive, open world".
func (t ToolRisk) String() string {
	if t.OpenWorld && t.Risk != RiskUnannotated {
		return t.Risk.String() + ", open world"
	}
	return t.Risk.String()
}

// level is the tool's trust.max_risk level: its risk, or RiskOpenWorld for
// a tool that writes in an open world, which ranks above destructive
// because what it does and sends outside cannot be taken back.
func (t ToolRisk) level() Risk {
	if t.OpenWorld && (t.Risk == RiskWrites || t.Risk == RiskDestructive) {
		return RiskOpenWorld
	}
	return t.Risk
}

// Exceeds reports whether the tool is above a trust.max_risk level: its
// risk is above it, or it writes in an open world and the level is below
// RiskOpenWorld (writes and destructive allow closed-world tools only).
func (t ToolRisk) Exceeds(max Risk) bool { return t.level() > max }

// riskier reports whether b may do more than a: a higher risk, or the
// same risk reaching an open world.
func riskier(a, b ToolRisk) bool {
	if a.Risk != b.Risk {
		return b.Risk > a.Risk
	}
	return b.OpenWorld && !a.OpenWorld
}

// RiskOf classifies a tool (its canonical JSON):
//
//   - unannotated: no "annotations" object at all (an annotations value
//     that is not an object counts as absent);
//   - read-only: readOnlyHint true;
//   - destructive: not read-only, destructiveHint true (the default);
//   - writes: not read-only, destructiveHint false;
//
// and OpenWorld is its effective openWorldHint (true for an unannotated
// tool).
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

// riskChange reports a tool moving between risk groups, or into or out of
// an open world, next to its tool.annotations change: high when the new
// place is riskier, info when it is not.
func (d *differ) riskChange(key string, a, b map[string]any) {
	ra, rb := riskOfDecoded(a), riskOfDecoded(b)
	if ra.String() == rb.String() || ra.Hints == rb.Hints {
		// Same group, or only an annotations object holding nothing but
		// defaults appeared or went: the same meaning, and the
		// tool.annotations change already shows it.
		return
	}
	level := severity.Info
	up := riskier(ra, rb)
	if up {
		level = d.levels[KindToolRisk]
	}
	// The open-world flag is named only when it changes.
	before, after := ra.Risk.String(), rb.Risk.String()
	if ra.OpenWorld != rb.OpenWorld {
		before, after = ra.String(), rb.String()
	}
	c := report.Change{
		Kind:   KindToolRisk,
		Entity: "tool",
		Name:   escape.Line(key),
		Path:   "annotations",
		Before: before,
		After:  after,
		Diff:   "-" + before + "\n+" + after,
	}
	what := "less risky"
	if up {
		what = "riskier"
	}
	c.Summary = oneLine(fmt.Sprintf("tool `%s` moves from %s to %s (%s)", escape.Truncate(key, maxSummaryKey), before, after, what))
	d.finish(&c, level, key, "", false)
}

func riskOfDecoded(v map[string]any) ToolRisk {
	raw, err := json.Marshal(v)
	if err != nil {
		return ToolRisk{Risk: RiskUnannotated, OpenWorld: true, Hints: manifest.DefaultHints}
	}
	return RiskOf(raw)
}
