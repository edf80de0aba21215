package lockfile_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// fakeProbe answers each server with the tools in live, or an error.
func fakeProbe(live map[string][]string) func(context.Context, probe.Target) (*probe.Result, error) {
	return func(_ context.Context, t probe.Target) (*probe.Result, error) {
		if t.Name == "panics" {
			panic("boom")
		}
		tools, ok := live[t.Name]
		if !ok {
			return nil, errors.New("connection refused")
		}
		return &probe.Result{StartedAt: at, Capture: manifest.Capture{
			Init:  json.RawMessage(initResult),
			Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {json.RawMessage(`{"tools":[` + strings.Join(tools, ",") + `]}`)}},
		}}, nil
	}
}

func servers(t *testing.T, names ...string) []*config.Server {
	t.Helper()
	y := "servers:\n"
	for _, n := range names {
		y += "  - {name: " + n + ", url: http://127.0.0.1:1/mcp}\n"
	}
	cfg, err := config.Parse("t.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*config.Server, len(cfg.Servers))
	for i := range cfg.Servers {
		out[i] = &cfg.Servers[i]
	}
	return out
}

func TestCheckAgainstLockfile(t *testing.T) {
	out := encode(t, sampleFile(t))
	edited := strings.Replace(string(out), "Create an issue.", "Create an issue, quietly.", 1) // files' only tool
	changed := strings.Replace(toolCreate, "Create an issue.", "Create an issue and email it.", 1)
	tests := []struct {
		name     string
		lock     string
		live     map[string][]string
		server   string
		status   string
		changes  []string
		noteHas  string
		baseline bool
	}{
		{"unchanged", string(out), map[string][]string{"github": {toolCreate, toolSearch}}, "github", report.StatusOK, nil, "", true},
		{"description rewritten", string(out), map[string][]string{"github": {changed, toolSearch}}, "github", report.StatusDrift, []string{"tool.description create_issue"}, "", true},
		{"tool added", string(out), map[string][]string{"files": {toolCreate, toolSearch}}, "files", report.StatusDrift, []string{"tool.added search"}, "", true},
		{"not in the lockfile", string(out), map[string][]string{"extra": {toolCreate}}, "extra", report.StatusUnapproved, nil, "not in the lockfile", false},
		{"unreachable", string(out), nil, "github", report.StatusError, nil, "", false},
		{"panic is an error", string(out), nil, "panics", report.StatusError, nil, "", false},
		// The lockfile says "quietly"; the server sends the approved
		// text: compared as written, the edit is the one change.
		{"edited by hand", edited, map[string][]string{"files": {toolCreate}}, "files", report.StatusDrift, []string{"tool.description create_issue"}, "edited by hand", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := decode(t, []byte(tt.lock))
			c := &lockfile.Checker{Probe: fakeProbe(tt.live), Concurrency: 2}
			res := c.Check(context.Background(), f, servers(t, tt.server, "bystander"))
			if len(res) != 2 || res[1].Report.Server != "bystander" || res[1].Report.Status != report.StatusError {
				t.Fatalf("results out of order or bystander not an error: %+v", res)
			}
			rs := res[0].Report
			if rs.Status != tt.status {
				t.Fatalf("status %s, want %s: %+v", rs.Status, tt.status, rs)
			}
			var got []string
			for _, c := range rs.Changes {
				got = append(got, c.Kind+" "+c.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.changes, ",") {
				t.Errorf("changes %v, want %v", got, tt.changes)
			}
			if !strings.Contains(rs.Note, tt.noteHas) {
				t.Errorf("note %q lacks %q", rs.Note, tt.noteHas)
			}
			if (rs.Baseline != nil) != tt.baseline {
				t.Errorf("baseline %+v", rs.Baseline)
			}
			if tt.status == report.StatusError {
				if res[0].Snapshot != nil || rs.Error == "" {
					t.Errorf("error result: %+v", res[0])
				}
				return
			}
			if res[0].Snapshot == nil || rs.Snapshot.ID != res[0].Snapshot.ID() {
				t.Errorf("snapshot not returned: %+v", rs.Snapshot)
			}
			if tt.baseline {
				pinned, _ := f.Server(tt.server)
				if rs.Baseline.ID != pinned.ContentID() || rs.Baseline.ApprovedBy == "" {
					t.Errorf("baseline %+v, want content id %s", rs.Baseline, pinned.ContentID())
				}
			}
		})
	}
}

func TestCheckAppliesServerPolicy(t *testing.T) {
	f := decode(t, encode(t, sampleFile(t)))
	cfg, err := config.Parse("t.yaml", []byte("servers:\n  - {name: github, url: http://127.0.0.1:1/mcp, severity: {tool.description: low}}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(toolCreate, "Create an issue.", "Create an issue and email it.", 1)
	c := &lockfile.Checker{Probe: fakeProbe(map[string][]string{"github": {changed, toolSearch}})}
	rs := c.CheckServer(context.Background(), f, &cfg.Servers[0]).Report
	if len(rs.Changes) != 1 || rs.Changes[0].Severity.String() != "low" {
		t.Fatalf("per-server severity override not applied: %+v", rs.Changes)
	}
}
