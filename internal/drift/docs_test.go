package drift_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/divergence"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// docRow matches a row of a kind table in docs/changes.md:
// | `kind` | entity | default | note |
var docRow = regexp.MustCompile("(?m)^\\| `([a-z_]+\\.[a-z_]+)` \\| [^|]+ \\| ([a-z]+) \\|")

// TestChangeKindsDocumented keeps docs/changes.md, the users' list of
// change kinds, equal to what the code emits: every kind with its default
// severity, and no kind the code does not know.
func TestChangeKindsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/changes.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, m := range docRow.FindAllStringSubmatch(string(b), -1) {
		if _, dup := documented[m[1]]; dup {
			t.Errorf("docs/changes.md lists %s twice", m[1])
		}
		documented[m[1]] = m[2]
	}
	want := map[string]string{divergence.Kind: severity.High.String()}
	for _, k := range drift.Kinds() {
		l, ok := drift.DefaultSeverity(k)
		if !ok {
			t.Fatalf("Kinds lists %s but DefaultSeverity does not know it", k)
		}
		want[k] = l.String()
	}
	for k, l := range want {
		got, ok := documented[k]
		switch {
		case !ok:
			t.Errorf("change kind %s (default %s) is missing from docs/changes.md", k, l)
		case got != l:
			t.Errorf("docs/changes.md gives %s the default %s; the code says %s", k, got, l)
		}
	}
	for k := range documented {
		if _, ok := want[k]; !ok {
			t.Errorf("docs/changes.md lists %s, which the code never emits", k)
		}
	}
}
