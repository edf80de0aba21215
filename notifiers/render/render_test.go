package render

import (
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/notifytest"
)

func TestDefang(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"https", "see https://evil.example/x", "see hxxps://evil.example/x"},
		{"http upper case", "HTTP://evil.example", "hxxp://evil.example"},
		{"other scheme", "ftp://x and ssh://y", "ftp[:]//x and ssh[:]//y"},
		{"glued scheme", "xhttps://evil", "xhttps[:]//evil"},
		{"bare schemes", "mailto:a@b javascript:alert(1) data:text/html,x", "mailto[:]a@b javascript[:]alert(1) data[:]text/html,x"},
		{"www", "www.evil.example", "www[.]evil.example"},
		{"slack link markup", "<https://evil|click>", "<hxxps://evil|click>"},
		{"plain text untouched", "tool: search issues, v1.2", "tool: search issues, v1.2"},
		{"markers untouched", "a<U+200B>b", "a<U+200B>b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Defang(tt.in)
			if got != tt.want {
				t.Errorf("Defang(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := Defang(got); again != got {
				t.Errorf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestAngles(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"tag", "<IMPORTANT>x</IMPORTANT>", "‹IMPORTANT›x‹/IMPORTANT›"},
		{"slack markup", "<!channel> <@U1>", "‹!channel› ‹@U1›"},
		{"markers kept", "a<U+200B>b<ESC>[0m<0xFF>", "a<U+200B>b<ESC>[0m<0xFF>"},
		{"arrow kept", "true -> false", "true -> false"},
		{"unclosed", "a < b\nc > d", "a ‹ b\nc > d"},
		{"fake marker", "<U+ZZZZ>", "‹U+ZZZZ›"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Angles(tt.in); got != tt.want {
				t.Errorf("Angles(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTextAndLineInert(t *testing.T) {
	for _, f := range []func(string) string{Text, Line} {
		out := f(notifytest.Hostile())
		for _, p := range notifytest.Inert(out, false) {
			t.Error(p)
		}
	}
	if strings.Contains(Line("a\nb\tc"), "\n") {
		t.Error("Line kept a newline")
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		lines int
		bytes int
		want  string
	}{
		{"short", "a\nb\n", 5, 100, "a\nb"},
		{"lines cut", "1\n2\n3\n4", 2, 100, "1\n2\n… (2 more lines)"},
		{"one line more", "1\n2\n3", 2, 100, "1\n2\n… (1 more line)"},
		{"bytes cut", "abcdefgh", 0, 4, "abcd…(4 more bytes)"},
		{"never inside a marker", "ab<U+200B>cd", 0, 5, "ab…(10 more bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Excerpt(tt.in, tt.lines, tt.bytes); got != tt.want {
				t.Errorf("Excerpt = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	a := notifytest.RichDrift()
	if got := ApproveCommand(a); got != "mcpdrift approve github --snapshot "+notifytest.SnapshotID {
		t.Errorf("ApproveCommand = %q", got)
	}
	a.Report.Snapshot = nil
	if got := ApproveCommand(a); got != "" {
		t.Errorf("ApproveCommand without snapshot = %q", got)
	}
	if got := DiffCommand("github"); got != "mcpdrift diff github" {
		t.Errorf("DiffCommand = %q", got)
	}
}

func TestCountsAndOrder(t *testing.T) {
	cs := []report.Change{
		{Name: "a", Severity: severity.Low}, {Name: "b", Severity: severity.Critical},
		{Name: "c", Severity: severity.Low}, {Name: "d", Severity: severity.High},
	}
	if got := report.CountsText(cs, ", "); got != "1 critical, 1 high, 2 low" {
		t.Errorf("CountsText = %q", got)
	}
	var names []string
	for _, c := range BySeverity(cs) {
		names = append(names, c.Name)
	}
	if strings.Join(names, "") != "bdac" {
		t.Errorf("BySeverity order = %v, want b d a c (stable among equals)", names)
	}
	if cs[0].Name != "a" {
		t.Error("BySeverity reordered its input")
	}
}

func TestTitleAndEmoji(t *testing.T) {
	rec := notifytest.Unreachable()
	rec.Kind, rec.Resolves = notifiers.KindResolved, notifiers.KindUnreachable
	tests := []struct {
		name  string
		alert *notifiers.Alert
		want  string
	}{
		{"drift", notifytest.RichDrift(), "🚨 Drift on github — CRITICAL"},
		{"reminder", notifytest.Reminder(2), "🚨 Drift on github — CRITICAL (reminder 2)"},
		{"resolved", notifytest.Resolved(), "✅ Resolved: drift on github"},
		{"recovered", rec, "✅ Recovered: files is reachable again"},
		{"unreachable", notifytest.Unreachable(), "📡 files is unreachable"},
		{"test", notifytest.Test(), "🧪 mcpdrift test message — no action needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Emoji(tt.alert) + " " + Title(tt.alert); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDriftReason(t *testing.T) {
	again := notifytest.ChangedAgain()
	unapproved := notifytest.RichDrift()
	unapproved.Report.Note = "no baseline: review with 'mcpdrift show github'"
	unapproved.Reason = "no approved baseline: " + unapproved.Report.Note
	tests := []struct {
		name  string
		alert *notifiers.Alert
		want  string
	}{
		{"changed again", again, "The server changed again: snapshot sha256:bb052f1b631f replaces sha256:0123456789ab"},
		{"first alert", notifytest.RichDrift(), ""},
		{"repeats the note", unapproved, ""},
		{"not a drift", notifytest.Resolved(), ""},
	}
	for _, tt := range tests {
		if got := DriftReason(tt.alert); got != tt.want {
			t.Errorf("%s: DriftReason = %q, want %q", tt.name, got, tt.want)
		}
	}
}
