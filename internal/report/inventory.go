package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// Inventory is what `inventory` prints: per server, its tools grouped by
// what their annotations say they may do (drift.RiskOf), with their lint
// findings. It answers "which tools should I keep out of unsupervised
// runs?". Keys are a public contract: add, never rename or drop.
type Inventory struct {
	Servers []InventoryServer `json:"servers"`
}

// InventoryServer is one server's tools, riskiest first.
type InventoryServer struct {
	Server string `json:"server"`
	// Snapshot is the id of the snapshot the tools come from (the latest).
	Snapshot string `json:"snapshot,omitempty"`
	// Error says why there are no tools to show (no snapshot yet).
	Error string          `json:"error,omitempty"`
	Tools []InventoryTool `json:"tools"`
	// Auth is the OAuth grant the snapshot was taken under (mode,
	// issuer, granted scopes), nil for a server without auth:.
	Auth *InventoryAuth `json:"auth,omitempty"`
}

// InventoryAuth is what mcpdrift itself may do at the server: the scopes
// its OAuth grant holds. Strings are escaped with escape.Line.
type InventoryAuth struct {
	Mode          string   `json:"mode"`
	Issuer        string   `json:"issuer"`
	GrantedScopes []string `json:"granted_scopes"`
}

// InventoryTool is one tool.
type InventoryTool struct {
	// Name is the tool name, escaped with escape.Line.
	Name string `json:"name"`
	// Risk is what the tool may do: read-only, writes, destructive or
	// unannotated ("open-world" was a risk before; it is the OpenWorld
	// flag now).
	Risk drift.Risk `json:"risk"`
	// OpenWorld is the effective openWorldHint (true unless said
	// otherwise): the tool reaches outside the server, whatever its risk.
	OpenWorld bool `json:"open_world"`
	// Findings counts the unsuppressed lint findings on the tool.
	Findings int `json:"findings"`
}

// BuildInventory classifies the tools of one server's manifest and counts
// the (unsuppressed) findings on each.
func BuildInventory(server, snapshotID string, m *manifest.Manifest, findings []Finding) InventoryServer {
	count := map[string]int{}
	for _, f := range findings {
		if f.Entity == string(manifest.KindTool) && f.Suppressed == "" {
			count[f.Name]++
		}
	}
	s := InventoryServer{Server: server, Snapshot: snapshotID, Tools: []InventoryTool{}}
	for _, e := range m.Entities[manifest.KindTool] {
		r := drift.RiskOf(e.JSON)
		name := escape.Line(e.Key)
		s.Tools = append(s.Tools, InventoryTool{Name: name, Risk: r.Risk, OpenWorld: r.OpenWorld, Findings: count[name]})
	}
	slices.SortStableFunc(s.Tools, func(a, b InventoryTool) int {
		return cmp.Or(cmp.Compare(b.Risk, a.Risk), boolFirst(a.OpenWorld, b.OpenWorld), strings.Compare(a.Name, b.Name))
	})
	var id manifest.Identity
	if len(m.Identity) > 0 && json.Unmarshal(m.Identity, &id) == nil && id.Auth != nil {
		a := &InventoryAuth{Mode: escape.Line(id.Auth.Mode), Issuer: escape.Line(id.Auth.Issuer), GrantedScopes: []string{}}
		for _, sc := range id.Auth.Granted {
			a.GrantedScopes = append(a.GrantedScopes, escape.Line(sc))
		}
		s.Auth = a
	}
	return s
}

// grantText is the OAuth line of a server in the text and markdown
// renderings.
func grantText(a *InventoryAuth) string {
	scopes := "(none)"
	if len(a.GrantedScopes) > 0 {
		scopes = strings.Join(a.GrantedScopes, " ")
	}
	return fmt.Sprintf("OAuth %s at %s, granted scopes: %s", a.Mode, a.Issuer, scopes)
}

// boolFirst orders true before false.
func boolFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

// riskNotes explain each group in the text rendering.
var riskNotes = map[drift.Risk]string{
	drift.RiskUnannotated: "no annotations: assume the worst",
	drift.RiskDestructive: "may delete or overwrite",
	drift.RiskWrites:      "may change things, additively",
	drift.RiskReadOnly:    "changes nothing",
}

// RenderInventory writes an inventory as text, json or markdown.
func RenderInventory(w io.Writer, inv *Inventory, format string) error {
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
func groupCounts(tools []InventoryTool) string {
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

func inventoryText(inv *Inventory) string {
	var b strings.Builder
	for i, s := range inv.Servers {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s", line(s.Server))
		if s.Snapshot != "" {
			fmt.Fprintf(&b, "  snapshot %s", ShortID(s.Snapshot))
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

func inventoryMarkdown(inv *Inventory) string {
	var b strings.Builder
	b.WriteString("# Tool permission inventory\n")
	for _, s := range inv.Servers {
		fmt.Fprintf(&b, "\n## %s\n\n", md(s.Server))
		if s.Error != "" {
			fmt.Fprintf(&b, "**error:** %s\n", md(s.Error))
			continue
		}
		fmt.Fprintf(&b, "Snapshot `%s`: %d tools", ShortID(s.Snapshot), len(s.Tools))
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
