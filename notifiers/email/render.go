package email

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"html"
	"html/template"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
)

// Budgets that keep a message readable and its size sane.
const (
	maxChanges   = 100  // changes shown; the rest are counted
	maxFindings  = 50   // server findings shown
	maxDiffLines = 60   // lines of one change's diff
	maxDiffBytes = 6000 // bytes of one change's diff
	maxInline    = 500  // bytes of a name, summary or message
)

// Subject is the same for every message of an incident, so that mail
// clients that thread by subject (Gmail, Outlook) keep them together as
// well as by References: it names the server and the incident's kind only
// ("[mcpdrift] github: drift"); the severity, the count of changes, an
// update after a partial approval and the resolution are in the body, and
// the resolution adds "Re: ", which threading ignores.
func Subject(a *notifiers.Alert) string {
	server := escape.Truncate(render.Line(a.Server), 100)
	switch a.Kind {
	case notifiers.KindDrift:
		return "[mcpdrift] " + server + ": drift"
	case notifiers.KindUnreachable:
		return "[mcpdrift] " + server + ": unreachable"
	case notifiers.KindResolved:
		if a.Resolves == notifiers.KindUnreachable {
			return "Re: [mcpdrift] " + server + ": unreachable"
		}
		return "Re: [mcpdrift] " + server + ": drift"
	case notifiers.KindTest:
		return "[mcpdrift] TEST: " + render.TestMessage
	default:
		return "[mcpdrift] " + strings.ToUpper(render.Line(a.Kind)) + ": " + server
	}
}

// MessageIDs derives the Message-ID of a's message, and of the incident's
// first message it replies to ("" for a first message; reminders, updates
// and the resolution reply to it), from the notifier
// name and the incident alone, so threading needs no stored state and a
// retried delivery keeps its id (receivers drop the duplicate). Ids have
// no "<>"; domain is the right-hand side.
func MessageIDs(notifier, domain string, a *notifiers.Alert) (id, parent string) {
	key := a.Incident
	if a.Kind == notifiers.KindTest || key == "" {
		key += "\x00" + a.At.UTC().Format(time.RFC3339Nano)
	}
	sum := sha256.Sum256([]byte(notifier + "\x00" + key))
	base := "mcpdrift." + hex.EncodeToString(sum[:12])
	first := base + "@" + domain
	switch {
	case a.Kind == notifiers.KindTest:
		return first, ""
	case a.Kind == notifiers.KindResolved:
		return base + ".resolved@" + domain, first
	case a.Reminder > 0:
		return fmt.Sprintf("%s.r%d@%s", base, a.Reminder, domain), first
	case a.Update > 0:
		// An update of an open incident (a partial approval left some
		// changes pending): its own id, in the first message's thread.
		return fmt.Sprintf("%s.u%d@%s", base, a.Update, domain), first
	default:
		return first, ""
	}
}

var domainSafe = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$`)

// idDomain is the domain of the From address, for Message-IDs.
func idDomain(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			d = strings.ToLower(d)
			if domainSafe.MatchString(d) {
				return d
			}
		}
	}
	return "mcpdrift.invalid"
}

// view is what both bodies show. Server-controlled fields hold the raw
// text: each body escapes for its own medium.
type view struct {
	Notifier string
	Title    string
	Accent   template.CSS
	Kind     string
	Resolves string
	Server   string
	Severity string
	Reminder int
	Counts   string
	NChanges int
	Changes  []changeView
	More     int
	Findings []findingView
	MoreFind int
	Note     string
	Reason   string
	Why      string // render.DriftReason
	// LastError is an unreachable server's error, escaped and cut.
	LastError string

	DiffCmd    string
	ApproveCmd string

	Baseline   string // short id
	ApprovedBy string
	ApprovedAt string
	Snapshot   string
	TakenAt    string
	Incident   string
	FirstSeen  string
	At         string
}

type changeView struct {
	Severity string
	Color    template.CSS
	Kind     string
	Entity   string
	Name     string
	Summary  string
	Diff     string // escaped and cut
	Findings []findingView
}

type findingView struct {
	Severity string
	Color    template.CSS
	Rule     string
	Entity   string
	Name     string
	Message  string
	Evidence string
}

var sevColor = map[severity.Level]template.CSS{
	severity.Critical: "#991b1b",
	severity.High:     "#c2410c",
	severity.Medium:   "#a16207",
	severity.Low:      "#1d4ed8",
	severity.Info:     "#52525b",
	severity.None:     "#52525b",
}

var kindAccent = map[string]template.CSS{
	notifiers.KindDrift:       "#991b1b",
	notifiers.KindUnreachable: "#6b21a8",
	notifiers.KindResolved:    "#15803d",
	notifiers.KindTest:        "#1d4ed8",
}

func newView(a *notifiers.Alert, notifier string) *view {
	r := &a.Report
	v := &view{
		Notifier:   notifier,
		Title:      render.Title(a),
		Accent:     kindAccent[a.Kind],
		Kind:       a.Kind,
		Resolves:   a.Resolves,
		Server:     a.Server,
		Severity:   strings.ToUpper(a.Severity.String()),
		Reminder:   a.Reminder,
		Counts:     report.CountsText(r.Changes, ", "),
		NChanges:   len(r.Changes),
		Note:       r.Note,
		Reason:     a.Reason,
		Why:        render.DriftReason(a),
		DiffCmd:    render.DiffCommand(a.Server),
		ApproveCmd: render.ApproveCommand(a),
		Incident:   a.Incident,
		At:         render.Time(a.At),
	}
	if v.Accent == "" {
		v.Accent = "#52525b"
	}
	if !a.FirstSeen.IsZero() {
		v.FirstSeen = render.Time(a.FirstSeen)
	}
	if a.Kind == notifiers.KindUnreachable {
		if e := firstNonEmpty(a.Reason, r.Error); e != "" {
			v.LastError = render.Excerpt(escape.Visible(e), 20, 2000)
		}
	}
	if b := r.Baseline; b != nil {
		v.Baseline, v.ApprovedBy = report.ShortID(b.ID), b.ApprovedBy
		if !b.ApprovedAt.IsZero() {
			v.ApprovedAt = render.Time(b.ApprovedAt)
		}
	}
	if s := r.Snapshot; s != nil {
		v.Snapshot = report.ShortID(s.ID)
		if !s.TakenAt.IsZero() {
			v.TakenAt = render.Time(s.TakenAt)
		}
	}
	if a.Kind != notifiers.KindDrift {
		return v
	}
	changes := render.BySeverity(r.Changes)
	for i := range changes {
		if i == maxChanges {
			v.More = len(changes) - i
			break
		}
		c := &changes[i]
		cv := changeView{
			Severity: strings.ToUpper(c.Severity.String()),
			Color:    sevColor[c.Severity],
			Kind:     c.Kind,
			Entity:   c.Entity,
			Name:     c.Name,
			Summary:  c.Summary,
			Diff:     render.Excerpt(escape.Visible(render.ChangeText(c)), maxDiffLines, maxDiffBytes),
		}
		for _, f := range c.Findings {
			cv.Findings = append(cv.Findings, newFinding(f))
		}
		v.Changes = append(v.Changes, cv)
	}
	for i, f := range render.Findings(r.Findings) {
		if i == maxFindings {
			v.MoreFind = len(render.Findings(r.Findings)) - i
			break
		}
		v.Findings = append(v.Findings, newFinding(f))
	}
	return v
}

func newFinding(f report.Finding) findingView {
	return findingView{
		Severity: strings.ToUpper(f.Severity.String()),
		Color:    sevColor[f.Severity],
		Rule:     f.Rule, Entity: f.Entity, Name: f.Name, Message: f.Message, Evidence: f.Evidence,
	}
}

// textLine is server text for one line of the text body.
func textLine(s string) string { return escape.Truncate(render.Line(s), maxInline) }

// textBody renders the text/plain part: every server-controlled string
// goes through render.Text or render.Line (escape markers, ‹ › for angle
// brackets, defanged links).
func textBody(v *view) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("%s\n%s\n\n", v.Title, strings.Repeat("=", min(len([]rune(v.Title)), 72)))
	server := textLine(v.Server)
	switch v.Kind {
	case notifiers.KindDrift:
		w("%s on %s", render.Plural(v.NChanges, "change"), server)
		if v.Counts != "" {
			w(": %s", v.Counts)
		}
		if n := len(v.Findings) + v.MoreFind; n > 0 {
			w("; %s", render.Plural(n, "lint finding"))
		}
		w(".\n")
		if v.Reminder > 0 {
			w("Reminder %d: still pending since %s.\n", v.Reminder, v.FirstSeen)
		}
		if v.Why != "" {
			w("%s.\n", textLine(v.Why))
		}
		if v.Note != "" {
			w("Note: %s\n", textLine(v.Note))
		}
		if len(v.Changes) > 0 {
			w("\nCHANGES\n")
		}
		for _, c := range v.Changes {
			w("\n[%s] %s - %s", c.Severity, textLine(c.Kind), textLine(c.Entity))
			if c.Name != "" {
				w(" %s", textLine(c.Name))
			}
			w("\n")
			if c.Summary != "" {
				w("  %s\n", textLine(c.Summary))
			}
			if strings.TrimSpace(c.Diff) != "" {
				for _, l := range strings.Split(render.Text(c.Diff), "\n") {
					w("    | %s\n", l)
				}
			}
			for _, f := range c.Findings {
				w("  ! [%s] %s: %s", f.Severity, textLine(f.Rule), textLine(f.Message))
				if f.Evidence != "" {
					w(" (%s)", textLine(f.Evidence))
				}
				w("\n")
			}
		}
		if v.More > 0 {
			w("\n... and %s: run %s to see them all.\n", render.Plural(v.More, "more change"), render.Line(v.DiffCmd))
		}
		if len(v.Findings) > 0 {
			w("\nLINT FINDINGS ON THE CURRENT SNAPSHOT\n")
			for _, f := range v.Findings {
				w("[%s] %s", f.Severity, textLine(f.Rule))
				if f.Name != "" || f.Entity != "" {
					w(" on %s %s", textLine(f.Entity), textLine(f.Name))
				}
				w(": %s\n", textLine(f.Message))
			}
			if v.MoreFind > 0 {
				w("... and %s\n", render.Plural(v.MoreFind, "more finding"))
			}
		}
		w("\nNEXT STEPS\nReview:  %s\n", render.Line(v.DiffCmd))
		if v.ApproveCmd != "" {
			w("Approve: %s\n", render.Line(v.ApproveCmd))
		}
	case notifiers.KindUnreachable:
		w("%s could not be probed", server)
		if v.FirstSeen != "" {
			w(" since %s", v.FirstSeen)
		}
		w(".\n")
		if v.Reminder > 0 {
			w("Reminder %d: still unreachable.\n", v.Reminder)
		}
		if v.LastError != "" {
			w("\nLast error:\n")
			for _, l := range strings.Split(render.Text(v.LastError), "\n") {
				w("    | %s\n", l)
			}
		}
		w("\nCheck with: mcpdrift status\n")
	case notifiers.KindResolved:
		if v.Resolves == notifiers.KindUnreachable {
			w("%s answers probes again", server)
		} else {
			// A resolution carries the resolved state's report: its count
			// of changes is that of what is left, so none is not printed
			// (as in Slack and Teams) rather than read as "0 changes".
			if v.NChanges > 0 {
				w("The drift on %s (%s, %s) is resolved", server, v.Severity, render.Plural(v.NChanges, "change"))
			} else {
				w("The drift on %s (%s) is resolved", server, v.Severity)
			}
		}
		if v.Reason != "" {
			w(": %s", textLine(v.Reason))
		}
		w(".\n")
		if v.FirstSeen != "" {
			w("Open from %s to %s.\n", v.FirstSeen, v.At)
		}
	case notifiers.KindTest:
		w("This is a test message from the mcpdrift notifier %s.\n", textLine(v.Notifier))
		w("If you can read it, mcpdrift alerts reach this address. No action needed.\n")
	default:
		w("Alert of kind %s on %s.\n", textLine(v.Kind), server)
	}

	w("\n")
	if v.Baseline != "" {
		w("Baseline:   %s", v.Baseline)
		if v.ApprovedBy != "" {
			w(" approved by %s", textLine(v.ApprovedBy))
		}
		if v.ApprovedAt != "" {
			w(" at %s", v.ApprovedAt)
		}
		w("\n")
	}
	if v.Snapshot != "" {
		w("Snapshot:   %s taken %s\n", v.Snapshot, v.TakenAt)
	}
	if v.FirstSeen != "" {
		w("First seen: %s\n", v.FirstSeen)
	}
	if v.Incident != "" && v.Kind != notifiers.KindTest {
		w("Incident:   %s\n", textLine(v.Incident))
	}
	w("\n-- \nSent by mcpdrift (notifier %s) at %s.\n", textLine(v.Notifier), v.At)
	return b.String()
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// markerRE finds escape markers, which the HTML body highlights.
var markerRE = regexp.MustCompile(`<(?:U\+[0-9A-F]{4,6}|ESC|0x[0-9A-F]{2})>`)

const markerStyle = `background-color:#fef3c7;color:#92400e;font-weight:bold;`

// visHTML makes server text inert HTML: escaped (escape.Visible or
// escape.Line), defanged, HTML-escaped, with escape markers highlighted.
func visHTML(s string, oneLine bool) template.HTML {
	if oneLine {
		s = escape.Truncate(escape.Line(s), maxInline)
	} else {
		s = escape.Visible(s)
	}
	s = render.Defang(s)
	var b strings.Builder
	last := 0
	for _, m := range markerRE.FindAllStringIndex(s, -1) {
		b.WriteString(html.EscapeString(s[last:m[0]]))
		b.WriteString(`<span style="` + markerStyle + `">` + html.EscapeString(s[m[0]:m[1]]) + `</span>`)
		last = m[1]
	}
	b.WriteString(html.EscapeString(s[last:]))
	return template.HTML(b.String()) //nolint:gosec // built from escaped pieces only
}

var diffStyle = map[byte]template.CSS{
	'+': "background-color:#dcfce7;color:#14532d;",
	'-': "background-color:#fee2e2;color:#7f1d1d;",
	'@': "color:#6b21a8;",
}

type diffLine struct {
	Style template.CSS
	Text  template.HTML
}

func diffLines(s string) []diffLine {
	var out []diffLine
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		var st template.CSS
		if l != "" {
			st = diffStyle[l[0]]
		}
		out = append(out, diffLine{Style: st, Text: visHTML(l, false)})
	}
	return out
}

//go:embed body.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("body").Funcs(template.FuncMap{
	"vis":    func(s string) template.HTML { return visHTML(s, false) },
	"line":   func(s string) template.HTML { return visHTML(s, true) },
	"diff":   diffLines,
	"plural": render.Plural,
}).Parse(htmlSource))

// htmlBody renders the text/html part: tables and inline CSS only (no
// <style>, no images, no links), which Gmail and Outlook both keep.
func htmlBody(v *view) (string, error) {
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, v); err != nil {
		return "", fmt.Errorf("render html body: %w", err)
	}
	return b.String(), nil
}
