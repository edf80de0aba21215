// Package render draws check, diff, status and inventory results (package
// report's types) for people and CI: text, markdown, JSON, SARIF and JUnit.
// The JSON is the contract docs/report.md describes. Everything a server
// sent is escaped before it is rendered; render does no I/O beyond writing
// to the writer it is given. It depends on the result types only, never on
// the pipeline that produced them.
package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Options tune the text rendering.
type Options struct {
	// Color enables ANSI colour (only ever for a terminal).
	Color bool
	// Now is used for ages ("2h ago"); time.Now when zero.
	Now time.Time
	// Summary renders text as a summary that fits a screen (see
	// renderSummary) instead of every change in full.
	Summary bool
	// Full shows the whole definition of added and removed entities in
	// text; by default they are one line each.
	Full bool
}

// Report writes the report in format: text, json, markdown, sarif or junit.
// sarif and junit take their defaults here (no artifact location, failures
// at low); call WriteSARIF or WriteJUnit to set them.
func Report(w io.Writer, r *report.Report, format string, o Options) error {
	switch format {
	case "json":
		return WriteJSON(w, r)
	case "markdown":
		return renderMarkdown(w, r)
	case "sarif":
		return WriteSARIF(w, r, SARIFOptions{})
	case "junit":
		return WriteJUnit(w, r, JUnitOptions{FailOn: severity.Low})
	case "text":
		if o.Summary {
			return renderSummary(w, r, o)
		}
		return renderText(w, r, o)
	default:
		return fmt.Errorf("unknown report format %q", format)
	}
}

// WriteJSON writes v as indented JSON with HTML-sensitive characters
// escaped.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Hostile text stays inert in JSON too: <, > and & are escaped, so a
	// report pasted into HTML cannot inject markup.
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

func age(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	default:
		return fmt.Sprintf("%dd ago", int(d.Hours()/24))
	}
}

// line makes server-controlled or error text safe for one terminal line.
func line(s string) string { return escape.Line(s) }

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

var sevColor = map[severity.Level]string{
	severity.Info:     "\x1b[2m",
	severity.Low:      "\x1b[36m",
	severity.Medium:   "\x1b[33m",
	severity.High:     "\x1b[31m",
	severity.Critical: "\x1b[1;37;41m",
}

var statusColor = map[string]string{
	report.StatusOK:         "\x1b[32m",
	report.StatusBaselined:  "\x1b[32m",
	report.StatusDrift:      "\x1b[31m",
	report.StatusUnapproved: "\x1b[33m",
	report.StatusError:      "\x1b[35m",
}

type painter struct{ on bool }

func (p painter) paint(code, s string) string {
	if !p.on || code == "" {
		return s
	}
	return code + s + ansiReset
}

func (p painter) badge(l severity.Level) string {
	return p.paint(sevColor[l], "["+strings.ToUpper(l.String())+"]")
}

func renderText(w io.Writer, r *report.Report, o Options) error {
	return renderServers(w, r, o, func(b *strings.Builder, s *report.Server, p painter, now time.Time) {
		writeServerText(b, s, p, now, o.Full)
	})
}

// renderServers writes each server with write, then the one-line total
// ("3 servers: 1 drift, 2 ok"): the frame of the text and the summary.
func renderServers(w io.Writer, r *report.Report, o Options, write func(*strings.Builder, *report.Server, painter, time.Time)) error {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	p := painter{on: o.Color}
	var b strings.Builder
	counts := map[string]int{}
	for i := range r.Servers {
		s := &r.Servers[i]
		counts[s.Status]++
		write(&b, s, p, now)
	}
	var total []string
	for _, st := range []string{report.StatusDrift, report.StatusUnapproved, report.StatusError, report.StatusBaselined, report.StatusOK} {
		if n := counts[st]; n > 0 {
			total = append(total, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(&b, "%d servers: %s\n", len(r.Servers), strings.Join(total, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

func writeServerHeader(b *strings.Builder, s *report.Server, p painter, now time.Time) {
	fmt.Fprintf(b, "%s %s", p.paint(ansiBold, line(s.Server)), p.paint(statusColor[s.Status], s.StatusText()))
	if s.Severity > severity.None {
		fmt.Fprintf(b, " %s", p.badge(s.Severity))
	}
	if len(s.Changes) > 0 {
		fmt.Fprintf(b, " %d changes", len(s.Changes))
	}
	if s.Snapshot != nil {
		fmt.Fprintf(b, "  snapshot %s", report.ShortID(s.Snapshot.ID))
	}
	if s.Baseline != nil {
		fmt.Fprintf(b, "  baseline %s (%s, %s)", report.ShortID(s.Baseline.ID), line(s.Baseline.ApprovedBy), age(s.Baseline.ApprovedAt, now))
	}
	b.WriteByte('\n')
	if s.Error != "" {
		fmt.Fprintf(b, "  error: %s\n", line(s.Error))
	}
	if s.Note != "" {
		fmt.Fprintf(b, "  %s\n", p.paint(ansiDim, line(s.Note)))
	}
}

func writeServerText(b *strings.Builder, s *report.Server, p painter, now time.Time, full bool) {
	writeServerHeader(b, s, p, now)
	// Changes come riskiest first (report.SortByRisk), so they are not grouped
	// by entity: each line names its entity instead.
	folded := 0
	for _, c := range s.Changes {
		fmt.Fprintf(b, "  %s %s  %s\n", p.badge(c.Severity), changeName(&c), line(c.Summary))
		if c.Diff != "" {
			if !full && WholeEntity(&c) {
				folded++
			} else {
				for _, l := range strings.Split(strings.TrimRight(escape.Visible(c.Diff), "\n"), "\n") {
					fmt.Fprintf(b, "      %s\n", l)
				}
			}
		}
		for _, f := range c.Findings {
			fmt.Fprintf(b, "      ! %s %s: %s (%s)\n", p.badge(f.Severity), f.Rule, line(f.Message), line(f.Evidence))
		}
	}
	if folded > 0 {
		fmt.Fprintf(b, "  %s\n", p.paint(ansiDim, fmt.Sprintf("(%s shown on one line: --full shows their definitions)", plural2(folded, "added or removed entity", "added or removed entities"))))
	}
	for _, f := range s.Findings {
		sup := ""
		if f.Suppressed != "" {
			sup = " (suppressed: " + line(f.Suppressed) + ")"
		} else if f.Acknowledged != "" {
			sup = " (acknowledged: " + line(f.Acknowledged) + ")"
		}
		fmt.Fprintf(b, "  ! %s %s %s: %s%s\n", p.badge(f.Severity), line(f.Entity+" "+f.Name), f.Rule, line(f.Message), sup)
	}
}

// MarkdownLimit is the most characters a GitHub pull-request comment or
// body holds; the markdown report always stays below it.
const MarkdownLimit = 65536

// Markdown budgets, in bytes (never fewer than characters): changes are
// shown in full, riskiest first, until markdownFull; the rest one line each
// inside <details> until markdownBudget, which leaves room for the closing
// lines; each diff is cut at markdownDiff.
const (
	markdownFull   = 40000
	markdownBudget = MarkdownLimit - 4096
	markdownDiff   = 8000
)

func renderMarkdown(w io.Writer, r *report.Report) error {
	var b strings.Builder
	b.WriteString("# mcpdrift report\n\n| server | status | severity | changes | snapshot | baseline |\n|---|---|---|---|---|---|\n")
	for _, s := range r.Servers {
		snap, base := "", ""
		if s.Snapshot != nil {
			snap = "`" + report.ShortID(s.Snapshot.ID) + "`"
		}
		if s.Baseline != nil {
			base = "`" + report.ShortID(s.Baseline.ID) + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s |\n", md(s.Server), s.StatusText(), s.Severity, len(s.Changes), snap, base)
	}
	for _, s := range r.Servers {
		if len(s.Changes) == 0 && s.Error == "" && len(s.Findings) == 0 {
			continue
		}
		writeServerMarkdown(&b, &s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeServerMarkdown writes one server's section within the document's
// budget: the riskiest changes with their diffs, the rest folded, and a
// pointer to `mcpdrift diff` for what did not fit.
func writeServerMarkdown(b *strings.Builder, s *report.Server) {
	fmt.Fprintf(b, "\n## %s\n\n", md(s.Server))
	if s.Error != "" {
		fmt.Fprintf(b, "**error:** %s\n\n", md(escape.Truncate(s.Error, markdownDiff)))
	}
	var folded []string
	for _, c := range s.Changes {
		item := fmt.Sprintf("- **%s** `%s` %s: %s\n", c.Severity, c.Kind, md(c.Name), md(c.Summary))
		full := item
		if c.Diff != "" {
			d := escape.Visible(c.Diff)
			if len(d) > markdownDiff {
				d = escape.Truncate(d, markdownDiff) + "\n… (diff cut: run mcpdrift diff " + escape.ShellWord(s.Server) + ")"
			}
			f := fence(d)
			full += fmt.Sprintf("\n  %sdiff\n%s\n  %s\n", f, indent(d, "  "), f)
		}
		if len(folded) == 0 && b.Len()+len(full) <= markdownFull {
			b.WriteString(full)
			continue
		}
		folded = append(folded, item)
	}
	for _, f := range s.Findings {
		it := fmt.Sprintf("- finding **%s** `%s` on %s %s: %s\n", f.Severity, f.Rule, f.Entity, md(f.Name), md(f.Message))
		if len(folded) == 0 && b.Len()+len(it) <= markdownFull {
			b.WriteString(it)
			continue
		}
		folded = append(folded, it)
	}
	if len(folded) == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details><summary>%d more (one line each)</summary>\n\n", len(folded))
	for i, it := range folded {
		if b.Len()+len(it) > markdownBudget {
			fmt.Fprintf(b, "- … and %d more not shown: run `mcpdrift diff %s`\n", len(folded)-i, strings.ReplaceAll(escape.ShellWord(s.Server), "`", "'"))
			break
		}
		b.WriteString(it)
	}
	b.WriteString("\n</details>\n")
}

// md escapes text for a markdown table cell or list item: no markup, no
// links, no HTML, one line.
func md(s string) string {
	s = line(s)
	r := strings.NewReplacer(
		`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
		"<", "&lt;", ">", "&gt;", "|", `\|`, "#", `\#`, "!", `\!`, "@", "&#64;",
	)
	return r.Replace(s)
}

// fence returns a backtick fence longer than any backtick run in s, so
// server text can never close the code block it is shown in.
func fence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

func indent(s, pre string) string {
	return pre + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pre)
}

// ShowName makes a server or entity name safe for one terminal line.
func ShowName(s string) string { return line(s) }

// plural names an entity group: "tools", "resource templates".
func plural(entity string) string {
	if entity == "server" {
		return "server"
	}
	return strings.ReplaceAll(entity, "_", " ") + "s"
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// changeName is how a change names what it is about on one line: "tool
// get-sum", "resource template test://{id}", or the kind for server fields.
func changeName(c *report.Change) string {
	if c.Name == "" {
		return c.Kind
	}
	return strings.ReplaceAll(c.Entity, "_", " ") + " " + line(c.Name)
}

// WholeEntity reports an entity added or removed as a whole, whose diff is
// its entire definition: summaries show it on one line.
func WholeEntity(c *report.Change) bool {
	return c.Path == "" && (strings.HasSuffix(c.Kind, ".added") || strings.HasSuffix(c.Kind, ".removed"))
}
