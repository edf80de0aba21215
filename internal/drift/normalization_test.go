package drift

import (
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// TestDiffNormalizationShown: text that changes only its Unicode
// normalization is a change, and its summary and diff show the code
// points, not two identical-looking strings.
func TestDiffNormalizationShown(t *testing.T) {
	tool := func(desc string) srv {
		return srv{tools: []string{`{"name":"t","description":"` + desc + `","inputSchema":{"type":"object","properties":{"p":{"type":"string","description":"` + desc + `"}}}}`}}
	}
	tests := []struct {
		name, a, b string
		summary    string
	}{
		{"NFC to NFD", "Read the caf\u00e9 menu", "Read the cafe\u0301 menu", `from "… the caf<U+00E9> menu" (NFC) to "… the cafe<U+0301> menu" (NFD)`},
		{"NFD to NFC", "cafe\u0301", "caf\u00e9", `from "cafe<U+0301>" (NFD) to "caf<U+00E9>" (NFC)`},
		{"compatibility form", "\ufb01le", "file", `from "<U+FB01>le" (NFC and NFD) to "file"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Diff(tool(tt.a).build(t), tool(tt.b).build(t), Policy{})
			if len(got) != 2 {
				t.Fatalf("want the description and the input schema change, got %+v", got)
			}
			for _, c := range got {
				if c.Severity < severity.High {
					t.Errorf("%s: severity %s, want high (text the model reads)", c.Kind, c.Severity)
				}
				if !strings.Contains(c.Summary, "Unicode normalization") || !strings.Contains(c.Summary, tt.summary) {
					t.Errorf("%s summary %q does not show %q", c.Kind, c.Summary, tt.summary)
				}
				if !strings.Contains(c.Diff, "<U+") {
					t.Errorf("%s diff %q does not show the code points", c.Kind, c.Diff)
				}
			}
		})
	}
}
