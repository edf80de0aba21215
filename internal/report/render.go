package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Options tune the text rendering.
type Options struct {
	// Color enables ANSI colour (only ever for a terminal).
	Color bool
	// Now is used for ages ("2h ago"); time.Now when zero.
	Now time.Time
}

// Render writes the report in format: text, json, markdown, sarif or junit.
// sarif and junit take their defaults here (no artifact location, failures
// at low); call WriteSARIF or WriteJUnit to set them.
func Render(w io.Writer, r *Report, format string, o Options) error {
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

// ShortID shortens a sha256 id for people: "sha256:0123456789ab".
func ShortID(id string) string {
	if len(id) > len("sha256:")+12 {
		return id[:len("sha256:")+12]
	}
	return id
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
	StatusOK:         "\x1b[32m",
	StatusBaselined:  "\x1b[32m",
	StatusDrift:      "\x1b[31m",
	StatusUnapproved: "\x1b[33m",
	StatusError:      "\x1b[35m",
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

func renderText(w io.Writer, r *Report, o Options) error {
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
		writeServerText(&b, s, p, now)
	}
	var total []string
	for _, st := range []string{StatusDrift, StatusUnapproved, StatusError, StatusBaselined, StatusOK} {
		if n := counts[st]; n > 0 {
			total = append(total, fmt.Sprintf("%d %s", n, st))
		}
	}
	fmt.Fprintf(&b, "%d servers: %s\n", len(r.Servers), strings.Join(total, ", "))
	_, err := io.WriteString(w, b.String())
	return err
}

func writeServerText(b *strings.Builder, s *Server, p painter, now time.Time) {
	fmt.Fprintf(b, "%s %s", p.paint(ansiBold, line(s.Server)), p.paint(statusColor[s.Status], s.Status))
	if s.Severity > severity.None {
		fmt.Fprintf(b, " %s", p.badge(s.Severity))
	}
	if len(s.Changes) > 0 {
		fmt.Fprintf(b, " %d changes", len(s.Changes))
	}
	if s.Snapshot != nil {
		fmt.Fprintf(b, "  snapshot %s", ShortID(s.Snapshot.ID))
	}
	if s.Baseline != nil {
		fmt.Fprintf(b, "  baseline %s (%s, %s)", ShortID(s.Baseline.ID), line(s.Baseline.ApprovedBy), age(s.Baseline.ApprovedAt, now))
	}
	b.WriteByte('\n')
	if s.Error != "" {
		fmt.Fprintf(b, "  error: %s\n", line(s.Error))
	}
	if s.Note != "" {
		fmt.Fprintf(b, "  %s\n", p.paint(ansiDim, line(s.Note)))
	}
	lastEntity := ""
	for _, c := range s.Changes {
		if c.Entity != lastEntity {
			fmt.Fprintf(b, "  %s\n", plural(c.Entity))
			lastEntity = c.Entity
		}
		name := line(c.Name)
		if name == "" {
			name = c.Kind
		}
		fmt.Fprintf(b, "    %s %s  %s\n", p.badge(c.Severity), name, line(c.Summary))
		if c.Diff != "" {
			for _, l := range strings.Split(strings.TrimRight(escape.Visible(c.Diff), "\n"), "\n") {
				fmt.Fprintf(b, "        %s\n", l)
			}
		}
		for _, f := range c.Findings {
			fmt.Fprintf(b, "        ! %s %s: %s (%s)\n", p.badge(f.Severity), f.Rule, line(f.Message), line(f.Evidence))
		}
	}
	for _, f := range s.Findings {
		sup := ""
		if f.Suppressed != "" {
			sup = " (suppressed: " + line(f.Suppressed) + ")"
		}
		fmt.Fprintf(b, "  ! %s %s %s: %s%s\n", p.badge(f.Severity), line(f.Entity+" "+f.Name), f.Rule, line(f.Message), sup)
	}
}

func renderMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	b.WriteString("# mcpdrift report\n\n| server | status | severity | changes | snapshot | baseline |\n|---|---|---|---|---|---|\n")
	for _, s := range r.Servers {
		snap, base := "", ""
		if s.Snapshot != nil {
			snap = "`" + ShortID(s.Snapshot.ID) + "`"
		}
		if s.Baseline != nil {
			base = "`" + ShortID(s.Baseline.ID) + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %s | %s |\n", md(s.Server), s.Status, s.Severity, len(s.Changes), snap, base)
	}
	for _, s := range r.Servers {
		if len(s.Changes) == 0 && s.Error == "" && len(s.Findings) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s\n\n", md(s.Server))
		if s.Error != "" {
			fmt.Fprintf(&b, "**error:** %s\n\n", md(s.Error))
		}
		for _, c := range s.Changes {
			fmt.Fprintf(&b, "- **%s** `%s` %s: %s\n", c.Severity, c.Kind, md(c.Name), md(c.Summary))
			if c.Diff != "" {
				d := escape.Visible(c.Diff)
				f := fence(d)
				fmt.Fprintf(&b, "\n  %sdiff\n%s\n  %s\n", f, indent(d, "  "), f)
			}
		}
		for _, f := range s.Findings {
			fmt.Fprintf(&b, "- finding **%s** `%s` on %s %s: %s\n", f.Severity, f.Rule, f.Entity, md(f.Name), md(f.Message))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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

// plural names an entity group in the text report.
func plural(entity string) string {
	if entity == "server" {
		return "server"
	}
	return strings.ReplaceAll(entity, "_", " ") + "s"
}
