package report_test

import (
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

func TestExitCode(t *testing.T) {
	s := func(status string, sev severity.Level) report.Server {
		rs := report.Server{Status: status}
		if sev > severity.None {
			rs.Changes = []report.Change{{Severity: sev}}
		}
		return rs
	}
	tests := []struct {
		name    string
		servers []report.Server
		failOn  severity.Level
		want    int
	}{
		{"all ok", []report.Server{s("ok", 0), s("baselined", 0)}, severity.Low, 0},
		{"drift at threshold", []report.Server{s("drift", severity.Low)}, severity.Low, 1},
		{"drift below threshold", []report.Server{s("drift", severity.Medium)}, severity.High, 0},
		{"info never fails at low", []report.Server{s("drift", severity.Info)}, severity.Low, 0},
		{"info fails at info", []report.Server{s("drift", severity.Info)}, severity.Info, 1},
		{"unapproved", []report.Server{s("unapproved", 0)}, severity.Critical, 1},
		{"error only", []report.Server{s("ok", 0), s("error", 0)}, severity.Low, 3},
		{"drift wins over error", []report.Server{s("error", 0), s("drift", severity.High)}, severity.Low, 1},
		{"finding counts", []report.Server{{Status: "ok", Findings: []report.Finding{{Severity: severity.High}}}}, severity.High, 1},
		{"suppressed finding does not", []report.Server{{Status: "ok", Findings: []report.Finding{{Severity: severity.High, Suppressed: "ok"}}}}, severity.Low, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := report.Report{Servers: tt.servers}
			if got := r.ExitCode(tt.failOn); got != tt.want {
				t.Errorf("got %d want %d", got, tt.want)
			}
		})
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
