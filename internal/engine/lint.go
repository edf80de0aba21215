package engine

import (
	"crypto/sha256"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/lint"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// PeersFunc returns the index of the tools of every configured server
// (from their latest snapshots), for the cross-server shadowing and
// confusable-name rules. Every server's check asks for it, so it must not
// build a new index per call (see StorePeers).
type PeersFunc func() *lint.Peers

// lintContext is what the rules know beyond the text: the other tools of
// all configured servers and this server's baseline tool names, prepared
// once for every lint of this server's check.
func (e *Engine) lintContext(s *config.Server, base *manifest.Manifest) lint.Context {
	ctx := lint.Context{Server: s.Name}
	if e.Peers != nil {
		ctx.Peers = e.Peers()
	}
	if base != nil {
		for _, t := range base.Entities[manifest.KindTool] {
			ctx.BaselineNames = append(ctx.BaselineNames, t.Key)
		}
	}
	return lint.Prepare(ctx)
}

// lintCache remembers one server's last lint result: an unchanged snapshot
// in an unchanged context has the same findings, so the steady state of a
// daemon lints nothing.
type lintCache struct {
	key      [32]byte
	findings []report.Finding
}

func lintKey(snapID string, ctx lint.Context) [32]byte {
	h := sha256.New()
	h.Write([]byte(snapID))
	h.Write([]byte{0})
	h.Write([]byte(ctx.Server))
	if ctx.Peers != nil {
		// The index's digest stands for its tools: hashing them per
		// server would make a cycle quadratic again.
		d := ctx.Peers.Digest()
		h.Write([]byte{3})
		h.Write(d[:])
	}
	for _, t := range ctx.OtherTools {
		h.Write([]byte{0})
		h.Write([]byte(t.Server))
		h.Write([]byte{1})
		h.Write([]byte(t.Name))
	}
	h.Write([]byte{2})
	for _, n := range ctx.BaselineNames {
		h.Write([]byte(n))
		h.Write([]byte{0})
	}
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// cachedFindings is findings with the server's lint cache; snapID is m's
// id, which the caller already has.
func (e *Engine) cachedFindings(m *manifest.Manifest, snapID string, s *config.Server, ctx lint.Context) []report.Finding {
	key := lintKey(snapID, ctx)
	e.mu.Lock()
	c, ok := e.lints[s.Name]
	e.mu.Unlock()
	if ok && c.key == key {
		return suppress(c.findings, s)
	}
	fs, ok := e.storedFindings(s.Name, key)
	if !ok {
		fs = lint.Manifest(m, ctx)
		e.storeFindings(s.Name, key, fs)
	}
	e.mu.Lock()
	if e.lints == nil {
		e.lints = map[string]lintCache{}
	}
	e.lints[s.Name] = lintCache{key: key, findings: fs}
	e.mu.Unlock()
	return suppress(fs, s)
}

func suppress(fs []report.Finding, s *config.Server) []report.Finding {
	out := slices.Clone(fs) // the cache keeps fs as lint returned it
	for i := range out {
		out[i].Suppressed = suppressed(s, out[i].Rule, out[i].Entity, out[i].Name)
	}
	if out == nil {
		out = []report.Finding{}
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

// acknowledge marks the snapshot's findings that the approved baseline
// already had: approving a manifest accepts what it carried, so check does
// not fail on them until someone writes a suppress entry, while a new
// finding (another rule, entity or text) still fails. A finding is the
// same when its entity, name, path, rule and message are. The baseline's
// lint is cached like the snapshot's (one entry per server), so a steady
// daemon lints nothing.
func (e *Engine) acknowledge(fs []report.Finding, baseM *manifest.Manifest, base report.Baseline, snapID string, s *config.Server, ctx lint.Context) {
	why := "in the baseline " + report.ShortID(base.ID) + " approved by " + base.ApprovedBy
	var known map[string]bool
	if base.ID != snapID {
		key := lintKey(base.ID, ctx)
		cacheKey := s.Name + "\x00baseline"
		e.mu.Lock()
		c, ok := e.lints[cacheKey]
		e.mu.Unlock()
		if !ok || c.key != key {
			c = lintCache{key: key, findings: lint.Manifest(baseM, ctx)}
			e.mu.Lock()
			if e.lints == nil {
				e.lints = map[string]lintCache{}
			}
			e.lints[cacheKey] = c
			e.mu.Unlock()
		}
		known = findingKeys(c.findings)
	}
	markKnown(fs, known, why)
}

func findingKeys(fs []report.Finding) map[string]bool {
	known := make(map[string]bool, len(fs))
	for _, f := range fs {
		known[findingKey(f.Entity, f.Name, f.Path, f.Rule, f.Message)] = true
	}
	return known
}

// markKnown acknowledges the unsuppressed findings in known (all of them
// when known is nil: the snapshot is the baseline) with why.
func markKnown(fs []report.Finding, known map[string]bool, why string) {
	for i := range fs {
		f := &fs[i]
		if f.Suppressed != "" {
			continue
		}
		if known == nil || known[findingKey(f.Entity, f.Name, f.Path, f.Rule, f.Message)] {
			f.Acknowledged = why
		}
	}
}

func findingKey(parts ...string) string { return strings.Join(parts, "\x00") }

// lintHook is the drift policy's hook: findings on a change's new text,
// without the suppressed ones, so a suppressed rule never raises a change.
func lintHook(s *config.Server, ctx lint.Context) func(entity, name, text string) []report.Finding {
	ctx = lint.Prepare(ctx) // once, not per changed field
	return func(entity, name, text string) []report.Finding {
		return slices.DeleteFunc(lint.Text(entity, name, "", text, ctx), func(f report.Finding) bool {
			return suppressed(s, f.Rule, f.Entity, f.Name) != ""
		})
	}
}

// peersTTL is how long a computed peer index is reused. Every server's
// check asks for it, so without reuse a cycle over n servers would read the
// store n*n times; a few seconds of staleness only delays a cross-server
// finding.
const peersTTL = 2 * time.Second

// StorePeers returns a PeersFunc indexing the tools of the latest snapshot
// of each named server. Parsed tool names are cached by snapshot id, the
// latest snapshots are looked up at most once per peersTTL, and the index
// is built again only when one of them changed: a cycle costs one small
// read per server, a steady daemon builds nothing, and every server of a
// cycle shares one index.
func StorePeers(st Store, servers []string) PeersFunc {
	var mu sync.Mutex
	cache := map[string][]string{} // snapshot id -> tool names
	var last *lint.Peers
	var lastIDs []string // latest snapshot id per server ("" for none) behind last
	var lastAt time.Time
	return func() *lint.Peers {
		mu.Lock()
		defer mu.Unlock()
		if last != nil && time.Since(lastAt) < peersTTL {
			return last
		}
		defer func() { lastAt = time.Now() }()
		ids := make([]string, len(servers))
		for i, name := range servers {
			if o, err := st.LatestSnapshot(name); err == nil {
				ids[i] = o.SnapshotID
			}
		}
		if last != nil && slices.Equal(ids, lastIDs) {
			return last
		}
		var out []lint.ToolRef
		live := map[string]bool{}
		for i, name := range servers {
			if ids[i] == "" {
				continue
			}
			live[ids[i]] = true
			tools, ok := cache[ids[i]]
			if !ok {
				doc, err := st.Manifest(ids[i])
				if err != nil {
					continue
				}
				// Names only: parsing whole documents here was a
				// quarter of a fresh check over 1,000 servers.
				if tools, err = manifest.ToolNames(doc); err != nil {
					continue
				}
				cache[ids[i]] = tools
			}
			for _, t := range tools {
				out = append(out, lint.ToolRef{Server: name, Name: t})
			}
		}
		// Names of snapshots no server points at any more are dropped, so
		// the cache stays the size of the current data.
		for id := range cache {
			if !live[id] {
				delete(cache, id)
			}
		}
		last, lastIDs = lint.NewPeers(out), ids
		return last
	}
}
