package drift

import (
	"fmt"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// TestDiffRefWidening: a $ref switched to another definition is compared
// by what the definitions accept, so a new, wider $defs entry behind a
// $ref switch is widening (high), not a plain $ref change.
func TestDiffRefWidening(t *testing.T) {
	const narrowDef = `{"type":"string","maxLength":10,"enum":["a","b"]}`
	tool := func(p, defs string) srv {
		return srv{tools: []string{`{"name":"t","description":"d","inputSchema":{"type":"object","$defs":{"N":` + narrowDef + defs + `},"properties":{"p":` + p + `}}}`}}
	}
	ref := func(r string) string { return `{"$ref":"` + r + `"}` }
	high, med := severity.High, severity.Medium
	tests := []struct {
		name       string
		base, snap srv
		sev        severity.Level
		summary    []string
	}{
		{"switch to a new wider definition", tool(ref("#/$defs/N"), ""), tool(ref("#/$defs/W"), `,"W":{"type":"string"}`),
			high, []string{"drops enum limit on `p`", "drops maxLength 10 on `p`", "adds definition `W`"}},
		{"switch to an identical definition", tool(ref("#/$defs/N"), ""), tool(ref("#/$defs/M"), `,"M":`+narrowDef),
			med, []string{"adds definition `M`", "switches $ref of `p` from \"#/$defs/N\" to \"#/$defs/M\""}},
		{"switch to a narrower definition", tool(ref("#/$defs/N"), ""), tool(ref("#/$defs/X"), `,"X":{"type":"string","maxLength":5,"enum":["a","b"]}`),
			med, []string{"tightens maxLength of `p` from 10 to 5"}},
		{"switch to a definition of more types", tool(ref("#/$defs/N"), ""), tool(ref("#/$defs/W"), `,"W":{"type":["string","number"]}`),
			high, []string{"widens type of `p`"}},
		{"inline schema to a wider $ref", tool(narrowDef, ""), tool(ref("#/$defs/W"), `,"W":{"type":"string"}`),
			high, []string{"drops maxLength 10 on `p`"}},
		{"$ref to a wider inline schema", tool(ref("#/$defs/N"), ""), tool(`{"type":"string"}`, ""),
			high, []string{"drops maxLength 10 on `p`"}},
		{"switch to a recursive definition", tool(ref("#/$defs/N"), ""), tool(ref("#/$defs/R"), `,"R":{"type":"object","properties":{"c":{"$ref":"#/$defs/R"}}}`),
			high, []string{"drops enum limit on `p`"}},
		{"chained $refs", tool(ref("#/$defs/N"), `,"A":{"$ref":"#/$defs/N"}`), tool(ref("#/$defs/B"), `,"A":{"$ref":"#/$defs/N"},"B":{"$ref":"#/$defs/A"}`),
			med, []string{"switches $ref of `p`"}},
		{"unresolvable $ref", tool(ref("https://x/a.json"), ""), tool(ref("https://x/b.json"), ""),
			med, []string{"changes $ref of `p`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tt.base.build(t), tt.snap.build(t), Policy{})
			ws := make([]want, 0, len(tt.summary))
			for _, s := range tt.summary {
				ws = append(ws, want{"tool.input_schema", "t", "*", tt.sev, s})
			}
			// One change per field, its parts joined in the summary:
			// check each part against the same change.
			for _, w := range ws {
				checkChanges(t, got, []want{w})
			}
		})
	}
}

// TestDiffRefBombIsBounded: definitions that each refer twice to the
// next, switched on every level, would take 2^n walks if every switch were
// followed: the walk stops following and stays fast.
func TestDiffRefBombIsBounded(t *testing.T) {
	const n = 40
	defs := func(prefix string) string {
		out := ""
		for i := range n {
			next := fmt.Sprintf("#/$defs/%s%d", prefix, i+1)
			if i > 0 {
				out += ","
			}
			out += fmt.Sprintf(`"%s%d":{"type":"object","properties":{"l":{"$ref":"%s"},"r":{"$ref":"%s"}}}`, prefix, i, next, next)
		}
		return out + fmt.Sprintf(`,"%s%d":{"type":"string"}`, prefix, n)
	}
	tool := func(prefix string) srv {
		return srv{tools: []string{`{"name":"t","inputSchema":{"type":"object","$defs":{` + defs(prefix) + `},"properties":{"p":{"$ref":"#/$defs/` + prefix + `0"}}}}`}}
	}
	done := make(chan []report.Change, 1)
	base, snap := tool("a").build(t), tool("b").build(t)
	go func() { done <- Diff(base, snap, Policy{}) }()
	select {
	case got := <-done:
		if len(got) == 0 {
			t.Fatal("no change reported")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the diff of mutually referring definitions does not finish")
	}
}
