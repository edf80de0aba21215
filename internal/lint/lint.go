// Package lint finds tool poisoning in MCP manifests: text aimed at the
// model rather than the user (hidden or imperative instructions, forged
// system prompts, concealment), pointers to secrets and exfiltration
// channels, references that shadow other servers' tools, invisible and
// deceptive characters, confusable tool names and encoded payloads.
//
// Every string of every entity is checked: names, titles, descriptions,
// every string in input and output schemas (property names, descriptions,
// titles, defaults, enums, examples, nested and $defs schemas), prompts and
// their arguments, resources, resource templates and the server's
// instructions. Character rules run on the raw text. Phrase rules run on a
// normalized form (compatibility-decomposed, marks and invisible characters
// removed, look-alike letters mapped to Latin inside Latin words, case
// folded, whitespace collapsed, letter-spaced words joined: see normalize),
// so spacing, case, homoglyphs and zero-width splits do not hide a phrase;
// a second pass reads leetspeak and split words (see deobfuscate), and
// encoded runs are decoded and linted (see payloads). Instructions are also
// recognised by structure (see covertDirective), and the highest-signal
// rules have phrases in seven other languages (see multilingualPhrases).
// Rules describe general patterns of attack, never strings of one example;
// the labelled corpus under testdata measures them (see corpus_test.go and
// Measured).
//
// Findings are deterministic: the same manifest and context always give the
// same findings in the same order. Messages and evidence are escaped
// (package escape), so they are safe to show; Offset locates the match in
// the raw text as a rune index.
//
// Use: Manifest lints a whole snapshot (the report's server-level
// findings); Text lints one changed field and fits drift.Policy.Lint (pass
// path "" for the collected text of a whole entity). Rules lists the rules
// and MarkdownTable renders them for the docs. Within one string a rule
// reports once, at its most severe match; within one entity, combinations
// raise severity (see escalate).
//
// lint is pure: no I/O, no clock, no logging, and it must not panic on any
// input. It owns the rules and their default severities; configuration
// (suppression, severity overrides) and reporting belong to its callers.
package lint

import (
	"sort"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// located is a finding as the rules produce it: the shared report.Finding
// and the rune offset of the match in the raw text at Path. The offset
// orders and deduplicates findings inside lint; Manifest and Text drop it,
// since no reader of a finding needs more than its excerpt.
type located struct {
	report.Finding
	Offset int
}

// findings drops the offsets.
func findings(ls []located) []report.Finding {
	if ls == nil {
		return nil
	}
	out := make([]report.Finding, len(ls))
	for i := range ls {
		out[i] = ls[i].Finding
	}
	return out
}

// ToolRef names a tool of a configured server.
type ToolRef struct {
	Server string `json:"server"`
	Name   string `json:"name"`
}

// Context is what lint needs to know beyond the text: the other tools an
// agent sees next to this server's, to find shadowing and confusable names.
type Context struct {
	// Server is the configured name of the server being linted. OtherTools
	// entries with this server name are its own tools.
	Server string
	// OtherTools are the tools of every configured server (the linted
	// server's own may be included, see Server).
	OtherTools []ToolRef
	// Peers, when set, is the index of the tools of every configured
	// server, built once for a whole check cycle (NewPeers); it replaces
	// OtherTools, which is then ignored.
	Peers *Peers
	// BaselineNames are the tool names of this server's approved baseline.
	BaselineNames []string

	prep *prepared // see Prepare
}

// Entity kinds as they appear in report.Finding.Entity.
const (
	EntityServer = "server"
)

// Manifest lints every string of every entity of m and the server's
// instructions and other server fields.
func Manifest(m *manifest.Manifest, ctx Context) []report.Finding {
	return findings(manifestLocated(m, ctx))
}

// manifestLocated is Manifest with the offsets.
func manifestLocated(m *manifest.Manifest, ctx Context) []located {
	if m == nil {
		return nil
	}
	c := newChecker(ctx)
	names := make([]string, 0, len(m.Entities[manifest.KindTool]))
	for _, e := range m.Entities[manifest.KindTool] {
		names = append(names, e.Key)
	}
	c.addOwn(names)
	var out []located
	out = append(out, c.entity(EntityServer, "", m.Server)...)
	for _, k := range manifest.Kinds {
		for _, e := range m.Entities[k] {
			fs := c.entity(string(k), e.Key, e.JSON)
			if k == manifest.KindTool {
				fs = append(fs, c.toolName(e.Key)...)
			}
			out = append(out, fs...)
		}
	}
	sortFindings(out)
	return out
}

// Text lints one text of an entity: the drift engine's hook for a changed
// field. path is the field path (as in report.Finding.Path) when known; it selects
// the rules that depend on the field (a "description" path enables the
// length rule; "" means any text). For a tool, when path is "" or "name",
// the name itself is also checked against ctx for confusables.
func Text(entity, name, path, text string, ctx Context) []report.Finding {
	return findings(textLocated(entity, name, path, text, ctx))
}

// textLocated is Text with the offsets.
func textLocated(entity, name, path, text string, ctx Context) []located {
	c := newChecker(ctx)
	r := roleText
	switch {
	case path == "instructions" && entity == EntityServer:
		r = roleInstructions
	case path == "description" || strings.HasSuffix(path, ".description"):
		r = roleDescription
	}
	u := c.newUnit(entity, name, path, text, r)
	fs := c.scan(u)
	if entity == string(manifest.KindTool) && (path == "" || path == "name") {
		fs = append(fs, c.toolName(name)...)
	}
	fs = escalate(fs)
	sortFindings(fs)
	return fs
}

// sortFindings orders findings by entity kind, name, path, offset and rule,
// most severe first on ties; it also drops exact duplicates.
func sortFindings(fs []located) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Entity != b.Entity {
			return manifest.EntityRank(a.Entity) < manifest.EntityRank(b.Entity)
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		if a.Offset != b.Offset {
			return a.Offset < b.Offset
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Severity > b.Severity
	})
}

// escalate applies the combination rules within one entity's findings:
//   - exfiltration together with sensitive paths or harvested data is
//     critical: the payload and its destination are both there;
//   - a pre-invocation precondition is high when the entity also names
//     sensitive data, conceals, exfiltrates or tags hidden instructions;
//   - a weak sensitive path (low) is high under the same conditions.
func escalate(fs []located) []located {
	var data, hostile bool
	for _, f := range fs {
		switch f.Rule {
		case RuleSensitivePath:
			data = data || f.Severity >= severity.High
			hostile = hostile || f.Severity >= severity.High
		case RuleDataHarvest:
			data = true
			hostile = true
		case RuleExfiltration:
			hostile = true
		case RuleConcealment, RuleInstructionTag, RulePromptOverride, RuleRoleImpersonation, RuleUnicodeTags, RuleANSIEscape:
			hostile = hostile || f.Severity >= severity.High
		case RulePreInvocation:
			hostile = hostile || f.Severity >= severity.High
		}
	}
	for i := range fs {
		f := &fs[i]
		switch f.Rule {
		case RuleExfiltration:
			if data {
				f.Severity = severity.Critical
			}
		case RulePreInvocation:
			if hostile && f.Severity < severity.High {
				f.Severity = severity.High
			}
		case RuleSensitivePath:
			if hostile && f.Severity < severity.High {
				f.Severity = severity.High
			}
		}
	}
	return fs
}
