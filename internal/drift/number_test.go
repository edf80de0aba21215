package drift

import (
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// TestDiffNumbersOutOfRange: a bound moved outside the float64 range is
// compared by value like any other.
func TestDiffNumbersOutOfRange(t *testing.T) {
	tool := func(n string) srv {
		return srv{tools: []string{`{"name":"t","inputSchema":{"type":"object","properties":{"p":{"type":"string","maxLength":` + n + `,"minimum":-` + n + `}}}}`}}
	}
	tests := []struct {
		a, b string
		want []want
	}{
		{"100", "1e400", []want{{"tool.input_schema", "t", "*", severity.High, "relaxes maxLength of `p` from 100 to 1e+400"}}},
		{"1e400", "1e401", []want{{"tool.input_schema", "t", "*", severity.High, "relaxes maxLength of `p` from 1e+400 to 1e+401"}}},
		{"1e401", "1e400", []want{{"tool.input_schema", "t", "*", severity.Medium, "tightens maxLength of `p` from 1e+401 to 1e+400"}}},
		{"1e400", "10e399", nil},
	}
	for _, tt := range tests {
		t.Run(tt.a+" to "+tt.b, func(t *testing.T) {
			checkChanges(t, Diff(tool(tt.a).build(t), tool(tt.b).build(t), Policy{}), tt.want)
		})
	}
}
