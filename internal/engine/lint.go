package engine

import (
	"path"
	"sync"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/lint"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// PeersFunc lists the tools of every configured server (from their latest
// snapshots), for the cross-server shadowing and confusable-name rules.
type PeersFunc func() []lint.ToolRef

// lintContext is what the rules know beyond the text: the other tools of
// all configured servers and this server's baseline tool names.
func (e *Engine) lintContext(s *config.Server, base *manifest.Manifest) lint.Context {
	ctx := lint.Context{Server: s.Name}
	if e.Peers != nil {
		ctx.OtherTools = e.Peers()
	}
	if base != nil {
		for _, t := range base.Entities[manifest.KindTool] {
			ctx.BaselineNames = append(ctx.BaselineNames, t.Key)
		}
	}
	return ctx
}

// findings lints a whole manifest and marks the findings the server's
// config suppresses (never dropped: a suppression is reported with its
// reason).
func findings(m *manifest.Manifest, s *config.Server, ctx lint.Context) []report.Finding {
	fs := lint.Manifest(m, ctx)
	out := make([]report.Finding, 0, len(fs))
	for _, f := range fs {
		out = append(out, report.Finding{
			Entity: f.Entity, Name: f.Name, Path: f.Path, Rule: f.Rule, Severity: f.Severity,
			Message: f.Message, Evidence: f.Evidence, Suppressed: suppressed(s, f.Rule, f.Entity, f.Name),
		})
	}
	return out
}

// suppressed returns the reason of the first suppression matching a
// finding, or "". Entity and name are optional in a rule; name is a glob.
func suppressed(s *config.Server, rule, entity, name string) string {
	for _, sup := range s.Suppress {
		if sup.Rule != rule && sup.Rule != "*" {
			continue
		}
		if sup.Entity != "" && sup.Entity != entity {
			continue
		}
		if sup.Name != "" {
			if ok, err := path.Match(sup.Name, name); err != nil || !ok {
				continue
			}
		}
		return sup.Reason
	}
	return ""
}

// lintHook is the drift policy's hook: findings on a change's new text,
// without the suppressed ones, so a suppressed rule never raises a change.
func lintHook(s *config.Server, ctx lint.Context) func(entity, name, text string) []drift.Finding {
	return func(entity, name, text string) []drift.Finding {
		var out []drift.Finding
		for _, f := range lint.Text(entity, name, "", text, ctx) {
			if suppressed(s, f.Rule, f.Entity, f.Name) != "" {
				continue
			}
			out = append(out, drift.Finding{Rule: f.Rule, Severity: f.Severity, Message: f.Message, Evidence: f.Evidence})
		}
		return out
	}
}

// StorePeers returns a PeersFunc listing the tools of the latest snapshot
// of each named server. Parsed tool names are cached by snapshot id, so an
// unchanged fleet costs one small read per server.
func StorePeers(st Store, servers []string) PeersFunc {
	var mu sync.Mutex
	cache := map[string][]string{} // snapshot id -> tool names
	return func() []lint.ToolRef {
		mu.Lock()
		defer mu.Unlock()
		var out []lint.ToolRef
		for _, name := range servers {
			o, err := st.LatestSnapshot(name)
			if err != nil {
				continue
			}
			tools, ok := cache[o.SnapshotID]
			if !ok {
				doc, err := st.Manifest(o.SnapshotID)
				if err != nil {
					continue
				}
				m, err := manifest.Parse(doc)
				if err != nil {
					continue
				}
				for _, t := range m.Entities[manifest.KindTool] {
					tools = append(tools, t.Key)
				}
				cache[o.SnapshotID] = tools
			}
			for _, t := range tools {
				out = append(out, lint.ToolRef{Server: name, Name: t})
			}
		}
		return out
	}
}

// Lint returns the findings on a whole snapshot under the server's
// suppressions, with base (may be nil) as the baseline for the
// confusable-name rule. Used where no store is at hand (check --lock).
func Lint(snap, base *manifest.Manifest, s *config.Server) []report.Finding {
	return findings(snap, s, (&Engine{}).lintContext(s, base))
}
