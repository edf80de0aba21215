package lint

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// corpusEntry is one labelled tool of the corpus under testdata. Source
// names where it comes from: a public repository, commit and path, a
// published server's package, or "written for mcpdrift" with what it
// varies.
type corpusEntry struct {
	ID     string          `json:"id"`
	Source string          `json:"source"`
	Tool   json.RawMessage `json:"tool"`
	// Expect lists rules that must fire on a malicious tool.
	Expect []string `json:"expect,omitempty"`
	// file is the corpus file the entry came from (its source set).
	file string
}

// The corpus classes, one directory each under testdata.
const (
	// classMalicious holds poisoned tools: public attack collections and
	// benchmarks, and variants written for mcpdrift.
	classMalicious = "malicious"
	// classBenign holds the tools of real published servers.
	classBenign = "benign"
	// classLookalike holds benign tools made to resemble malicious ones:
	// the same names and first lines, attacks that live in code rather
	// than in metadata, and the words of a rule in harmless use.
	classLookalike = "lookalike"
	// classSubtle holds covert advertising (MPMA's stealth-optimised
	// descriptions): measured and reported, not held to the recall bar,
	// because it carries no instruction and no claim an honest
	// description could not make (see docs/lint.md).
	classSubtle = "subtle"
)

// Corpus quality bars: TestCorpus fails below them.
const (
	minRecall        = 0.95
	maxBenignFPRate  = 0.02
	maxLookalikeRate = 0.05
	minRealServers   = 10
)

// corpusOthers are the tools of the other servers the corpus is linted
// next to: the targets of the published shadowing attacks (mail, WhatsApp,
// GitHub, a shell, Slack, a bank).
var corpusOthers = []ToolRef{
	{"mail", "send_email"}, {"mail", "read_emails"},
	{"whatsapp", "send_message"}, {"whatsapp", "list_chats"}, {"whatsapp", "list_messages"},
	{"github", "create_issue"}, {"github", "create_pull_request"}, {"github", "get_file_contents"},
	{"shell", "run_command"}, {"shell", "execute_command"},
	{"slack", "slack_post_message"},
	{"bank", "transfer_funds"},
}

func loadCorpus(t testing.TB, dir string) []corpusEntry {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in testdata/%s: %v", dir, err)
	}
	sort.Strings(files)
	var all []corpusEntry
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var es []corpusEntry
		if err := json.Unmarshal(b, &es); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range es {
			if e.ID == "" || e.Source == "" || len(e.Tool) == 0 {
				t.Fatalf("%s: entry %q lacks id, source or tool", f, e.ID)
			}
			if seen[e.ID] {
				t.Fatalf("%s: duplicate id %q", f, e.ID)
			}
			seen[e.ID] = true
			e.file = dir + "/" + filepath.Base(f)
			all = append(all, e)
		}
	}
	return all
}

// buildManifest makes a one-server manifest of raw tools.
func buildManifest(t testing.TB, tools []json.RawMessage) *manifest.Manifest {
	t.Helper()
	page, err := json.Marshal(map[string]any{"tools": tools})
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Build(manifest.Capture{
		Init:  json.RawMessage(`{"serverInfo":{"name":"corpus","version":"1"}}`),
		Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {page}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func toolName(t testing.TB, raw json.RawMessage) string {
	var v struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v.Name
}

// toolResult is what lint found on one corpus tool.
type toolResult struct {
	entry corpusEntry
	class string
	// worst is the highest severity of its findings; rules the severity
	// of each rule that fired.
	worst severity.Level
	rules map[string]severity.Level
	fs    []report.Finding
}

// flagged reports a finding of medium or above: the level at which a
// finding raises a change's severity and alerts by default.
func (r *toolResult) flagged() bool { return r.worst >= severity.Medium }

// missing returns the expected rules that did not fire.
func (r *toolResult) missing() []string {
	var out []string
	for _, want := range r.entry.Expect {
		if _, ok := r.rules[want]; !ok {
			out = append(out, want)
		}
	}
	return out
}

// recalled reports a malicious tool found: flagged, with every expected
// rule.
func (r *toolResult) recalled() bool { return r.flagged() && len(r.missing()) == 0 }

// lintCorpus lints every corpus tool. Malicious and subtle tools are
// linted alone, as a new server next to corpusOthers; benign and
// look-alike tools are linted one manifest per server (the id prefix
// before "/"), so that a server's tools may name each other.
func lintCorpus(t testing.TB) []toolResult {
	t.Helper()
	var out []toolResult
	for _, class := range []string{classMalicious, classSubtle} {
		for _, e := range loadCorpus(t, class) {
			fs := Manifest(buildManifest(t, []json.RawMessage{e.Tool}), Context{Server: "under-test", OtherTools: corpusOthers})
			out = append(out, summarize(e, class, fs))
		}
	}
	for _, class := range []string{classBenign, classLookalike} {
		servers := map[string][]corpusEntry{}
		for _, e := range loadCorpus(t, class) {
			srv, _, _ := strings.Cut(e.ID, "/")
			servers[srv] = append(servers[srv], e)
		}
		for _, srv := range sortedKeys(servers) {
			es := servers[srv]
			raws := make([]json.RawMessage, len(es))
			byName := map[string]int{}
			for i, e := range es {
				raws[i] = e.Tool
				byName[toolName(t, e.Tool)] = i
			}
			per := make([][]report.Finding, len(es))
			for _, f := range Manifest(buildManifest(t, raws), Context{Server: srv, OtherTools: corpusOthers}) {
				i, ok := byName[f.Name]
				if !ok {
					continue // a server-level finding
				}
				per[i] = append(per[i], f)
			}
			for i, e := range es {
				out = append(out, summarize(e, class, per[i]))
			}
		}
	}
	return out
}

func summarize(e corpusEntry, class string, fs []report.Finding) toolResult {
	r := toolResult{entry: e, class: class, rules: map[string]severity.Level{}, fs: fs}
	for _, f := range fs {
		r.worst = severity.Max(r.worst, f.Severity)
		r.rules[f.Rule] = severity.Max(r.rules[f.Rule], f.Severity)
	}
	return r
}

// rate is a count out of a total.
type rate struct{ n, of int }

func (r rate) frac() float64 {
	if r.of == 0 {
		return 0
	}
	return float64(r.n) / float64(r.of)
}

func (r rate) String() string {
	if r.of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", r.n, r.of, 100*r.frac())
}

// TestCorpus measures the rules on the labelled corpus: recall on
// malicious tools overall, per source and per rule; false positives on
// real servers' tools and on look-alikes; detection of covert advertising.
// It fails below the quality bars. Run with -v to see the tables.
func TestCorpus(t *testing.T) {
	results := lintCorpus(t)
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
	}

	recall, high := map[string]*rate{}, rate{}
	var total, benignFP, lookFP, subtle rate
	perRuleWant := map[string]*rate{}
	servers := map[string]bool{}
	var misses, trips []string
	for i := range results {
		r := &results[i]
		switch r.class {
		case classMalicious:
			if len(r.entry.Expect) == 0 && strings.Contains(r.entry.Source, "written for mcpdrift") {
				t.Errorf("malicious %s: a variant written for mcpdrift must say which rules it expects", r.entry.ID)
			}
			src := recall[r.entry.file]
			if src == nil {
				src = &rate{}
				recall[r.entry.file] = src
			}
			src.of++
			total.of++
			high.of++
			if r.worst >= severity.High {
				high.n++
			}
			for _, want := range r.entry.Expect {
				if !known[want] {
					t.Errorf("malicious %s: unknown rule %q", r.entry.ID, want)
				}
				if perRuleWant[want] == nil {
					perRuleWant[want] = &rate{}
				}
				perRuleWant[want].of++
				if _, ok := r.rules[want]; ok {
					perRuleWant[want].n++
				}
			}
			if r.recalled() {
				src.n++
				total.n++
			} else {
				misses = append(misses, fmt.Sprintf("%s (top %s) missing %v; got %s", r.entry.ID, r.worst, r.missing(), ruleList(r.fs)))
			}
		case classSubtle:
			subtle.of++
			if r.flagged() {
				subtle.n++
			}
		case classBenign, classLookalike:
			if r.class == classBenign {
				servers[serverOf(r.entry.ID)] = true
				benignFP.of++
			} else {
				lookFP.of++
			}
			if r.flagged() {
				if r.class == classBenign {
					benignFP.n++
				} else {
					lookFP.n++
				}
			}
			for _, f := range r.fs {
				trips = append(trips, fmt.Sprintf("%-9s %-8s %-22s %s %s: %s", r.class, f.Severity, f.Rule, r.entry.ID, f.Path, f.Evidence))
			}
		}
	}

	t.Logf("malicious: %s recalled (flagged medium or above with every expected rule); %s high or above (refused trust on first use)", total, high)
	t.Logf("real servers: %s tools flagged medium or above, %d servers", benignFP, len(servers))
	t.Logf("look-alikes: %s tools flagged medium or above", lookFP)
	t.Logf("covert advertising (not held to the bar): %s flagged", subtle)
	t.Logf("recall per source:")
	for _, f := range sortedKeys(recall) {
		t.Logf("  %-52s %s", f, recall[f])
	}
	// Per rule: recall on the tools that expect it, false positives (real
	// and look-alike tools it flags at medium or above) and precision.
	fpRule := map[string]int{}
	for _, r := range results {
		if r.class == classBenign || r.class == classLookalike {
			for rule, level := range r.rules {
				if level >= severity.Medium {
					fpRule[rule]++
				}
			}
		}
	}
	t.Logf("%-24s %-18s %-14s %s", "rule", "expected fired", "benign ≥medium", "precision (malicious/all tools it fired on)")
	table := precisionTable(results)
	for _, r := range Rules() {
		want := "-"
		if w := perRuleWant[r.ID]; w != nil {
			want = w.String()
		}
		t.Logf("%-24s %-18s %-14d %s", r.ID, want, fpRule[r.ID], table[r.ID])
	}
	for _, m := range misses {
		t.Logf("missed: %s", m)
	}
	for _, tr := range trips {
		t.Logf("benign trip: %s", tr)
	}

	if total.frac() < minRecall {
		t.Errorf("recall %s is under %.0f%%", total, 100*minRecall)
	}
	if benignFP.frac() > maxBenignFPRate {
		t.Errorf("false positives on real servers' tools %s are over %.0f%%", benignFP, 100*maxBenignFPRate)
	}
	if lookFP.frac() > maxLookalikeRate {
		t.Errorf("false positives on look-alikes %s are over %.0f%%", lookFP, 100*maxLookalikeRate)
	}
	if len(servers) < minRealServers {
		t.Errorf("the benign corpus covers %d real servers, want %d+", len(servers), minRealServers)
	}
}

// ruleCount is how often one rule fired on the corpus, counted in tools.
type ruleCount struct {
	// Malicious counts malicious tools it fired on, Benign real-server and
	// look-alike tools; both at any severity.
	Malicious, Benign int
}

// String renders the precision and its counts.
func (c ruleCount) String() string {
	if c.Malicious+c.Benign == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%% (%d/%d)", 100*float64(c.Malicious)/float64(c.Malicious+c.Benign), c.Malicious, c.Malicious+c.Benign)
}

// precisionTable counts, per rule, the malicious and benign tools it
// fired on. Covert advertising is left out: it is neither a target nor a
// false positive.
func precisionTable(results []toolResult) map[string]ruleCount {
	out := map[string]ruleCount{}
	for _, r := range results {
		for rule := range r.rules {
			c := out[rule]
			switch r.class {
			case classMalicious:
				c.Malicious++
			case classBenign, classLookalike:
				c.Benign++
			default:
				continue
			}
			out[rule] = c
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func ruleList(fs []report.Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Rule+"/"+f.Severity.String())
	}
	return "[" + strings.Join(parts, " ") + "]"
}
