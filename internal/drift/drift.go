// Package drift compares a snapshot manifest with its approved baseline and
// says what changed and how much it matters.
//
// Diff walks both canonical manifests and returns one Change per changed
// entity field, each with a kind and severity from the DESIGN table, a
// one-line summary, escaped before/after excerpts and a readable diff.
//
// Choices this package makes, and why:
//
//   - One Change per changed top-level field of an entity (description,
//     inputSchema, annotations...), not one per JSON Schema keyword. The
//     schema walk still happens: every difference is classified, the Change's
//     severity is the highest of its parts and its Summary lists them,
//     most severe first ("adds required parameter `force`; drops
//     additionalProperties:false"). Path is the deepest path shared by all
//     parts, so a lone property description edit shows as that one string
//     with a word diff, while a broader edit shows the enclosing JSON with a
//     line diff.
//   - A removed and an added tool with the same input schema and
//     descriptions at least 90% alike (textdiff.Similarity), or identical
//     except for the name, are one `tool.renamed` change of severity high:
//     the agent will call a name the user never approved. Differences between
//     the two, beyond the name, are reported as ordinary field changes of the
//     new name, so a rename cannot launder a description edit.
//   - Whitespace-only text changes, a reordered enum, type or required list,
//     and annotation hints spelled out at (or dropped back to) their spec
//     default are `info`: shown, never alerted on by default. Severity
//     overrides do not apply to them.
//   - Policy.Severity replaces the level the built-in rules give a kind;
//     lint findings are applied after it, so poisoned text is never lowered.
//   - Server fields other than instructions, serverInfo, protocolVersion and
//     capabilities count as `server.info`.
//   - Name, Summary, Before, After and Diff are escaped (package escape):
//     nothing an MCP server sent reaches a person raw. Path components are
//     percent-encoded (see Ignore) and so are safe too.
//
// Identity and permission drift compares the manifests' observed
// identities (manifest.Identity), all as entity "server", ignorable under
// "server/identity...". Defaults, then the rules that adjust them:
//
//	kind                          default   rules
//	identity.url                  high      another host or port, or https -> http: high; another path: medium; http -> https: low
//	identity.tls                  high      new issuer (name or key id), or TLS gone: high; new subject, SANs or key type: medium;
//	                                        TLS appears: low; renewal by the same issuer with a new key: info
//	identity.executable           high      another path or new content: high; a launcher updated in place: low; unresolvable: low
//	identity.package              high      another version, package or content: high; spec changed: medium; version unknown: low
//	identity.launch               medium    args, cwd, env names or values, configured URL or header names changed: medium;
//	                                        a path argument widens or moves to another tree, a loader variable set: high
//	oauth.metadata                medium    protected resource metadata appears or goes: medium; fetch failed: low
//	oauth.authorization_servers   critical  new server: critical; server removed: low; endpoint changed: high
//	oauth.scopes                  high      scopes added: high; only removed: low
//	tool.risk                     high      (entity tool) riskier group (RiskOf): high; less risky: info
//	policy.violation              critical  a trust policy breach (Violations), evaluated on every snapshot
//
// Against a baseline without any identity (stored before identity was
// recorded), each part of the snapshot's identity is one info change
// ("first recorded"), so upgrading mcpdrift alerts on nothing.
//
// Ignore rules and pattern masking are applied to both sides before
// comparing, so ignored parts vanish from the verdict and from every excerpt
// and diff. See Ignore for the path syntax.
//
// drift is pure: no I/O, no clock, no logging. It must not panic on any
// manifest, however hostile: values of unexpected JSON types diff as values,
// and entities sharing a key are paired deterministically.
package drift

import (
	"sort"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Policy tunes Diff for one server.
type Policy struct {
	// Severity overrides the level of every change of a kind. It replaces
	// what the built-in rules decided, except for info (meaning-preserving)
	// changes, which stay info; lint findings may still raise it.
	Severity map[string]severity.Level
	// Ignore drops or masks parts of both manifests before comparing.
	Ignore []Ignore
	// Lint, when set, is called with the unescaped new text of every added
	// or changed entity field (entity is as in report.Change.Entity, name the raw
	// key); a change is raised to its findings' highest severity.
	Lint func(entity, name, text string) []report.Finding
}

// The change kinds Diff emits.
const (
	KindToolAdded        = "tool.added"
	KindToolRemoved      = "tool.removed"
	KindToolRenamed      = "tool.renamed"
	KindToolDescription  = "tool.description"
	KindToolInputSchema  = "tool.input_schema"
	KindToolOutputSchema = "tool.output_schema"
	KindToolAnnotations  = "tool.annotations"
	KindToolTitle        = "tool.title"
	KindToolIcons        = "tool.icons"
	KindToolOther        = "tool.other"

	KindPromptAdded   = "prompt.added"
	KindPromptRemoved = "prompt.removed"
	KindPromptChanged = "prompt.changed"

	KindResourceAdded   = "resource.added"
	KindResourceRemoved = "resource.removed"
	KindResourceChanged = "resource.changed"

	KindResourceTemplateAdded   = "resource_template.added"
	KindResourceTemplateRemoved = "resource_template.removed"
	KindResourceTemplateChanged = "resource_template.changed"

	KindServerInstructions = "server.instructions"
	KindServerInfo         = "server.info"
	KindServerCapabilities = "server.capabilities"
	// KindServerUnusable is a server with a baseline answering with
	// something mcpdrift cannot read as a manifest: reported at once, with
	// the reason, since what a client makes of it is unknown.
	KindServerUnusable = "server.unusable"
	// KindServerUnadvertised is a server serving a list (tools, prompts,
	// resources) without advertising its capability.
	KindServerUnadvertised = "server.unadvertised"
	// KindServerLaterList is a server whose later list in a session
	// differs from the first (reported by the engine, which lists twice).
	KindServerLaterList = "server.later_list"

	// KindToolRisk is a tool moving to another risk group (see RiskOf),
	// reported next to its tool.annotations change.
	KindToolRisk = "tool.risk"

	// Identity and permission kinds, all of entity server (see Identity).
	KindIdentityURL               = "identity.url"
	KindIdentityTLS               = "identity.tls"
	KindIdentityExecutable        = "identity.executable"
	KindIdentityPackage           = "identity.package"
	KindIdentityLaunch            = "identity.launch"
	KindOAuthMetadata             = "oauth.metadata"
	KindOAuthAuthorizationServers = "oauth.authorization_servers"
	KindOAuthScopes               = "oauth.scopes"
	// KindPolicyViolation is a breach of the server's trust policy
	// (Violations), reported on every snapshot until it is resolved.
	KindPolicyViolation = "policy.violation"
)

// EntityServer is Change.Entity for server-level fields; the other entities
// use the manifest.Kind names.
const EntityServer = "server"

// defaults is the DESIGN table: the level of a change of each kind before
// the field-specific rules (schema widening, annotation escalation,
// whitespace) adjust it.
func defaults() map[string]severity.Level {
	return map[string]severity.Level{
		KindToolAdded:               severity.High,
		KindToolRemoved:             severity.Low,
		KindToolRenamed:             severity.High,
		KindToolDescription:         severity.High,
		KindToolInputSchema:         severity.Medium,
		KindToolOutputSchema:        severity.Medium,
		KindToolAnnotations:         severity.Medium,
		KindToolTitle:               severity.Low,
		KindToolIcons:               severity.Low,
		KindToolOther:               severity.Medium,
		KindPromptAdded:             severity.Medium,
		KindPromptRemoved:           severity.Low,
		KindPromptChanged:           severity.Medium,
		KindResourceAdded:           severity.Medium,
		KindResourceRemoved:         severity.Low,
		KindResourceChanged:         severity.Medium,
		KindResourceTemplateAdded:   severity.Medium,
		KindResourceTemplateRemoved: severity.Low,
		KindResourceTemplateChanged: severity.Medium,
		KindServerInstructions:      severity.High,
		KindServerUnusable:          severity.High,
		KindServerUnadvertised:      severity.High,
		KindServerLaterList:         severity.High,
		KindServerInfo:              severity.Low,
		KindServerCapabilities:      severity.Low,

		KindToolRisk:                  severity.High,
		KindIdentityURL:               severity.High,
		KindIdentityTLS:               severity.High,
		KindIdentityExecutable:        severity.High,
		KindIdentityPackage:           severity.High,
		KindIdentityLaunch:            severity.Medium,
		KindOAuthMetadata:             severity.Medium,
		KindOAuthAuthorizationServers: severity.Critical,
		KindOAuthScopes:               severity.High,
		KindAuthMode:                  severity.Medium,
		KindAuthIssuer:                severity.High,
		KindAuthScopes:                severity.High,
		KindPolicyViolation:           severity.Critical,
	}
}

// Kinds lists every change kind Diff emits, sorted; config validation uses
// it to reject unknown keys in per-server severity overrides.
func Kinds() []string {
	d := defaults()
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Diff returns the changes from base to snap, ordered by entity (server,
// tool, prompt, resource, resource_template), then name, then path. A nil
// manifest counts as empty.
func Diff(base, snap *manifest.Manifest, p Policy) []report.Change {
	if base == nil {
		base = &manifest.Manifest{}
	}
	if snap == nil {
		snap = &manifest.Manifest{}
	}
	d := newDiffer(p)
	d.server(base.Server, snap.Server)
	d.identity(base.Identity, snap.Identity)
	d.unadvertisedChange(base, snap)
	for _, k := range manifest.Kinds {
		d.entities(k, base.Entities[k], snap.Entities[k])
	}
	sortChanges(d.out)
	return d.out
}

// sortChanges orders changes for output. Generation order is deterministic,
// so a stable sort keeps ties (duplicate keys) deterministic too.
func sortChanges(cs []report.Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := &cs[i], &cs[j]
		if ra, rb := manifest.EntityRank(a.Entity), manifest.EntityRank(b.Entity); ra != rb {
			return ra < rb
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Kind < b.Kind
	})
}
