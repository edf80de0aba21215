package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/report/upgradetest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

func upgradeReport(t *testing.T) *report.Report {
	t.Helper()
	s, err := upgradetest.Upgrade()
	if err != nil {
		t.Fatal(err)
	}
	return &report.Report{Servers: []report.Server{s}}
}

// rugPullLine is how each rendering names the rug pull on the line that
// introduces a change.
var rugPullLine = map[string]string{
	"text":     "[CRITICAL] tool echo  tool `echo`: changes description",
	"summary":  "[CRITICAL] tool echo  tool `echo`: changes description",
	"markdown": "- **critical** `tool.description` echo: tool \\`echo\\`: changes description",
}

// changeLines are the lines of a rendering that introduce a change.
func changeLines(format, out string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		switch format {
		case "markdown":
			if strings.HasPrefix(l, "- **") {
				got = append(got, l)
			}
		default:
			if strings.HasPrefix(t, "[") && (strings.HasPrefix(l, "  [") || strings.HasPrefix(l, "    [")) {
				got = append(got, t)
			}
		}
	}
	return got
}

func TestUpgradeGolden(t *testing.T) {
	rep := upgradeReport(t)
	for _, tt := range []struct {
		name, format, file string
		o                  report.Options
	}{
		{"text", "text", "upgrade.txt", report.Options{Now: at}},
		{"full", "text", "upgrade-full.txt", report.Options{Now: at, Full: true}},
		{"summary", "text", "upgrade-summary.txt", report.Options{Now: at, Summary: true}},
		{"markdown", "markdown", "upgrade.md", report.Options{}},
		{"json", "json", "upgrade.json", report.Options{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Render(&b, rep, tt.format, tt.o); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			checkGolden(t, tt.file, b.Bytes())
			if tt.format == "json" {
				var got report.Report
				if err := json.Unmarshal(b.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if c := got.Servers[0].Changes[0]; c.Name != upgradetest.RugPullName || c.Kind != "tool.description" {
					t.Errorf("first JSON change is %s %s, want the rug pull", c.Kind, c.Name)
				}
				return
			}
			key := tt.name
			if key == "full" {
				key = "text"
			}
			lines := changeLines(tt.format, out)
			if len(lines) == 0 || !strings.HasPrefix(lines[0], rugPullLine[key]) {
				first := ""
				if len(lines) > 0 {
					first = lines[0]
				}
				t.Errorf("first change shown is\n%q\nwant the rug pull\n%q", first, rugPullLine[key])
			}
			switch tt.name {
			case "summary":
				if n := strings.Count(out, "\n"); n > 40 {
					t.Errorf("summary of a 148-change upgrade is %d lines, want at most 40", n)
				}
				if !strings.Contains(out, "100 resources removed: test://static/resource/{1..100}") {
					t.Error("the 100 removed resources are not folded into one line")
				}
			case "markdown":
				if n := utf8.RuneCountInString(out); n >= report.MarkdownLimit {
					t.Errorf("markdown is %d characters, want under %d", n, report.MarkdownLimit)
				}
			case "text":
				if strings.Contains(out, `"uri": "test://static/resource/1"`) {
					t.Error("a removed resource's whole definition is shown without --full")
				}
			case "full":
				if !strings.Contains(out, `"uri": "test://static/resource/1"`) {
					t.Error("--full does not show a removed resource's definition")
				}
			}
		})
	}
}

func TestMarkdownFitsAPullRequestComment(t *testing.T) {
	for _, n := range []int{10, 300, 2000} {
		s := upgradetest.Synthetic(n)
		var b bytes.Buffer
		if err := report.Render(&b, &report.Report{Servers: []report.Server{s}}, "markdown", report.Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if got := utf8.RuneCountInString(out); got >= report.MarkdownLimit {
			t.Errorf("%d changes: markdown is %d characters, want under %d", n, got, report.MarkdownLimit)
		}
		if lines := changeLines("markdown", out); len(lines) == 0 || !strings.HasPrefix(lines[0], rugPullLine["markdown"]) {
			t.Errorf("%d changes: the rug pull is not the first change", n)
		}
		shown := len(changeLines("markdown", out))
		switch {
		case n == 10 && (shown != n+1 || strings.Contains(out, "<details>")):
			t.Errorf("10 changes: %d shown, details %v; want all in full", shown, strings.Contains(out, "<details>"))
		case n == 2000 && !strings.Contains(out, "more not shown: run `mcpdrift diff huge`"):
			t.Error("2000 changes: no pointer to mcpdrift diff for the changes left out")
		case n == 300 && (!strings.Contains(out, "<details>") || shown != n+1):
			t.Errorf("300 changes: %d shown, want every one (the rest folded in <details>)", shown)
		}
	}
}

func TestSortByRisk(t *testing.T) {
	finding := []report.Finding{{Rule: "url", Severity: severity.Low}}
	cs := []report.Change{
		{Kind: "tool.removed", Entity: "tool", Name: "a", Severity: severity.Low},
		{Kind: "resource.removed", Entity: "resource", Name: "r", Severity: severity.Low},
		{Kind: "tool.added", Entity: "tool", Name: "z", Severity: severity.High},
		{Kind: "tool.added", Entity: "tool", Name: "b", Severity: severity.High},
		{Kind: "tool.risk", Entity: "tool", Name: "q", Severity: severity.Info},
		{Kind: "server.info", Entity: "server", Severity: severity.Low},
		{Kind: "tool.title", Entity: "tool", Name: "t", Severity: severity.Low},
		{Kind: "tool.description", Entity: "tool", Name: "d", Severity: severity.High},
		{Kind: "server.instructions", Entity: "server", Severity: severity.High, Before: "old"},
		{Kind: "tool.input_schema", Entity: "tool", Name: "w", Severity: severity.Medium},
		{Kind: "tool.input_schema", Entity: "tool", Name: "s", Severity: severity.High},
		{Kind: "tool.risk", Entity: "tool", Name: "r", Severity: severity.High},
		{Kind: "server.instructions", Entity: "server", Severity: severity.High},
		{Kind: "tool.added", Entity: "tool", Name: "y", Severity: severity.Low, Findings: finding},
		{Kind: "tool.removed", Entity: "tool", Name: "c", Severity: severity.Critical},
	}
	report.SortByRisk(cs)
	var got []string
	for _, c := range cs {
		got = append(got, c.Kind+" "+c.Name)
	}
	want := []string{
		// escalations: critical first, then by severity, entity, name
		"tool.removed c", "server.instructions ", "tool.risk r", "tool.input_schema s", "tool.added y",
		// text edits
		"server.instructions ", "tool.description d",
		// additions
		"tool.added b", "tool.added z",
		// the rest
		"tool.input_schema w", "server.info ", "tool.title t",
		// removals and info
		"tool.removed a", "resource.removed r", "tool.risk q",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFoldNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []string
		max  int
		want string
	}{
		{"consecutive", []string{"r/1", "r/2", "r/3", "r/4"}, 100, "r/{1..4}"},
		{"scattered", []string{"r/9", "r/1", "r/4", "r/5", "r/6"}, 100, "r/{1,4..6,9}"},
		{"two are not folded", []string{"r/1", "r/2", "x"}, 100, "r/1, r/2, x"},
		{"another prefix stays apart", []string{"a/1", "a/2", "a/3", "b/1"}, 100, "a/{1..3}, b/1"},
		{"suffix kept", []string{"f1.txt", "f2.txt", "f3.txt"}, 100, "f{1..3}.txt"},
		{"leading zeros not folded", []string{"t01", "t02", "t03"}, 100, "t01, t02, t03"},
		{"no numbers", []string{"add", "echo"}, 100, "add, echo"},
		{"cut", []string{"alpha", "beta", "gamma", "delta"}, 12, "alpha, beta, … (+2)"},
		{"cut counts folded", []string{"x", "r/1", "r/2", "r/3"}, 3, "x, … (+3)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := report.FoldNames(tt.in, tt.max); got != tt.want {
				t.Errorf("FoldNames(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
