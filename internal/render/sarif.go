package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// SARIF constants.
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	// sarifFingerprint names the partialFingerprints entry; bump its
	// version if the inputs to it ever change.
	sarifFingerprint = "mcpdrift/v1"
	// RuleUnapproved is the SARIF rule of a server with no approved
	// baseline (not in the lockfile, or never approved).
	RuleUnapproved = "server.unapproved"
)

// SARIFOptions tune WriteSARIF.
type SARIFOptions struct {
	// ToolVersion is mcpdrift's version, recorded as the driver version.
	ToolVersion string
	// Artifact is the path (relative to the repository root, slash
	// separated) results are anchored to: the lockfile, or the config
	// file. GitHub code scanning rejects a SARIF file with any result that
	// has no physical location, so callers uploading there must set it.
	Artifact string
	// Line returns the line of Artifact where a server (and an entity of
	// it: kind and name) is pinned, or 0 when unknown (line 1 is used).
	Line func(server, entity, name string) int
}

// The subset of SARIF 2.1.0 mcpdrift writes. Field order is output order.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version,omitempty"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string            `json:"id"`
		ShortDescription     sarifText         `json:"shortDescription"`
		Help                 sarifText         `json:"help"`
		DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
		Properties           sarifRuleProperty `json:"properties"`
	}
	sarifRuleConfig struct {
		Level string `json:"level"`
	}
	sarifRuleProperty struct {
		Tags             []string `json:"tags"`
		SecuritySeverity string   `json:"security-severity"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifInvocation struct {
		ExecutionSuccessful        bool                `json:"executionSuccessful"`
		ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications"`
	}
	sarifNotification struct {
		Level   string    `json:"level"`
		Message sarifText `json:"message"`
		// Descriptor names what failed: the server.
		Descriptor sarifRef `json:"descriptor"`
	}
	sarifRef struct {
		ID string `json:"id"`
	}
	sarifResult struct {
		RuleID              string             `json:"ruleId"`
		RuleIndex           int                `json:"ruleIndex"`
		Level               string             `json:"level"`
		Message             sarifText          `json:"message"`
		Locations           []sarifLocation    `json:"locations"`
		PartialFingerprints map[string]string  `json:"partialFingerprints"`
		Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
		Properties          sarifResultProps   `json:"properties"`
	}
	sarifLocation struct {
		PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
		LogicalLocations []sarifLogical `json:"logicalLocations"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	sarifSuppression struct {
		Kind          string `json:"kind"`
		Justification string `json:"justification"`
	}
	sarifResultProps struct {
		Severity string `json:"severity"`
		Server   string `json:"server"`
		Path     string `json:"path,omitempty"`
	}
)

// ruleHelp describes the rules mcpdrift knows; lint rules and kinds added
// later get a generic text.
var ruleHelp = map[string]string{
	"tool.added":                "A tool appeared that was never approved: a new capability for the agent.",
	"tool.removed":              "An approved tool disappeared.",
	"tool.renamed":              "An approved tool changed its name: the agent calls a name nobody approved.",
	"tool.description":          "An approved tool's description changed: the main rug-pull and tool-poisoning vector.",
	"tool.input_schema":         "An approved tool's input schema changed.",
	"tool.output_schema":        "An approved tool's output schema changed.",
	"tool.annotations":          "An approved tool's annotations (read-only, destructive, idempotent, open-world hints) changed.",
	"tool.title":                "An approved tool's title changed.",
	"tool.icons":                "An approved tool's icons changed.",
	"tool.other":                "Another field of an approved tool changed.",
	"prompt.added":              "A prompt appeared that was never approved.",
	"prompt.removed":            "An approved prompt disappeared.",
	"prompt.changed":            "An approved prompt changed.",
	"resource.added":            "A resource appeared that was never approved.",
	"resource.removed":          "An approved resource disappeared.",
	"resource.changed":          "An approved resource changed.",
	"resource_template.added":   "A resource template appeared that was never approved.",
	"resource_template.removed": "An approved resource template disappeared.",
	"resource_template.changed": "An approved resource template changed.",
	"server.instructions":       "The server's instructions to the model changed.",
	"server.info":               "The server's serverInfo (name, version) changed.",
	"server.capabilities":       "The server's advertised capabilities changed.",
	"client.divergence":         "The server shows a different manifest to different client identities.",
	RuleUnapproved:              "The server has no approved baseline: it is not in the lockfile, or was never approved.",
}

// SARIFLevel maps a severity to a SARIF level: critical and high are
// errors, medium a warning, low and info notes.
func SARIFLevel(l severity.Level) string {
	switch {
	case l >= severity.High:
		return "error"
	case l == severity.Medium:
		return "warning"
	case l > severity.None:
		return "note"
	default:
		return "none"
	}
}

// securitySeverity is GitHub's numeric scale (>=9 critical, >=7 high, >=4
// medium, >0 low).
func securitySeverity(l severity.Level) string {
	switch l {
	case severity.Critical:
		return "9.5"
	case severity.High:
		return "8.0"
	case severity.Medium:
		return "5.5"
	case severity.Low:
		return "3.0"
	default:
		return "1.0"
	}
}

// WriteSARIF writes the report as a SARIF 2.1.0 log with one run: a result
// per change, per lint finding (on a change or on the whole manifest;
// suppressed findings carry a suppression) and per unapproved server, each
// anchored to a logical location mcp://SERVER[/ENTITY/NAME] and, when
// o.Artifact is set, to its line in that file. Servers that could not be
// probed are tool execution notifications, not results: an outage is not
// a finding about the code. Output is deterministic.
func WriteSARIF(w io.Writer, r *report.Report, o SARIFOptions) error {
	b := &sarifBuilder{o: o, rules: map[string]severity.Level{}, seen: map[string]bool{}, results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: true, ToolExecutionNotifications: []sarifNotification{}}
	for i := range r.Servers {
		s := &r.Servers[i]
		switch s.Status {
		case report.StatusError:
			inv.ExecutionSuccessful = false
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, sarifNotification{
				Level:      "error",
				Message:    sarifText{Text: fmt.Sprintf("server %s could not be probed: %s", line(s.Server), line(s.Error))},
				Descriptor: sarifRef{ID: "mcp://" + url.PathEscape(s.Server)},
			})
		case report.StatusUnapproved:
			msg := fmt.Sprintf("server %s has no approved baseline", line(s.Server))
			if s.Note != "" {
				msg += ": " + line(s.Note)
			}
			b.add(s, RuleUnapproved, severity.High, "server", "", "", msg, "")
		}
		for _, c := range s.Changes {
			b.add(s, c.Kind, c.Severity, c.Entity, c.Name, c.Path, fmt.Sprintf("%s: %s", line(s.Server), line(c.Summary)), fingerprintExtra(c))
			for _, f := range c.Findings {
				b.finding(s, c.Entity, c.Name, f)
			}
		}
		for _, f := range s.Findings {
			b.finding(s, f.Entity, f.Name, f)
		}
	}
	driver := sarifDriver{Name: "mcpdrift", Version: o.ToolVersion, InformationURI: "https://github.com/mcpdrift/mcpdrift", Rules: b.ruleList()}
	index := map[string]int{}
	for i, rule := range driver.Rules {
		index[rule.ID] = i
	}
	for i := range b.results {
		b.results[i].RuleIndex = index[b.results[i].RuleID]
	}
	return WriteJSON(w, sarifLog{
		Schema: sarifSchema, Version: sarifVersion,
		Runs: []sarifRun{{Tool: sarifTool{Driver: driver}, Invocations: []sarifInvocation{inv}, Results: b.results}},
	})
}

// fingerprintExtra separates results that share server, rule, entity,
// name and path: divergences seen by different client identities.
func fingerprintExtra(c report.Change) string {
	if c.Kind == "client.divergence" {
		return c.Summary
	}
	return ""
}

type sarifBuilder struct {
	o       SARIFOptions
	rules   map[string]severity.Level // highest severity seen per rule
	results []sarifResult
	seen    map[string]bool // fingerprints already written
}

func (b *sarifBuilder) finding(s *report.Server, entity, name string, f report.Finding) {
	msg := fmt.Sprintf("%s: %s finding on %s %s: %s", line(s.Server), f.Rule, entity, line(name), line(f.Message))
	if f.Evidence != "" {
		msg += " (" + line(f.Evidence) + ")"
	}
	r := b.add(s, f.Rule, f.Severity, entity, name, "", msg, f.Evidence)
	if r != nil && f.Suppressed != "" {
		r.Suppressions = []sarifSuppression{{Kind: "external", Justification: line(f.Suppressed)}}
	} else if r != nil && f.Acknowledged != "" {
		r.Suppressions = []sarifSuppression{{Kind: "external", Justification: "acknowledged: " + line(f.Acknowledged)}}
	}
}

// add appends a result unless an identical one (same fingerprint) was
// already written, and returns it (nil for a duplicate).
func (b *sarifBuilder) add(s *report.Server, rule string, sev severity.Level, entity, name, path, msg, extra string) *sarifResult {
	sum := sha256.Sum256([]byte(strings.Join([]string{s.Server, rule, entity, name, path, extra}, "\x00")))
	fp := hex.EncodeToString(sum[:16])
	if b.seen[fp] {
		return nil
	}
	b.seen[fp] = true
	if old, ok := b.rules[rule]; !ok || sev > old {
		b.rules[rule] = sev
	}
	b.results = append(b.results, sarifResult{
		RuleID:              rule,
		Level:               SARIFLevel(sev),
		Message:             sarifText{Text: msg},
		Locations:           []sarifLocation{b.location(s.Server, entity, name)},
		PartialFingerprints: map[string]string{sarifFingerprint: fp},
		Properties:          sarifResultProps{Severity: sev.String(), Server: line(s.Server), Path: path},
	})
	return &b.results[len(b.results)-1]
}

// logicalKinds maps entities to SARIF logical location kinds.
var logicalKinds = map[string]string{
	"tool": "function", "prompt": "object", "resource": "resource", "resource_template": "resource",
}

func (b *sarifBuilder) location(server, entity, name string) sarifLocation {
	fqn := "mcp://" + url.PathEscape(server)
	lg := sarifLogical{Name: line(server), FullyQualifiedName: fqn, Kind: "module"}
	if kind, ok := logicalKinds[entity]; ok && name != "" {
		lg = sarifLogical{Name: line(name), FullyQualifiedName: fqn + "/" + entity + "/" + url.PathEscape(name), Kind: kind}
	}
	loc := sarifLocation{LogicalLocations: []sarifLogical{lg}}
	if b.o.Artifact != "" {
		n := 0
		if b.o.Line != nil {
			n = b.o.Line(server, entity, name)
		}
		loc.PhysicalLocation = &sarifPhysical{
			ArtifactLocation: sarifArtifact{URI: (&url.URL{Path: b.o.Artifact}).String()},
			Region:           sarifRegion{StartLine: max(n, 1)},
		}
	}
	return loc
}

func (b *sarifBuilder) ruleList() []sarifRule {
	ids := make([]string, 0, len(b.rules))
	for id := range b.rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]sarifRule, 0, len(ids))
	for _, id := range ids {
		help, ok := ruleHelp[id]
		if !ok {
			help = fmt.Sprintf("mcpdrift reported %s.", line(id))
			if !strings.Contains(id, ".") {
				help = fmt.Sprintf("Lint rule %s: text an MCP server sent to the model looks like tool poisoning.", line(id))
			}
		}
		sev := b.rules[id]
		out = append(out, sarifRule{
			ID:                   id,
			ShortDescription:     sarifText{Text: help},
			Help:                 sarifText{Text: help + " Review the change, then approve it (mcpdrift approve, or update the lockfile) or remove the server."},
			DefaultConfiguration: sarifRuleConfig{Level: SARIFLevel(sev)},
			Properties:           sarifRuleProperty{Tags: []string{"security", "mcp"}, SecuritySeverity: securitySeverity(sev)},
		})
	}
	return out
}
