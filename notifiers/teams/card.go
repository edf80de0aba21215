package teams

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
)

// Size limits. Teams refuses a message over about 28 KB, the whole
// request body counted; mcpdrift fills at most MaxBodyBytes of it, the
// rest being headroom for what the Workflows flow adds around the card.
const (
	TeamsMaxMessageBytes = 28_000
	MaxBodyBytes         = 24_000
)

// Budgets that keep a card readable well before the size limit.
const (
	maxDiffLines      = 20   // lines of a change's diff shown
	maxDiffBytes      = 1200 // bytes of a change's diff shown
	maxFindingsShown  = 3    // findings listed under one change
	maxServerFindings = 10   // server-level findings listed
	maxErrorLines     = 10   // lines of an unreachable server's error
	maxErrorBytes     = 1500
)

// CardVersion is the Adaptive Card schema version used: RichTextBlock
// needs 1.2; Teams and Workflows render up to 1.5.
const CardVersion = "1.4"

// Message is the body a Workflows webhook receives: a message with one
// Adaptive Card attachment.
type Message struct {
	Type        string       `json:"type"`
	Attachments []Attachment `json:"attachments"`
}

// Attachment carries the card.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"`
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card.
type Card struct {
	Type         string   `json:"type"`
	Schema       string   `json:"$schema"`
	Version      string   `json:"version"`
	FallbackText string   `json:"fallbackText"`
	MSTeams      *MSTeams `json:"msteams,omitempty"`
	Body         []Block  `json:"body"`
}

// MSTeams holds Teams' own card options.
type MSTeams struct {
	Width string `json:"width"`
}

// Block is a RichTextBlock or a Container: the only elements a card holds.
type Block struct {
	Type      string    `json:"type"`
	Inlines   []TextRun `json:"inlines,omitempty"` // RichTextBlock
	Items     []Block   `json:"items,omitempty"`   // Container
	Style     string    `json:"style,omitempty"`   // Container: attention, warning, good, emphasis
	Separator bool      `json:"separator,omitempty"`
	Spacing   string    `json:"spacing,omitempty"`
}

// TextRun is plain text, never markdown, with its own formatting.
type TextRun struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Color    string `json:"color,omitempty"`
	FontType string `json:"fontType,omitempty"`
	Italic   bool   `json:"italic,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
}

func run(text string) TextRun { return TextRun{Type: "TextRun", Text: text} }

func bold(text string) TextRun {
	r := run(text)
	r.Weight = "Bolder"
	return r
}

func mono(text string) TextRun {
	r := run(text)
	r.FontType = "Monospace"
	return r
}

// code shows one line of server text in monospace.
func code(s string) TextRun {
	if s == "" {
		return mono("(empty)")
	}
	return mono(line(s, maxName))
}

func subtle(text string) TextRun {
	r := run(text)
	r.IsSubtle, r.Size = true, "Small"
	return r
}

func para(runs ...TextRun) Block { return Block{Type: "RichTextBlock", Inlines: runs} }

// tight is a paragraph with no space above it: a line of a code listing.
func tight(runs ...TextRun) Block {
	b := para(runs...)
	b.Spacing = "None"
	return b
}

// listing shows escaped, cut multi-line text one monospace line per block,
// so line breaks survive every Teams client.
func listing(s string) []Block {
	var out []Block
	for _, l := range lines(s) {
		out = append(out, tight(mono(l)))
	}
	return out
}

var sevColor = map[severity.Level]string{
	severity.Critical: "Attention",
	severity.High:     "Attention",
	severity.Medium:   "Warning",
	severity.Low:      "Accent",
}

func badge(l severity.Level) TextRun {
	r := bold(strings.ToUpper(l.String()))
	r.Color = sevColor[l]
	return r
}

// containerStyle colours the card's head by state.
func containerStyle(a *notifiers.Alert) string {
	switch {
	case a.Kind == notifiers.KindResolved:
		return "good"
	case a.Kind == notifiers.KindTest:
		return "emphasis"
	case a.Severity >= severity.High:
		return "attention"
	case a.Severity == severity.Medium:
		return "warning"
	default:
		return "emphasis"
	}
}

// Render builds the message for a, sent by the notifier called notifier.
func Render(a *notifiers.Alert, notifier string) Message {
	var body []Block
	switch a.Kind {
	case notifiers.KindDrift:
		body = renderDrift(a)
	case notifiers.KindUnreachable:
		body = renderUnreachable(a)
	case notifiers.KindResolved:
		body = renderResolved(a)
	case notifiers.KindTest:
		body = renderTest(a, notifier)
	default:
		body = []Block{head(a, para(run("Alert of kind "), code(a.Kind), run(" on "), code(a.Server), run(".")))}
	}
	return message(a, body)
}

func message(a *notifiers.Alert, body []Block) Message {
	return Message{
		Type: "message",
		Attachments: []Attachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: Card{
				Type:         "AdaptiveCard",
				Schema:       "http://adaptivecards.io/schemas/adaptive-card.json",
				Version:      CardVersion,
				FallbackText: noAutolink(render.Headline(a)),
				MSTeams:      &MSTeams{Width: "Full"},
				Body:         body,
			},
		}},
	}
}

// Body encodes a message as it is posted.
func Body(m Message) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encode teams message: %w", err)
	}
	return b.Bytes(), nil
}

// size is how many bytes v takes in the body.
func size(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// head is the coloured top of every card: the title and what follows it.
func head(a *notifiers.Alert, more ...Block) Block {
	title := run(render.Emoji(a) + " " + noAutolink(render.Title(a)))
	title.Weight, title.Size = "Bolder", "Large"
	return Block{Type: "Container", Style: containerStyle(a), Items: append([]Block{para(title)}, more...)}
}

func idsBlocks(a *notifiers.Alert) []Block {
	var parts [][]TextRun
	if b := a.Report.Baseline; b != nil {
		p := []TextRun{subtle("Baseline "), subtleMono(report.ShortID(b.ID))}
		if b.ApprovedBy != "" {
			p = append(p, subtle(" approved by "+line(b.ApprovedBy, maxName)))
		}
		if !b.ApprovedAt.IsZero() {
			p = append(p, subtle(" "+render.Time(b.ApprovedAt)))
		}
		parts = append(parts, p)
	}
	if s := a.Report.Snapshot; s != nil {
		p := []TextRun{subtle("Snapshot "), subtleMono(report.ShortID(s.ID))}
		if !s.TakenAt.IsZero() {
			p = append(p, subtle(" taken "+render.Time(s.TakenAt)))
		}
		parts = append(parts, p)
	}
	if !a.FirstSeen.IsZero() {
		parts = append(parts, []TextRun{subtle("First seen " + render.Time(a.FirstSeen))})
	}
	if len(parts) == 0 {
		parts = append(parts, []TextRun{subtle("Sent " + render.Time(a.At))})
	}
	out := make([]Block, len(parts))
	for i, p := range parts {
		out[i] = tight(p...)
	}
	out[0].Separator, out[0].Spacing = true, "Medium"
	return out
}

func subtleMono(id string) TextRun {
	r := subtle(id)
	r.FontType = "Monospace"
	return r
}

func renderDrift(a *notifiers.Alert) []Block {
	r := &a.Report
	changes := render.BySeverity(r.Changes)
	findings := render.Findings(r.Findings)

	sum := para(bold(render.Plural(len(changes), "change")), run(" on "), code(a.Server))
	if cl := report.CountsText(changes, " · "); cl != "" {
		sum.Inlines = append(sum.Inlines, run(" — "+cl))
	}
	if len(findings) > 0 {
		sum.Inlines = append(sum.Inlines, run(" · "+render.Plural(len(findings), "lint finding")))
	}
	top := []Block{sum}
	if a.Reminder > 0 {
		top = append(top, para(run(fmt.Sprintf("Still pending since %s (reminder %d).", render.Time(a.FirstSeen), a.Reminder))))
	}
	if reason := render.DriftReason(a); reason != "" {
		top = append(top, para(run(line(reason, maxSummary)+".")))
	}
	if r.Note != "" {
		note := run(line(r.Note, maxSummary))
		note.Italic = true
		top = append(top, para(note))
	}
	body := []Block{head(a, top...)}
	if len(findings) > 0 {
		body = append(body, findingsBlock(findings))
	}

	next := []Block{para(bold("Review"), run(" with "), mono(line(render.DiffCommand(a.Server), 2*maxName)))}
	if cmd := render.ApproveCommand(a); cmd != "" {
		next = append(next, para(bold("Approve"), run(" exactly this snapshot with")), tight(mono(line(cmd, 3*maxName))))
	}
	next[0].Separator, next[0].Spacing = true, "Medium"
	tail := append(next, idsBlocks(a)...)

	// Changes fill what the head, the tail and a note on what was left out
	// leave of the budget, most severe first.
	// Fit asks in order and stops at the first that does not fit, so only
	// the changes shown (and one more) are rendered.
	var blocks []Block
	fixed := size(message(a, append(append(body, moreBlock(len(changes), a.Server)), tail...)))
	shown := render.Fit(len(changes), MaxBodyBytes-fixed, func(i int) int {
		blocks = append(blocks, changeBlock(&changes[i]))
		return size(blocks[i]) + len(",")
	})
	body = append(body, blocks[:shown]...)
	if more := len(changes) - shown; more > 0 {
		body = append(body, moreBlock(more, a.Server))
	}
	return append(body, tail...)
}

func moreBlock(n int, server string) Block {
	b := para(run("➕ " + line(render.MoreChanges(n, server), 3*maxName) + "."))
	b.Separator = true
	return b
}

func changeBlock(c *report.Change) Block {
	items := []Block{para(badge(c.Severity), run(" · "), code(c.Kind), run(" · "+entityLabel(c.Entity)+" "), code(c.Name))}
	if c.Name == "" {
		items[0].Inlines = items[0].Inlines[:len(items[0].Inlines)-1]
	}
	if c.Summary != "" {
		items = append(items, tight(run(line(c.Summary, maxSummary))))
	}
	if diff := escape.Visible(render.ChangeText(c)); strings.TrimSpace(diff) != "" {
		items = append(items, listing(render.Excerpt(diff, maxDiffLines, maxDiffBytes))...)
	}
	for i, f := range c.Findings {
		if i == maxFindingsShown {
			items = append(items, tight(run("❗ and "+render.Plural(len(c.Findings)-i, "more finding"))))
			break
		}
		p := tight(run("❗ "), badge(f.Severity), run(" "), code(f.Rule), run(": "+line(f.Message, maxMessage)))
		if f.Evidence != "" {
			p.Inlines = append(p.Inlines, run(" — "), code(f.Evidence))
		}
		items = append(items, p)
	}
	return Block{Type: "Container", Separator: true, Spacing: "Medium", Items: items}
}

func entityLabel(entity string) string {
	if entity == "" {
		return "server"
	}
	return line(entity, maxName)
}

func findingsBlock(fs []report.Finding) Block {
	items := []Block{para(bold("Lint findings on the current snapshot"))}
	for i, f := range fs {
		if i == maxServerFindings {
			items = append(items, tight(run("… and "+render.Plural(len(fs)-i, "more finding"))))
			break
		}
		p := tight(run("• "), badge(f.Severity), run(" "), code(f.Rule))
		if f.Name != "" || f.Entity != "" {
			p.Inlines = append(p.Inlines, run(" on "+line(f.Entity, maxName)+" "), code(f.Name))
		}
		p.Inlines = append(p.Inlines, run(": "+line(f.Message, maxMessage)))
		items = append(items, p)
	}
	return Block{Type: "Container", Separator: true, Spacing: "Medium", Items: items}
}

func renderUnreachable(a *notifiers.Alert) []Block {
	what := para(code(a.Server), run(" could not be probed"))
	if !a.FirstSeen.IsZero() {
		what.Inlines = append(what.Inlines, run(" since "+render.Time(a.FirstSeen)))
	}
	what.Inlines = append(what.Inlines, run("."))
	if a.Reminder > 0 {
		what.Inlines = append(what.Inlines, run(fmt.Sprintf(" Still unreachable (reminder %d).", a.Reminder)))
	}
	body := []Block{head(a, what)}
	errText := a.Reason
	if errText == "" {
		errText = a.Report.Error
	}
	if errText != "" {
		body = append(body, para(bold("Last error")))
		body = append(body, listing(render.Excerpt(escape.Visible(errText), maxErrorLines, maxErrorBytes))...)
	}
	body = append(body, para(run("Check with "), mono("mcpdrift status"), run(".")))
	return append(body, idsBlocks(a)...)
}

func renderResolved(a *notifiers.Alert) []Block {
	var what Block
	if a.Resolves == notifiers.KindUnreachable {
		what = para(code(a.Server), run(" answers probes again"))
	} else {
		what = para(run("The drift on "), code(a.Server))
		if a.Severity > severity.None {
			what.Inlines = append(what.Inlines, run(" ("), badge(a.Severity))
			if n := len(a.Report.Changes); n > 0 {
				what.Inlines = append(what.Inlines, run(", "+render.Plural(n, "change")))
			}
			what.Inlines = append(what.Inlines, run(")"))
		}
		what.Inlines = append(what.Inlines, run(" is resolved"))
	}
	if a.Reason != "" {
		what.Inlines = append(what.Inlines, run(": "+line(a.Reason, maxSummary)))
	}
	what.Inlines = append(what.Inlines, run("."))
	top := []Block{what}
	if !a.FirstSeen.IsZero() {
		top = append(top, para(run(fmt.Sprintf("Open from %s to %s.", render.Time(a.FirstSeen), render.Time(a.At)))))
	}
	return append([]Block{head(a, top...)}, idsBlocks(a)...)
}

func renderTest(a *notifiers.Alert, notifier string) []Block {
	text := para(run("This is a test message from the mcpdrift notifier "), code(notifier),
		run(". If you can read it, mcpdrift alerts reach this channel. "), bold("No action needed."))
	sent := tight(subtle("Sent " + render.Time(a.At)))
	sent.Separator, sent.Spacing = true, "Medium"
	return []Block{head(a, text), sent}
}
