// Package inventory classifies a server's tools by what their annotations
// say they may do (drift.RiskOf), with their lint findings: the data
// `inventory` prints, the daemon serves and internal/render draws. It
// answers "which tools should I keep out of unsupervised runs?".
package inventory

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// Inventory is what `inventory` prints: per server, its tools grouped by
// what their annotations say they may do (drift.RiskOf), with their lint
// findings. It answers "which tools should I keep out of unsupervised
// runs?". Keys are a public contract: add, never rename or drop.
type Inventory struct {
	Servers []Server `json:"servers"`
}

// Server is one server's tools, riskiest first.
type Server struct {
	Server string `json:"server"`
	// Snapshot is the id of the snapshot the tools come from (the latest).
	Snapshot string `json:"snapshot,omitempty"`
	// Error says why there are no tools to show (no snapshot yet).
	Error string `json:"error,omitempty"`
	Tools []Tool `json:"tools"`
	// Auth is the OAuth grant the snapshot was taken under (mode,
	// issuer, granted scopes), nil for a server without auth:.
	Auth *Auth `json:"auth,omitempty"`
}

// Auth is what mcpdrift itself may do at the server: the scopes
// its OAuth grant holds. Strings are escaped with escape.Line.
type Auth struct {
	Mode          string   `json:"mode"`
	Issuer        string   `json:"issuer"`
	GrantedScopes []string `json:"granted_scopes"`
}

// Tool is one tool.
type Tool struct {
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

// Build classifies the tools of one server's manifest and counts
// the (unsuppressed) findings on each.
func Build(server, snapshotID string, m *manifest.Manifest, findings []report.Finding) Server {
	count := map[string]int{}
	for _, f := range findings {
		if f.Entity == string(manifest.KindTool) && f.Suppressed == "" {
			count[f.Name]++
		}
	}
	s := Server{Server: server, Snapshot: snapshotID, Tools: []Tool{}}
	for _, e := range m.Entities[manifest.KindTool] {
		r := drift.RiskOf(e.JSON)
		name := escape.Line(e.Key)
		s.Tools = append(s.Tools, Tool{Name: name, Risk: r.Risk, OpenWorld: r.OpenWorld, Findings: count[name]})
	}
	slices.SortStableFunc(s.Tools, func(a, b Tool) int {
		return cmp.Or(cmp.Compare(b.Risk, a.Risk), boolFirst(a.OpenWorld, b.OpenWorld), strings.Compare(a.Name, b.Name))
	})
	var id manifest.Identity
	if len(m.Identity) > 0 && json.Unmarshal(m.Identity, &id) == nil && id.Auth != nil {
		a := &Auth{Mode: escape.Line(id.Auth.Mode), Issuer: escape.Line(id.Auth.Issuer), GrantedScopes: []string{}}
		for _, sc := range id.Auth.Granted {
			a.GrantedScopes = append(a.GrantedScopes, escape.Line(sc))
		}
		s.Auth = a
	}
	return s
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
