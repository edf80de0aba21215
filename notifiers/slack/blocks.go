package slack

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
	slackapi "github.com/slack-go/slack"
)

// Slack's limits on a Block Kit message.
const (
	MaxBlocks      = 50   // blocks per message
	MaxSectionText = 3000 // characters in a section's text
	MaxHeaderText  = 150  // characters in a header
	MaxContextElts = 10   // elements in a context block
)

// Budgets that keep a message readable well before Slack's limits.
const (
	maxDiffLines     = 20    // lines of a change's diff shown
	maxDiffBytes     = 1200  // bytes of a change's diff shown
	maxChangeText    = 24000 // all change sections together
	maxFindingsShown = 3     // findings listed under one change
)

// Message is what one alert posts: Text is the plain fallback Slack uses in
// notifications, Blocks the message itself.
type Message struct {
	Text   string           `json:"text"`
	Blocks []slackapi.Block `json:"blocks"`
}

// Render builds the Slack message for a, sent by the notifier called
// notifier.
func Render(a *notifiers.Alert, notifier string) Message {
	switch a.Kind {
	case notifiers.KindDrift:
		return renderDrift(a)
	case notifiers.KindUnreachable:
		return renderUnreachable(a)
	case notifiers.KindResolved:
		return renderResolved(a)
	case notifiers.KindTest:
		return renderTest(a, notifier)
	default:
		return Message{
			Text:   fallback(a),
			Blocks: []slackapi.Block{header(a), section(fmt.Sprintf("Alert of kind %s on %s.", code(a.Kind), code(a.Server)))},
		}
	}
}

// fallback is the plain text Slack shows in notifications and where
// blocks cannot be shown; it names the server and nothing else a server
// controls.
func fallback(a *notifiers.Alert) string { return render.HeadlineEscaped(a, mrkdwnLine) }

func header(a *notifiers.Alert) slackapi.Block {
	text := escape.TruncateRunes(render.Emoji(a)+" "+plain(render.Title(a)), MaxHeaderText)
	return slackapi.NewHeaderBlock(slackapi.NewTextBlockObject(slackapi.PlainTextType, text, true, false))
}

// section is a mrkdwn section; text must already be escaped. It is cut to
// MaxSectionText as a last resort; callers budget so that this never cuts.
func section(text string) slackapi.Block {
	return slackapi.NewSectionBlock(mrkdwnObject(clip(text, MaxSectionText)), nil, nil)
}

func mrkdwnObject(text string) *slackapi.TextBlockObject {
	// verbatim: Slack must not turn URLs, domains or names into links.
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, true)
}

func contextBlock(parts ...string) slackapi.Block {
	var elts []slackapi.MixedElement
	for _, p := range parts {
		if p != "" && len(elts) < MaxContextElts {
			elts = append(elts, mrkdwnObject(clip(p, MaxSectionText)))
		}
	}
	return slackapi.NewContextBlock("", elts...)
}

// clip cuts escaped text to at most n bytes (so at most n characters) at a
// rune boundary, backing off an entity it would split.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if amp := strings.LastIndexByte(s[:cut], '&'); amp >= 0 && !strings.Contains(s[amp:cut], ";") {
		cut = amp
	}
	return s[:cut] + "…"
}

var sevEmoji = map[severity.Level]string{
	severity.Critical: "🟥",
	severity.High:     "🟧",
	severity.Medium:   "🟨",
	severity.Low:      "🟦",
	severity.Info:     "⬜",
}

func badge(l severity.Level) string {
	return strings.TrimSpace(sevEmoji[l] + " *" + strings.ToUpper(l.String()) + "*")
}

func countsLine(cs []report.Change) string {
	var parts []string
	for _, c := range report.Counts(cs) {
		parts = append(parts, fmt.Sprintf("%s %d %s", sevEmoji[c.Level], c.N, c.Level))
	}
	return strings.Join(parts, " · ")
}

func idsContext(a *notifiers.Alert) slackapi.Block {
	var parts []string
	if b := a.Report.Baseline; b != nil {
		p := "Baseline " + code(report.ShortID(b.ID))
		if b.ApprovedBy != "" {
			p += " approved by " + mrkdwnLine(short(b.ApprovedBy, maxName))
		}
		if !b.ApprovedAt.IsZero() {
			p += " " + render.Time(b.ApprovedAt)
		}
		parts = append(parts, p)
	}
	if s := a.Report.Snapshot; s != nil {
		p := "Snapshot " + code(report.ShortID(s.ID))
		if !s.TakenAt.IsZero() {
			p += " taken " + render.Time(s.TakenAt)
		}
		parts = append(parts, p)
	}
	if !a.FirstSeen.IsZero() {
		parts = append(parts, "First seen "+render.Time(a.FirstSeen))
	}
	if len(parts) == 0 {
		parts = append(parts, "Sent "+render.Time(a.At))
	}
	return contextBlock(parts...)
}

func renderDrift(a *notifiers.Alert) Message {
	r := &a.Report
	changes := render.BySeverity(r.Changes)
	findings := render.Findings(r.Findings)

	var sum strings.Builder
	fmt.Fprintf(&sum, "*%s* on %s", render.Plural(len(changes), "change"), code(a.Server))
	if cl := countsLine(changes); cl != "" {
		sum.WriteString(" — " + cl)
	}
	if len(findings) > 0 {
		sum.WriteString(" · " + render.Plural(len(findings), "lint finding"))
	}
	if a.Reminder > 0 {
		fmt.Fprintf(&sum, "\nStill pending since %s (reminder %d).", render.Time(a.FirstSeen), a.Reminder)
	}
	if reason := render.DriftReason(a); reason != "" {
		sum.WriteString("\n" + mrkdwnLine(short(reason, maxSummary)) + ".")
	}
	if r.Note != "" {
		sum.WriteString("\n_" + mrkdwnLine(short(r.Note, maxSummary)) + "_")
	}

	blocks := []slackapi.Block{header(a), section(sum.String())}
	if len(findings) > 0 {
		blocks = append(blocks, section(findingsText(findings)))
	}
	// The approve section and the ids context always close the message,
	// and a note may say how many changes did not fit.
	room := MaxBlocks - len(blocks) - 3
	budget := maxChangeText
	shown := 0
	for i := range changes {
		if shown == room {
			break
		}
		text := changeText(&changes[i])
		if len(text) > budget {
			break
		}
		budget -= len(text)
		blocks = append(blocks, section(text))
		shown++
	}
	if more := len(changes) - shown; more > 0 {
		word := "changes"
		if more == 1 {
			word = "change"
		}
		blocks = append(blocks, section(fmt.Sprintf("➕ *%d more %s* — run %s to see them all.",
			more, word, code(render.DiffCommand(a.Server)))))
	}
	next := "*Review* with " + code(render.DiffCommand(a.Server))
	if cmd := render.ApproveCommand(a); cmd != "" {
		next += "\n*Approve* exactly this snapshot with\n" + codeBlock(cmd)
	}
	blocks = append(blocks, section(next), idsContext(a))

	return Message{Text: fallback(a), Blocks: blocks}
}

// changeText renders one change in at most MaxSectionText bytes, cutting
// the diff excerpt as needed.
func changeText(c *report.Change) string {
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s · %s", badge(c.Severity), code(c.Kind), entityLabel(c))
	if c.Summary != "" {
		head.WriteString("\n" + mrkdwnLine(short(c.Summary, maxSummary)))
	}
	var tail strings.Builder
	for i, f := range c.Findings {
		if i == maxFindingsShown {
			fmt.Fprintf(&tail, "\n❗ and %s", render.Plural(len(c.Findings)-i, "more finding"))
			break
		}
		fmt.Fprintf(&tail, "\n❗ %s %s: %s", badge(f.Severity), code(f.Rule), mrkdwnLine(short(f.Message, maxMessage)))
		if f.Evidence != "" {
			tail.WriteString(" — " + code(f.Evidence))
		}
	}
	fixed := len(head.String()) + len(tail.String())
	diff := escape.Visible(render.ChangeText(c))
	if strings.TrimSpace(diff) == "" {
		return clip(head.String()+tail.String(), MaxSectionText)
	}
	// Escaping can grow the excerpt (&lt; is 4 bytes for 1), so shrink
	// the byte budget until the whole section fits.
	limit := min(maxDiffBytes, MaxSectionText-fixed-64)
	for limit > 0 {
		text := head.String() + "\n" + codeBlock(render.Excerpt(diff, maxDiffLines, limit)) + tail.String()
		if len(text) <= MaxSectionText {
			return text
		}
		limit = limit * MaxSectionText / len(text) * 9 / 10
	}
	return clip(head.String()+tail.String(), MaxSectionText)
}

func entityLabel(c *report.Change) string {
	e := mrkdwnLine(short(c.Entity, maxName))
	if e == "" {
		e = "server"
	}
	if c.Name == "" {
		return e
	}
	return e + " " + code(c.Name)
}

func findingsText(fs []report.Finding) string {
	var b strings.Builder
	b.WriteString("*Lint findings on the current snapshot*")
	for i, f := range fs {
		var line strings.Builder
		fmt.Fprintf(&line, "\n• %s %s", badge(f.Severity), code(f.Rule))
		if f.Name != "" || f.Entity != "" {
			fmt.Fprintf(&line, " on %s %s", mrkdwnLine(short(f.Entity, maxName)), code(f.Name))
		}
		line.WriteString(": " + mrkdwnLine(short(f.Message, maxMessage)))
		if b.Len()+line.Len() > MaxSectionText-80 {
			fmt.Fprintf(&b, "\n… and %s", render.Plural(len(fs)-i, "more finding"))
			break
		}
		b.WriteString(line.String())
	}
	return b.String()
}

func renderUnreachable(a *notifiers.Alert) Message {
	var b strings.Builder
	fmt.Fprintf(&b, "%s could not be probed", code(a.Server))
	if !a.FirstSeen.IsZero() {
		fmt.Fprintf(&b, " since %s", render.Time(a.FirstSeen))
	}
	b.WriteString(".")
	if a.Reminder > 0 {
		fmt.Fprintf(&b, " Still unreachable (reminder %d).", a.Reminder)
	}
	errText := a.Reason
	if errText == "" {
		errText = a.Report.Error
	}
	if errText != "" {
		b.WriteString("\n*Last error*\n" + codeBlock(render.Excerpt(escape.Visible(errText), 10, 1500)))
	}
	b.WriteString("\nCheck with " + code("mcpdrift status") + ".")
	return Message{
		Text:   fallback(a),
		Blocks: []slackapi.Block{header(a), section(b.String()), idsContext(a)},
	}
}

func renderResolved(a *notifiers.Alert) Message {
	var b strings.Builder
	if a.Resolves == notifiers.KindUnreachable {
		fmt.Fprintf(&b, "%s answers probes again", code(a.Server))
	} else {
		fmt.Fprintf(&b, "The drift on %s", code(a.Server))
		if a.Severity > severity.None {
			fmt.Fprintf(&b, " (%s", badge(a.Severity))
			if n := len(a.Report.Changes); n > 0 {
				fmt.Fprintf(&b, ", %s", render.Plural(n, "change"))
			}
			b.WriteString(")")
		}
		b.WriteString(" is resolved")
	}
	if a.Reason != "" {
		b.WriteString(": " + mrkdwnLine(short(a.Reason, maxSummary)))
	}
	b.WriteString(".")
	if !a.FirstSeen.IsZero() {
		fmt.Fprintf(&b, "\nOpen from %s to %s.", render.Time(a.FirstSeen), render.Time(a.At))
	}
	return Message{
		Text:   fallback(a),
		Blocks: []slackapi.Block{header(a), section(b.String()), idsContext(a)},
	}
}

func renderTest(a *notifiers.Alert, notifier string) Message {
	text := fmt.Sprintf("This is a test message from the mcpdrift notifier %s. "+
		"If you can read it, mcpdrift alerts reach this channel. *No action needed.*", code(notifier))
	return Message{
		Text:   fallback(a),
		Blocks: []slackapi.Block{header(a), section(text), contextBlock("Sent " + render.Time(a.At))},
	}
}
