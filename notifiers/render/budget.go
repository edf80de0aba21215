package render

import (
	"fmt"

	"github.com/mcpdrift/mcpdrift/notifiers"
)

// Fit returns how many of the first n items fit in budget, item i costing
// cost(i), stopping at the first item that does not fit. Given changes in
// BySeverity order, a message cut for size therefore never leaves out a
// change while it shows a less severe one. cost is called in order, and
// for no item after the first that does not fit, so callers may render
// items as they are asked for.
func Fit(n, budget int, cost func(i int) int) int {
	shown := 0
	for shown < n {
		c := cost(shown)
		if c > budget {
			break
		}
		budget -= c
		shown++
	}
	return shown
}

// MoreChanges says how many changes a message left out and where to see
// them: "3 more changes: run mcpdrift diff github to see them all". The
// server name is shell-quoted, not otherwise escaped.
func MoreChanges(n int, server string) string {
	return Plural(n, "more change") + ": run " + DiffCommand(server) + " to see them all"
}

// Headline is the alert on one line of plain text, for notification
// previews and fallbacks: "🚨 mcpdrift: drift on github — critical, 4
// changes". The server name goes through Line.
func Headline(a *notifiers.Alert) string { return HeadlineEscaped(a, Line) }

// HeadlineEscaped is Headline with the server's text (its name, an alert
// kind it does not know) escaped by line, for a channel with markup of its
// own.
func HeadlineEscaped(a *notifiers.Alert, line func(string) string) string {
	if a.Kind == notifiers.KindTest {
		return Emoji(a) + " " + TestMessage
	}
	server := line(a.Server)
	var t string
	switch {
	case a.Kind == notifiers.KindDrift:
		t = fmt.Sprintf("drift on %s — %s, %s", server, a.Severity, Plural(len(a.Report.Changes), "change"))
	case a.Kind == notifiers.KindUnreachable:
		t = server + " is unreachable"
	case a.Kind == notifiers.KindResolved && a.Resolves == notifiers.KindUnreachable:
		t = server + " is reachable again"
	case a.Kind == notifiers.KindResolved:
		t = "drift on " + server + " resolved"
	default:
		t = line(a.Kind) + " on " + server
	}
	if a.Reminder > 0 {
		t += fmt.Sprintf(" (reminder %d)", a.Reminder)
	}
	return Emoji(a) + " mcpdrift: " + t
}
