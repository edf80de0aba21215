package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// grantText is the OAuth line of a server in the text and markdown
// renderings.
func grantText(a *inventory.Auth) string {
	scopes := "(none)"
	if len(a.GrantedScopes) > 0 {
		scopes = strings.Join(a.GrantedScopes, " ")
	}
	return fmt.Sprintf("OAuth %s at %s, granted scopes: %s", a.Mode, a.Issuer, scopes)
}

// riskNotes explain each group in the text rendering.
var riskNotes = map[drift.Risk]string{
	drift.RiskUnannotated: "no annotations: assume the worst",
	drift.RiskDestructive: "may delete or overwrite",
	drift.RiskWrites:      "may change things, additively",
	drift.RiskReadOnly:    "changes nothing",
}

// Inventory writes an inventory as text, json or markdown.
func Inventory(w io.Writer, inv *inventory.Inventory, format string) error {
	switch format {
	case "json":
		return WriteJSON(w, inv)
	case "markdown":
		_, err := io.WriteString(w, inventoryMarkdown(inv))
		return err
	case "text":
		_, err := io.WriteString(w, inventoryText(inv))
		return err
	default:
		return fmt.Errorf("unknown inventory format %q", format)
	}
}

// groupCounts summarizes a server's tools: "2 unannotated, 3 destructive
// (2 open world), 1 read-only".
func groupCounts(tools []inventory.Tool) string {
	n, open := map[drift.Risk]int{}, map[drift.Risk]int{}
	for _, t := range tools {
		n[t.Risk]++
		if t.OpenWorld && t.Risk != drift.RiskUnannotated {
			open[t.Risk]++
		}
	}
	var parts []string
	for r := drift.RiskUnannotated; r >= drift.RiskReadOnly; r-- {
		switch {
		case open[r] > 0:
			parts = append(parts, fmt.Sprintf("%d %s (%d open world)", n[r], r, open[r]))
		case n[r] > 0:
			parts = append(parts, fmt.Sprintf("%d %s", n[r], r))
		}
	}
	return strings.Join(parts, ", ")
}

func findingsNote(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "1 finding"
	}
	return fmt.Sprintf("%d findings", n)
}

func inventoryText(inv *inventory.Inventory) string {
	var b strings.Builder
	for i, s := range inv.Servers {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s", line(s.Server))
		if s.Snapshot != "" {
			fmt.Fprintf(&b, "  snapshot %s", report.ShortID(s.Snapshot))
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "\n  error: %s\n", line(s.Error))
			continue
		}
		fmt.Fprintf(&b, "  %d tools", len(s.Tools))
		if c := groupCounts(s.Tools); c != "" {
			fmt.Fprintf(&b, ": %s", c)
		}
		b.WriteByte('\n')
		if s.Auth != nil {
			fmt.Fprintf(&b, "  %s\n", grantText(s.Auth))
		}
		width := 0
		for _, t := range s.Tools {
			width = max(width, len(escape.Truncate(t.Name, 60)))
		}
		last := drift.Risk(-1)
		for _, t := range s.Tools {
			if t.Risk != last {
				fmt.Fprintf(&b, "  %s (%s)\n", t.Risk, riskNotes[t.Risk])
				last = t.Risk
			}
			var notes []string
			if t.OpenWorld && t.Risk != drift.RiskUnannotated {
				notes = append(notes, "open world")
			}
			if f := findingsNote(t.Findings); f != "" {
				notes = append(notes, f)
			}
			name := escape.Truncate(t.Name, 60)
			if len(notes) == 0 {
				fmt.Fprintf(&b, "    %s\n", name)
				continue
			}
			fmt.Fprintf(&b, "    %-*s  %s\n", width, name, strings.Join(notes, ", "))
		}
	}
	return b.String()
}

func inventoryMarkdown(inv *inventory.Inventory) string {
	var b strings.Builder
	b.WriteString("# Tool permission inventory\n")
	for _, s := range inv.Servers {
		fmt.Fprintf(&b, "\n## %s\n\n", md(s.Server))
		if s.Error != "" {
			fmt.Fprintf(&b, "**error:** %s\n", md(s.Error))
			continue
		}
		fmt.Fprintf(&b, "Snapshot `%s`: %d tools", report.ShortID(s.Snapshot), len(s.Tools))
		if c := groupCounts(s.Tools); c != "" {
			fmt.Fprintf(&b, " (%s)", c)
		}
		if s.Auth != nil {
			fmt.Fprintf(&b, "\n\n%s", md(grantText(s.Auth)))
		}
		b.WriteString("\n\n| tool | risk | open world | findings |\n|---|---|---|---|\n")
		for _, t := range s.Tools {
			risk := t.Risk.String()
			if t.Risk >= drift.RiskDestructive {
				risk = "**" + risk + "**"
			}
			ow := "no"
			if t.OpenWorld {
				ow = "yes"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %d |\n", md(t.Name), risk, ow, t.Findings)
		}
	}
	return b.String()
}
