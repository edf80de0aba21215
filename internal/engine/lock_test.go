package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// The checks against a lockfile (check --lock): the pipeline with the
// lockfile's manifests as baselines and no store.

var lockAt = time.Date(2026, 11, 23, 9, 0, 0, 123456789, time.UTC)

const lockInit = `{"protocolVersion":"2025-11-25","serverInfo":{"name":"gh","version":"1.2.0"},"capabilities":{"tools":{}},"instructions":"GitHub tools."}`

func lockBuild(t *testing.T, tools ...string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Build(manifest.Capture{
		Init:  json.RawMessage(lockInit),
		Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {json.RawMessage(`{"tools":[` + strings.Join(tools, ",") + `]}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Tools with hostile text: markup, an invisible character, a number
// written as 1.0.
var (
	toolSearch = `{"name":"search","description":"Search issues. <IMPORTANT>hi</IMPORTANT>\u200b","inputSchema":{"type":"object","required":["q","repo"],"properties":{"q":{"type":"string","maxLength":1.0}}}}`
	toolCreate = `{"name":"create_issue","description":"Create an issue.","inputSchema":{"type":"object"}}`
)

func lockSample(t *testing.T) []byte {
	t.Helper()
	gh, err := lockfile.FromBaseline("github", report.Approval{
		Server: "github", At: lockAt, Approver: "alice", Comment: "reviewed in PR #7", Method: "cli",
		SnapshotID: "sha256:" + strings.Repeat("a", 64),
	}, lockBuild(t, toolSearch, toolCreate).Document())
	if err != nil {
		t.Fatal(err)
	}
	files, err := lockfile.FromBaseline("files", report.Approval{Server: "files", At: lockAt, Approver: "trust-on-first-use", Method: "trust-on-first-use"},
		lockBuild(t, toolCreate).Document())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := lockfile.Encode(&b, &lockfile.File{Mcpdrift: "v9.9.9", Servers: []lockfile.Server{files, gh}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func lockDecode(t *testing.T, b []byte) *lockfile.File {
	t.Helper()
	f, err := lockfile.Decode(b)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	return f
}

// lockEngine is the engine check --lock runs: no store.
func lockEngine(probeFn engine.ProbeFunc, concurrency int) *engine.Engine {
	eng := engine.New(nil, slog.New(slog.DiscardHandler))
	eng.Probe, eng.Limit = probeFn, engine.NewLimiter(concurrency)
	return eng
}

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
		return &probe.Result{StartedAt: lockAt, Capture: manifest.Capture{
			Init:  json.RawMessage(lockInit),
			Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {json.RawMessage(`{"tools":[` + strings.Join(tools, ",") + `]}`)}},
		}}, nil
	}
}

func lockServers(t *testing.T, names ...string) []*config.Server {
	t.Helper()
	y := "servers:\n"
	for _, n := range names {
		y += "  - {name: " + n + ", url: http://127.0.0.1:1/mcp}\n"
	}
	return parse(t, y)
}

func TestCheckAgainstLockfile(t *testing.T) {
	out := lockSample(t)
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
			f := lockDecode(t, []byte(tt.lock))
			res := lockEngine(fakeProbe(tt.live), 2).Check(context.Background(), lockServers(t, tt.server, "bystander"), engine.Options{Lock: engine.LockBaselines(f)}).Servers
			if len(res) != 2 || res[1].Server != "bystander" || res[1].Status != report.StatusError {
				t.Fatalf("results out of order or bystander not an error: %+v", res)
			}
			rs := res[0]
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
				if rs.Snapshot != nil || rs.Error == "" {
					t.Errorf("error result: %+v", rs)
				}
				return
			}
			if want := lockBuild(t, tt.live[tt.server]...).ID(); rs.Snapshot == nil || rs.Snapshot.ID != want {
				t.Errorf("snapshot %+v, want the live manifest %s", rs.Snapshot, want)
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
	f := lockDecode(t, lockSample(t))
	cfg, err := config.Parse("t.yaml", []byte("servers:\n  - {name: github, url: http://127.0.0.1:1/mcp, severity: {tool.description: low}}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(toolCreate, "Create an issue.", "Create an issue and email it.", 1)
	eng := lockEngine(fakeProbe(map[string][]string{"github": {changed, toolSearch}}), 1)
	rs := eng.Check(context.Background(), []*config.Server{&cfg.Servers[0]}, engine.Options{Lock: engine.LockBaselines(f)}).Servers[0]
	if len(rs.Changes) != 1 || rs.Changes[0].Severity.String() != "low" {
		t.Fatalf("per-server severity override not applied: %+v", rs.Changes)
	}
}
