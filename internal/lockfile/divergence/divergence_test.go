package divergence_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/lockfile/divergence"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec    string
		want    probe.ClientIdentity
		named   bool
		errHas  string
		resolve probe.ClientIdentity
	}{
		{spec: "claude-code/1.0", want: probe.ClientIdentity{Name: "claude-code", Version: "1.0", Capabilities: []string{}}},
		{spec: "claude-code/1.0+roots+sampling", want: probe.ClientIdentity{Name: "claude-code", Version: "1.0", Capabilities: []string{"roots", "sampling"}}},
		{spec: "Visual Studio Code/1.99+roots,elicitation", want: probe.ClientIdentity{Name: "Visual Studio Code", Version: "1.99", Capabilities: []string{"roots", "elicitation"}}},
		{spec: "bare", named: true, resolve: probe.ClientIdentity{Name: "mcpdrift", Version: "1.0.0", Capabilities: []string{}}},
		{spec: "full", named: true, resolve: probe.ClientIdentity{Name: "mcpdrift", Version: "1.0.0", Capabilities: []string{"roots", "sampling", "elicitation"}}},
		{spec: "claude-code", errHas: "want NAME/VERSION"},
		{spec: "/1.0", errHas: "both non-empty"},
		{spec: "x/", errHas: "both non-empty"},
		{spec: "x/1/2", errHas: "both non-empty"},
		{spec: "x/1+tools", errHas: `unknown capability "tools"`},
		{spec: "x/1+roots+roots", errHas: "listed twice"},
		{spec: "x/1+", errHas: "without a capability"},
		{spec: "x\u200b/1", errHas: "invisible"},
		{spec: "x\x1b/1", errHas: "control"},
		{spec: strings.Repeat("x", 300) + "/1", errHas: "longer than"},
	}
	configured := probe.ClientIdentity{Name: "mcpdrift", Version: "1.0.0", Capabilities: []string{"roots"}}
	for _, tt := range tests {
		t.Run(tt.spec[:min(len(tt.spec), 40)], func(t *testing.T) {
			id, err := divergence.Parse(tt.spec)
			if tt.errHas != "" {
				if !errors.Is(err, divergence.ErrSpec) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("got %v, want ErrSpec with %q", err, tt.errHas)
				}
				if strings.ContainsAny(err.Error(), "\x1b\u200b") {
					t.Errorf("error carries the raw character: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := id.Resolve(configured)
			want := tt.want
			if tt.named {
				want = tt.resolve
			}
			if got.Name != want.Name || got.Version != want.Version || !slices.Equal(got.Capabilities, want.Capabilities) {
				t.Errorf("resolved %+v, want %+v", got, want)
			}
		})
	}
}

func TestLabel(t *testing.T) {
	if got := divergence.Label(probe.ClientIdentity{Name: "cc", Version: "1", Capabilities: []string{"roots", "sampling"}}); got != "cc/1+roots+sampling" {
		t.Errorf("got %q", got)
	}
}

// twoFaced serves toolsFor(identity) to whoever probes.
func twoFaced(toolsFor func(probe.ClientIdentity) []string, fail map[string]bool) func(context.Context, probe.Target) (*probe.Result, error) {
	return func(_ context.Context, t probe.Target) (*probe.Result, error) {
		if fail[t.Client.Name] {
			return nil, errors.New("connection reset")
		}
		return &probe.Result{StartedAt: time.Now(), Capture: manifest.Capture{
			Init:  json.RawMessage(`{"protocolVersion":"2025-11-25","serverInfo":{"name":"s","version":"1"},"capabilities":{"tools":{}}}`),
			Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {json.RawMessage(`{"tools":[` + strings.Join(toolsFor(t.Client), ",") + `]}`)}},
		}}, nil
	}
}

const (
	search = `{"name":"search","description":"Search.","inputSchema":{"type":"object"}}`
	admin  = `{"name":"admin_export","description":"Export everything.","inputSchema":{"type":"object"}}`
	hinted = `{"name":"search","description":"Search.","inputSchema":{"type":"object"},"annotations":{"readOnlyHint":false}}`
)

// faces: claude-code gets an extra tool; roots gets search spelled with a
// default hint (a meaning-preserving difference); everyone else the plain
// set.
func faces(c probe.ClientIdentity) []string {
	switch {
	case c.Name == "claude-code":
		return []string{search, admin}
	case slices.Contains(c.Capabilities, "roots"):
		return []string{hinted}
	default:
		return []string{search}
	}
}

func server(t *testing.T) *config.Server {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte("servers:\n  - {name: s, url: http://127.0.0.1:1/mcp}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &cfg.Servers[0]
}

func seen(t *testing.T, s *config.Server, probeFn func(context.Context, probe.Target) (*probe.Result, error)) *manifest.Manifest {
	t.Helper()
	res, err := probeFn(context.Background(), probe.Target{Client: probe.ClientIdentity{Name: s.Client.Name, Version: s.Client.Version}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Build(res.Capture)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func parseAll(t *testing.T, specs ...string) []divergence.Identity {
	t.Helper()
	var out []divergence.Identity
	for _, s := range specs {
		id, err := divergence.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func TestDiverge(t *testing.T) {
	s := server(t)
	fn := twoFaced(faces, map[string]bool{"broken": true})
	p := &divergence.Prober{Probe: fn}
	tests := []struct {
		name    string
		specs   []string
		want    []string // kind name severity
		errHas  string
		summary string
	}{
		{"same face", []string{"bare", "other/2"}, nil, "", ""},
		{"configured identity is skipped", []string{"mcpdrift/1.0.0"}, nil, "", ""},
		{"extra tool for claude-code", []string{"claude-code/1.0"}, []string{"client.divergence admin_export high"}, "",
			"claude-code/1.0 sees a different manifest than configured mcpdrift/1.0.0: new tool `admin_export`"},
		{"meaning-preserving difference stays info", []string{"full"}, []string{"client.divergence search info"}, "", "mcpdrift/1.0.0+roots+sampling+elicitation sees"},
		{"an identity that fails", []string{"broken/1", "claude-code/1.0"}, []string{"client.divergence admin_export high"}, "probing as broken/1: connection reset", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, err := p.Diverge(context.Background(), s, seen(t, s, fn), parseAll(t, tt.specs...))
			var got []string
			for _, c := range changes {
				got = append(got, c.Kind+" "+c.Name+" "+c.Severity.String())
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("changes %v, want %v", got, tt.want)
			}
			if tt.summary != "" && (len(changes) == 0 || !strings.HasPrefix(changes[0].Summary, tt.summary)) {
				t.Errorf("summary %q, want prefix %q", changes[0].Summary, tt.summary)
			}
			if (err != nil) != (tt.errHas != "") || err != nil && !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %v, want %q", err, tt.errHas)
			}
		})
	}
}

func TestApply(t *testing.T) {
	div := []report.Change{{Kind: divergence.Kind, Severity: severity.High}}
	info := []report.Change{{Kind: divergence.Kind, Severity: severity.Info}}
	boom := errors.New("probing as x/1: reset")
	tests := []struct {
		name          string
		status        string
		changes       []report.Change
		err           error
		wantStatus    string
		wantErr, note bool
	}{
		{"ok with divergence is drift", report.StatusOK, div, nil, report.StatusDrift, false, false},
		{"ok with info is drift, as for baseline drift", report.StatusOK, info, nil, report.StatusDrift, false, false},
		{"baselined keeps its status", report.StatusBaselined, div, nil, report.StatusBaselined, false, false},
		{"ok with a failed identity is an error", report.StatusOK, nil, boom, report.StatusError, true, false},
		{"divergence wins over a failed identity", report.StatusOK, div, boom, report.StatusDrift, false, true},
		{"drift keeps its status, error in note", report.StatusDrift, nil, boom, report.StatusDrift, false, true},
		{"unapproved keeps its status", report.StatusUnapproved, nil, boom, report.StatusUnapproved, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := report.Server{Server: "s", Status: tt.status, Changes: []report.Change{}}
			divergence.Apply(&rs, tt.changes, tt.err)
			if rs.Status != tt.wantStatus || (rs.Error != "") != tt.wantErr || (rs.Note != "") != tt.note {
				t.Fatalf("got %+v", rs)
			}
			if rs.Severity != rs.MaxSeverity() || len(rs.Changes) != len(tt.changes) {
				t.Errorf("severity %s changes %d", rs.Severity, len(rs.Changes))
			}
		})
	}
}

func TestCheckSkipsErrorsAndSurvivesPanics(t *testing.T) {
	s := server(t)
	fn := twoFaced(faces, nil)
	m := seen(t, s, fn)
	reports := []report.Server{{Server: "s", Status: report.StatusOK}, {Server: "s", Status: report.StatusError}, {Server: "s", Status: report.StatusOK}}
	calls := 0
	p := &divergence.Prober{Probe: func(ctx context.Context, t probe.Target) (*probe.Result, error) {
		calls++
		return fn(ctx, t)
	}}
	targets := []divergence.Target{{Server: s, Seen: m, Report: &reports[0]}, {Server: s, Seen: m, Report: &reports[1]}}
	p.Check(context.Background(), targets, parseAll(t, "claude-code/1"), 1)
	if calls != 1 || reports[0].Status != report.StatusDrift || len(reports[1].Changes) != 0 {
		t.Fatalf("calls %d, reports %+v", calls, reports[:2])
	}
	panicky := &divergence.Prober{Probe: func(context.Context, probe.Target) (*probe.Result, error) { panic("boom") }}
	panicky.Check(context.Background(), []divergence.Target{{Server: s, Seen: m, Report: &reports[2]}}, parseAll(t, "claude-code/1"), 1)
	if reports[2].Status != report.StatusError || !strings.Contains(reports[2].Error, "boom") {
		t.Fatalf("panic: %+v", reports[2])
	}
}
