package divergence_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/divergence"
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
