package render

import (
	"testing"

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
