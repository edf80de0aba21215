package lint

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/golden"
)

// The rule table rendered for the docs is a golden file: a change to a
// rule's id, severity or wording shows up in review.
func TestRulesGolden(t *testing.T) {
	got := MarkdownTable(Rules())
	golden.Check(t, filepath.Join("testdata", "rules.md.golden"), []byte(got))
}

// Rule ids are unique, and every rule a finding can carry is documented.
func TestRulesTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule id %q", r.ID)
		}
		seen[r.ID] = true
		if r.Summary == "" || r.Why == "" || r.Severity == 0 {
			t.Errorf("rule %q lacks a summary, a justification or a severity", r.ID)
		}
	}
	for _, p := range phrases {
		if !seen[p.rule] {
			t.Errorf("phrase rule %q is not in the rule table", p.rule)
		}
	}
	// Rules returns a copy: callers cannot change the table.
	rs := Rules()
	rs[0].ID = "changed"
	if Rules()[0].ID == "changed" {
		t.Fatal("Rules exposes the table")
	}
}

// docsPath is the user documentation of the rules.
const docsPath = "../../docs/lint.md"

// The rule table in docs/lint.md is the one the code renders, with the
// measured corpus summary: the docs cannot drift from the rules.
func TestDocsRuleTable(t *testing.T) {
	b, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- rules table:", "<!-- end rules table -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %q ... %q markers", docsPath, begin, end)
	}
	i += strings.Index(doc[i:], "\n") + 1
	want := doc[:i] + CorpusNote() + "\n" + MarkdownTable(Rules()) + doc[j:]
	golden.Check(t, docsPath, []byte(want))
}
