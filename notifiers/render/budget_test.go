package render

import (
	"fmt"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/notifytest"
)

func TestFit(t *testing.T) {
	costs := []int{5, 5, 20, 1}
	tests := []struct {
		name   string
		budget int
		want   int
	}{
		{"all fit", 31, 4},
		{"stops at the first that does not fit", 29, 2},
		{"a later small item is not squeezed in", 12, 2},
		{"none", 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Fit(len(costs), tt.budget, func(i int) int { return costs[i] }); got != tt.want {
				t.Errorf("Fit(budget %d) = %d, want %d", tt.budget, got, tt.want)
			}
		})
	}
}

func TestMoreChanges(t *testing.T) {
	if got := MoreChanges(3, "github"); got != "3 more changes: run mcpdrift diff github to see them all" {
		t.Errorf("MoreChanges = %q", got)
	}
	if got := MoreChanges(1, "my server"); got != "1 more change: run mcpdrift diff 'my server' to see them all" {
		t.Errorf("MoreChanges = %q", got)
	}
}

func TestHeadline(t *testing.T) {
	unreachableResolved := notifytest.Unreachable()
	unreachableResolved.Kind, unreachableResolved.Resolves = notifiers.KindResolved, notifiers.KindUnreachable
	tests := []struct {
		name  string
		alert *notifiers.Alert
		want  string
	}{
		{"drift", notifytest.RichDrift(), "🚨 mcpdrift: drift on github — critical, 4 changes"},
		{"reminder", notifytest.Reminder(2), "🚨 mcpdrift: drift on github — critical, 4 changes (reminder 2)"},
		{"resolved", notifytest.Resolved(), "✅ mcpdrift: drift on github resolved"},
		{"recovered", unreachableResolved, "✅ mcpdrift: files is reachable again"},
		{"unreachable", notifytest.Unreachable(), "📡 mcpdrift: files is unreachable"},
		{"test", notifytest.Test(), "🧪 " + TestMessage},
		{"hostile server", notifytest.InjectionAlert(notifiers.KindDrift), "🚨 mcpdrift: drift on evil‹!channel›<U+200B>@here hxxps://evil.example — critical, 2 changes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Headline(tt.alert); got != tt.want {
				t.Errorf("Headline = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestBySeverityDilution is issue 16's dilution attack: 43 routine tool
// additions before one high description change. Cut anywhere, a message
// shows the description change first, and never cuts a change of the top
// severity while it shows a lower one.
func TestBySeverityDilution(t *testing.T) {
	var cs []report.Change
	for i := range 43 {
		cs = append(cs, report.Change{Kind: "tool.added", Entity: "tool", Name: fmt.Sprintf("filler_%02d", i), Severity: severity.High})
	}
	cs = append(cs,
		report.Change{Kind: "tool.removed", Entity: "tool", Name: "aaa", Severity: severity.Low},
		report.Change{Kind: "tool.description", Entity: "tool", Name: "read_file", Path: "description", Severity: severity.High},
		report.Change{Kind: "tool.title", Entity: "tool", Name: "zzz", Severity: severity.Medium},
	)
	got := BySeverity(cs)
	if got[0].Name != "read_file" {
		t.Fatalf("first change is %s %s, want the read_file description change", got[0].Kind, got[0].Name)
	}
	for shown := 1; shown <= len(got); shown++ {
		top := severity.Critical
		for _, c := range got[:shown] {
			top = min(top, c.Severity)
		}
		for _, c := range got[shown:] {
			if c.Severity > top {
				t.Fatalf("cut after %d: %s %s (%s) left out while a %s change is shown", shown, c.Kind, c.Name, c.Severity, top)
			}
		}
	}
	if len(cs) != len(got) || cs[0].Name != "filler_00" {
		t.Error("BySeverity changed its input")
	}
}

func TestUpgradeOrder(t *testing.T) {
	a := notifytest.Upgrade(t)
	got := BySeverity(a.Report.Changes)
	if got[0].Name != "echo" || got[0].Kind != "tool.description" {
		t.Errorf("first change of the real upgrade is %s %s, want the rug pull", got[0].Kind, got[0].Name)
	}
}
