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
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// corpusEntry is one labelled tool of testdata/{malicious,benign}.
type corpusEntry struct {
	ID     string          `json:"id"`
	Source string          `json:"source"`
	Tool   json.RawMessage `json:"tool"`
	Expect []string        `json:"expect,omitempty"`
}

// Corpus quality bars: the test fails below them.
const (
	minRecall = 0.90
	maxFPRate = 0.03
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

func TestCorpus(t *testing.T) {
	malicious := loadCorpus(t, "malicious")
	benign := loadCorpus(t, "benign")
	if len(malicious) < 60 || len(benign) < 150 {
		t.Fatalf("corpus too small: %d malicious (want 60+), %d benign (want 150+)", len(malicious), len(benign))
	}
	known := map[string]bool{}
	for _, r := range Rules() {
		known[r.ID] = true
	}

	// Malicious: each tool alone, as a new server next to the others.
	type ruleStat struct{ want, got, fp, benignHits int }
	stats := map[string]*ruleStat{}
	stat := func(r string) *ruleStat {
		if stats[r] == nil {
			stats[r] = &ruleStat{}
		}
		return stats[r]
	}
	recalled := 0
	var misses []string
	for _, e := range malicious {
		if len(e.Expect) == 0 {
			t.Errorf("malicious %s: no expected rules", e.ID)
		}
		fs := Manifest(buildManifest(t, []json.RawMessage{e.Tool}), Context{Server: "under-test", OtherTools: corpusOthers})
		fired := map[string]bool{}
		top := severity.None
		for _, f := range fs {
			fired[f.Rule] = true
			top = severity.Max(top, f.Severity)
		}
		ok := top >= severity.Medium
		var missing []string
		for _, r := range e.Expect {
			if !known[r] {
				t.Errorf("malicious %s: unknown rule %q", e.ID, r)
			}
			stat(r).want++
			if fired[r] {
				stat(r).got++
			} else {
				ok = false
				missing = append(missing, r)
			}
		}
		if ok {
			recalled++
		} else {
			misses = append(misses, fmt.Sprintf("%s (top %s) missing %v; got %s", e.ID, top, missing, ruleList(fs)))
		}
	}

	// Benign: one manifest per server (the id prefix), so that a server's
	// tools may name each other.
	servers := map[string][]corpusEntry{}
	for _, e := range benign {
		srv, _, _ := strings.Cut(e.ID, "/")
		servers[srv] = append(servers[srv], e)
	}
	fpTools := 0
	var trips []string
	names := sortedServerNames(servers)
	for _, srv := range names {
		es := servers[srv]
		raws := make([]json.RawMessage, len(es))
		byName := map[string]string{}
		for i, e := range es {
			raws[i] = e.Tool
			byName[toolName(t, e.Tool)] = e.ID
		}
		fs := Manifest(buildManifest(t, raws), Context{Server: srv, OtherTools: corpusOthers})
		worst := map[string]severity.Level{}
		for _, f := range fs {
			id := byName[f.Name]
			worst[id] = severity.Max(worst[id], f.Severity)
			stat(f.Rule).benignHits++
			if f.Severity >= severity.Medium {
				stat(f.Rule).fp++
			}
			trips = append(trips, fmt.Sprintf("%-8s %-20s %s %s: %s", f.Severity, f.Rule, id, f.Path, f.Evidence))
		}
		for _, l := range worst {
			if l >= severity.Medium {
				fpTools++
			}
		}
	}

	recall := float64(recalled) / float64(len(malicious))
	fpRate := float64(fpTools) / float64(len(benign))
	t.Logf("malicious: %d/%d recalled (%.1f%%): every expected rule fired and a finding is medium or above", recalled, len(malicious), 100*recall)
	t.Logf("benign: %d/%d tools with a finding of medium or above (%.1f%% false positives)", fpTools, len(benign), 100*fpRate)
	t.Logf("%-20s %8s %10s %12s", "rule", "recall", "benign≥med", "benign(any)")
	for _, r := range Rules() {
		s := stat(r.ID)
		rec := "-"
		if s.want > 0 {
			rec = fmt.Sprintf("%d/%d", s.got, s.want)
		}
		t.Logf("%-20s %8s %10d %12d", r.ID, rec, s.fp, s.benignHits)
	}
	for _, m := range misses {
		t.Logf("missed: %s", m)
	}
	for _, tr := range trips {
		t.Logf("benign trip: %s", tr)
	}
	if recall < minRecall {
		t.Errorf("recall %.1f%% is under %.0f%%", 100*recall, 100*minRecall)
	}
	if fpRate > maxFPRate {
		t.Errorf("false-positive rate %.1f%% is over %.0f%%", 100*fpRate, 100*maxFPRate)
	}
}

func sortedServerNames(m map[string][]corpusEntry) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func ruleList(fs []Finding) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, f.Rule+"/"+f.Severity.String())
	}
	return "[" + strings.Join(parts, " ") + "]"
}
