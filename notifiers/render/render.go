// Package render holds what every alert channel says the same way: the
// state of an alert (emoji, title), counts by severity, the commands a
// reviewer runs next, and the neutralising of hostile text that all channels
// share.
//
// Server-controlled text (tool names, descriptions, diffs, error messages)
// is made inert in three steps, in this order:
//
//  1. escape.Visible or escape.Line: invisible and deceptive characters
//     (zero-width, bidi, tags, ANSI escapes) become markers such as <U+200B>.
//  2. Defang: nothing can become a link. "http://" and "https://" are written
//     "hxxp://" and "hxxps://", any other "scheme://" as "scheme[:]//", the
//     schemes that work without slashes (mailto:, javascript:, data:, tel:,
//     ...) as "mailto[:]", and "www." as "www[.]". The defanged form is the
//     convention of security advisories: readable, never clickable.
//  3. The channel's own escaping: Slack entities, HTML escaping, or, for plain
//     text (Text and Line), "<" written "‹" (and the ">" closing it "›") so
//     that no tag, <!channel> or <https://...> survives in text that a mail
//     client or a chat bridge might interpret. Escape markers keep their < >.
//
// Bare domains ("evil.example") are not defanged: channels that would
// auto-link them must switch that off themselves (Slack: verbatim text).
//
// render does no I/O.
package render

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// TestMessage is how every channel marks a `mcpdrift notify test` message.
const TestMessage = "mcpdrift test message — no action needed"

// TimeLayout is how alerts show times to people; always UTC.
const TimeLayout = "2006-01-02 15:04 UTC"

// Time formats t for people, or "-" when unknown.
func Time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(TimeLayout)
}

// Emoji is the state emoji of an alert: 🚨 drift, ✅ resolved, 📡
// unreachable, 🧪 test. None carries a variation selector, which escape
// would show as <U+FE0F>.
func Emoji(a *notifiers.Alert) string {
	switch a.Kind {
	case notifiers.KindDrift:
		return "🚨"
	case notifiers.KindResolved:
		return "✅"
	case notifiers.KindUnreachable:
		return "📡"
	case notifiers.KindTest:
		return "🧪"
	default:
		return "🔔"
	}
}

// Title is a one-line title without emoji, e.g. "Drift on github — HIGH".
// The server name goes through Line.
func Title(a *notifiers.Alert) string {
	server := Line(a.Server)
	switch a.Kind {
	case notifiers.KindDrift:
		t := fmt.Sprintf("Drift on %s — %s", server, strings.ToUpper(a.Severity.String()))
		if a.Reminder > 0 {
			t += fmt.Sprintf(" (reminder %d)", a.Reminder)
		}
		return t
	case notifiers.KindUnreachable:
		t := server + " is unreachable"
		if a.Reminder > 0 {
			t += fmt.Sprintf(" (reminder %d)", a.Reminder)
		}
		return t
	case notifiers.KindResolved:
		if a.Resolves == notifiers.KindUnreachable {
			return "Recovered: " + server + " is reachable again"
		}
		return "Resolved: drift on " + server
	case notifiers.KindTest:
		return TestMessage
	default:
		return Line(a.Kind) + " on " + server
	}
}

// Plural returns "1 change" or "3 changes".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// BySeverity returns the changes ordered by severity, highest first, and
// riskiest first within a severity (report.SortByRisk: findings and
// escalations, then description and instruction edits, additions, the
// rest, removals), so that a message cut for size (Fit) drops the least
// important changes, never a change of the alert's top severity while it
// shows a lower one, and 40 routine additions cannot push a poisoned
// description out.
func BySeverity(cs []report.Change) []report.Change {
	out := slices.Clone(cs)
	report.SortByRisk(out)
	slices.SortStableFunc(out, func(a, b report.Change) int { return int(b.Severity) - int(a.Severity) })
	return out
}

// Findings returns the server-level findings neither suppressed nor
// acknowledged by an approval, highest first.
func Findings(fs []report.Finding) []report.Finding {
	out := report.Unaccepted(fs)
	slices.SortStableFunc(out, func(a, b report.Finding) int { return int(b.Severity) - int(a.Severity) })
	return out
}

// SnapshotID is the id of the snapshot an alert is about, or "".
func SnapshotID(a *notifiers.Alert) string {
	if a.Report.Snapshot == nil {
		return ""
	}
	return a.Report.Snapshot.ID
}

// BaselineID is the id of the baseline an alert compares with, or "".
func BaselineID(a *notifiers.Alert) string {
	if a.Report.Baseline == nil {
		return ""
	}
	return a.Report.Baseline.ID
}

// ApproveCommand is the exact command that approves what the alert shows,
// or "" when the alert names no snapshot.
func ApproveCommand(a *notifiers.Alert) string {
	id := SnapshotID(a)
	if id == "" {
		return ""
	}
	return "mcpdrift approve " + escape.ShellWord(a.Server) + " --snapshot " + escape.ShellWord(id)
}

// DriftReason is why a drift alert was raised, as a sentence, when the
// message should say it: that the server changed again since the last
// alert of the same incident ("snapshot X replaces Y"). It is "" when there
// is none, or when the reason only repeats the report's note (an
// unapproved server).
func DriftReason(a *notifiers.Alert) string {
	if a.Kind != notifiers.KindDrift || a.Reason == "" {
		return ""
	}
	if a.Report.Note != "" && strings.Contains(a.Reason, a.Report.Note) {
		return ""
	}
	r, n := utf8.DecodeRuneInString(a.Reason)
	return string(unicode.ToUpper(r)) + a.Reason[n:]
}

// DiffCommand is the command that shows a server's pending changes.
func DiffCommand(server string) string { return "mcpdrift diff " + escape.ShellWord(server) }

var (
	// schemeSlashes matches "scheme://" (RFC 3986 scheme syntax).
	schemeSlashes = regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.\-]*://`)
	// schemeBare matches the schemes clients link without slashes.
	schemeBare = regexp.MustCompile(`(?i)\b(mailto|javascript|vbscript|data|tel|sms|callto|skype|slack|file|news|urn):`)
	www        = regexp.MustCompile(`(?i)\bwww\.`)
)

// Defang rewrites every URL-like part of s so no client makes it a link:
// "https://x" becomes "hxxps://x", "ftp://x" "ftp[:]//x", "mailto:x"
// "mailto[:]x" and "www.x" "www[.]x". It is idempotent.
func Defang(s string) string {
	if !strings.Contains(s, ":") && !strings.Contains(s, ".") {
		return s
	}
	s = schemeSlashes.ReplaceAllStringFunc(s, func(m string) string {
		scheme := m[:len(m)-len("://")]
		switch strings.ToLower(scheme) {
		case "http":
			return "hxxp://"
		case "https":
			return "hxxps://"
		case "hxxp", "hxxps":
			return m
		}
		return scheme + "[:]//"
	})
	s = schemeBare.ReplaceAllString(s, "${1}[:]")
	return www.ReplaceAllStringFunc(s, func(m string) string { return m[:3] + "[.]" })
}

// marker matches an escape marker at the start of a string.
var marker = regexp.MustCompile(`^<(?:U\+[0-9A-F]{4,6}|ESC|0x[0-9A-F]{2})>`)

// Angles writes < as ‹, and the > that closes it as ›, except in escape
// markers (<U+200B>), so text holds no tag, Slack markup or <https://...>
// autolink. A > with no < before it ("a -> b") stays.
func Angles(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	open := false
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '<':
			if m := marker.FindString(s[i:]); m != "" {
				b.WriteString(m)
				i += len(m)
				continue
			}
			b.WriteString("‹")
			open = true
		case c == '>' && open:
			b.WriteString("›")
			open = false
		case c == '\n':
			b.WriteByte(c)
			open = false
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String()
}

// Text makes multi-line server text inert for plain-text output (email
// text part, logs): escape.Visible, Angles, Defang.
func Text(s string) string { return Defang(Angles(escape.Visible(s))) }

// Line is Text on one line: newlines and tabs become ⏎ and ⇥.
func Line(s string) string { return Defang(Angles(escape.Line(s))) }

// Excerpt keeps the first maxLines lines and maxBytes bytes of s (cut at a
// rune boundary, never inside an escape marker) and says how much was left
// out. s should already be escaped.
func Excerpt(s string, maxLines, maxBytes int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	more := 0
	if maxLines > 0 && len(lines) > maxLines {
		more = len(lines) - maxLines
		lines = lines[:maxLines]
	}
	out := strings.Join(lines, "\n")
	if maxBytes > 0 && len(out) > maxBytes {
		out = escape.Truncate(out, maxBytes)
	}
	if more > 0 {
		out += fmt.Sprintf("\n… (%s)", Plural(more, "more line"))
	}
	return out
}

// ChangeText is what a change shows as its diff: the diff, or else the new
// or old text.
func ChangeText(c *report.Change) string {
	switch {
	case c.Diff != "":
		return c.Diff
	case c.After != "":
		return c.After
	default:
		return c.Before
	}
}
