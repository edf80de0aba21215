package drift

import (
	"encoding/json"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// TestToolRiskLabels: the label says what the tool may do, with open
// world as a separate flag, and trust.max_risk keeps its meaning: writes
// and destructive allow writing tools in a closed world only.
func TestToolRiskLabels(t *testing.T) {
	tests := []struct {
		annotations string
		label       string
		within      Risk // the lowest max_risk level it does not exceed
	}{
		{``, "unannotated", RiskUnannotated},
		{`,"annotations":{"readOnlyHint":true}`, "read-only, open world", RiskReadOnly},
		{`,"annotations":{"readOnlyHint":true,"openWorldHint":false}`, "read-only", RiskReadOnly},
		{`,"annotations":{"destructiveHint":false,"openWorldHint":false}`, "writes", RiskWrites},
		{`,"annotations":{"destructiveHint":false}`, "writes, open world", RiskOpenWorld},
		{`,"annotations":{"openWorldHint":false}`, "destructive", RiskDestructive},
		{`,"annotations":{}`, "destructive, open world", RiskOpenWorld},
		{`,"annotations":{"destructiveHint":true,"openWorldHint":true}`, "destructive, open world", RiskOpenWorld},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			r := RiskOf(json.RawMessage(`{"name":"t"` + tt.annotations + `}`))
			if r.String() != tt.label {
				t.Errorf("label %q, want %q", r, tt.label)
			}
			for max := RiskReadOnly; max <= RiskUnannotated; max++ {
				if got, want := r.Exceeds(max), max < tt.within; got != want {
					t.Errorf("Exceeds(%s) = %v, want %v", max, got, want)
				}
			}
		})
	}
}

func TestRiskChangeOpenWorld(t *testing.T) {
	closed := srv{tools: []string{`{"name":"rm","annotations":{"openWorldHint":false}}`}}
	open := srv{tools: []string{`{"name":"rm","annotations":{"openWorldHint":true}}`}}
	cs := Diff(closed.build(t), open.build(t), Policy{})
	var found bool
	for _, c := range cs {
		if c.Kind == KindToolRisk {
			found = true
			if c.Summary != "tool `rm` moves from destructive to destructive, open world (riskier)" || c.Severity != severity.High {
				t.Errorf("%s %q", c.Severity, c.Summary)
			}
		}
	}
	if !found {
		t.Fatalf("no %s change: %+v", KindToolRisk, cs)
	}
}
