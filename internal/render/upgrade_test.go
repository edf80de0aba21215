package render_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/report/upgradetest"
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
		o                  render.Options
	}{
		{"text", "text", "upgrade.txt", render.Options{Now: at}},
		{"full", "text", "upgrade-full.txt", render.Options{Now: at, Full: true}},
		{"summary", "text", "upgrade-summary.txt", render.Options{Now: at, Summary: true}},
		{"markdown", "markdown", "upgrade.md", render.Options{}},
		{"json", "json", "upgrade.json", render.Options{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := render.Report(&b, rep, tt.format, tt.o); err != nil {
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
				if n := utf8.RuneCountInString(out); n >= render.MarkdownLimit {
					t.Errorf("markdown is %d characters, want under %d", n, render.MarkdownLimit)
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
		if err := render.Report(&b, &report.Report{Servers: []report.Server{s}}, "markdown", render.Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if got := utf8.RuneCountInString(out); got >= render.MarkdownLimit {
			t.Errorf("%d changes: markdown is %d characters, want under %d", n, got, render.MarkdownLimit)
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
			if got := render.FoldNames(tt.in, tt.max); got != tt.want {
				t.Errorf("FoldNames(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
