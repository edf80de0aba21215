// Package divergence finds servers that show a different face to different
// clients: it probes a server again as other client identities (name,
// version, advertised capabilities) and reports every way the manifest each
// identity saw differs from what the configured identity saw, as changes of
// kind client.divergence.
//
// It parses the --as syntax, says what a difference between two faces is
// (Diverged) and how it changes a server's report (Apply). The probing is
// an optional step of the check pipeline (engine.Options.As,
// engine.Engine.Diverge), under the same concurrency and memory limits as
// every other probe; this package contacts no server.
package divergence

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Kind is the change kind of a divergence.
const Kind = "client.divergence"

// ErrSpec reports an --as value that cannot be parsed.
var ErrSpec = errors.New("invalid client identity")

// Named identities: they keep the server's configured client name and
// version and change only the capabilities advertised.
var named = map[string][]string{
	"bare": {},
	"full": {probe.CapabilityRoots, probe.CapabilitySampling, probe.CapabilityElicitation},
}

// Names lists the named identities.
func Names() []string {
	out := make([]string, 0, len(named))
	for k := range named {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Identity is a parsed --as value.
type Identity struct {
	// Spec is the value as given.
	Spec string
	// Client is the identity; for a named identity, Name and Version are
	// empty until Resolve fills them from the configured one.
	Client probe.ClientIdentity
	named  bool
}

const maxSpec = 256

// Parse reads an --as value: `name/version` optionally followed by
// capabilities, each introduced by `+` (`claude-code/1.0+roots+sampling`;
// `+roots,sampling` is accepted too), or a named identity (see Names).
// Capabilities are roots, sampling and elicitation; none is advertised
// unless listed. The version cannot contain `+`.
func Parse(spec string) (Identity, error) {
	id := Identity{Spec: spec}
	if len(spec) > maxSpec {
		return id, fmt.Errorf("%w %q: longer than %d bytes", ErrSpec, escape.Line(spec[:32])+"...", maxSpec)
	}
	for _, r := range spec {
		if !unicode.IsPrint(r) || escape.HasInvisible(string(r)) {
			return id, fmt.Errorf("%w %q: contains a control or invisible character", ErrSpec, escape.Line(spec))
		}
	}
	if caps, ok := named[spec]; ok {
		id.Client.Capabilities = slices.Clone(caps)
		id.named = true
		return id, nil
	}
	head, capList, hasCaps := strings.Cut(spec, "+")
	name, version, ok := strings.Cut(head, "/")
	if !ok {
		return id, fmt.Errorf("%w %q: want NAME/VERSION[+CAPABILITY...] or one of %s", ErrSpec, spec, strings.Join(Names(), ", "))
	}
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if name == "" || version == "" || strings.Contains(version, "/") {
		return id, fmt.Errorf("%w %q: want NAME/VERSION with both non-empty", ErrSpec, spec)
	}
	id.Client = probe.ClientIdentity{Name: name, Version: version, Capabilities: []string{}}
	if hasCaps {
		for _, c := range strings.FieldsFunc(capList, func(r rune) bool { return r == '+' || r == ',' }) {
			c = strings.TrimSpace(c)
			switch c {
			case probe.CapabilityRoots, probe.CapabilitySampling, probe.CapabilityElicitation:
			default:
				return id, fmt.Errorf("%w %q: unknown capability %q (want roots, sampling or elicitation)", ErrSpec, spec, c)
			}
			if slices.Contains(id.Client.Capabilities, c) {
				return id, fmt.Errorf("%w %q: capability %q listed twice", ErrSpec, spec, c)
			}
			id.Client.Capabilities = append(id.Client.Capabilities, c)
		}
		if len(id.Client.Capabilities) == 0 {
			return id, fmt.Errorf("%w %q: '+' without a capability", ErrSpec, spec)
		}
	}
	return id, nil
}

// Resolve returns the identity to probe as, given the server's configured
// one: a named identity takes the configured name, version and
// User-Agent; any other sends the User-Agent derived from its own name and
// version, so that HTTP requests look like the client advertised.
func (id Identity) Resolve(configured probe.ClientIdentity) probe.ClientIdentity {
	c := id.Client
	c.Capabilities = slices.Clone(c.Capabilities)
	if id.named {
		c.Name, c.Version, c.UserAgent = configured.Name, configured.Version, configured.UserAgent
	}
	return c
}

// Label names a client identity for people: name/version+cap+cap.
func Label(c probe.ClientIdentity) string {
	s := c.Name + "/" + c.Version
	for _, cp := range c.Capabilities {
		s += "+" + cp
	}
	return escape.Line(s)
}

// Same reports whether two identities are the same client: probing as one
// when configured as the other would show nothing new.
func Same(a, b probe.ClientIdentity) bool {
	if a.Name != b.Name || a.Version != b.Version || len(a.Capabilities) != len(b.Capabilities) {
		return false
	}
	for _, c := range a.Capabilities {
		if !slices.Contains(b.Capabilities, c) {
			return false
		}
	}
	return true
}

// Diverged turns a change from the configured identity's manifest to
// another identity's into a divergence: Before is what the configured
// identity saw, After what the other one saw. It is high unless the
// difference is meaning-preserving (info), or a lint finding raises it.
func Diverged(c report.Change, as, configured string) report.Change {
	d := c
	d.Kind = Kind
	d.Summary = fmt.Sprintf("%s sees a different manifest than configured %s: %s", as, configured, c.Summary)
	if c.Severity > severity.Info {
		d.Severity = severity.Max(severity.High, c.Severity)
	}
	return d
}

// Apply amends a server's report with the divergences found, and the error
// from probing the other identities: an ok server with any divergence
// becomes drift; a server left ok or baselined with an identity that could not be
// probed becomes an error (exit 3); a server already failing keeps its
// status and the probe error is added to its note, so the exit code never
// drops because an extra probe failed.
func Apply(rs *report.Server, changes []report.Change, err error) {
	rs.Changes = append(rs.Changes, changes...)
	report.SortByRisk(rs.Changes)
	rs.Severity = rs.MaxSeverity()
	// As the engine does for baseline drift: any change is drift, and
	// --fail-on decides whether it fails the run.
	if len(changes) > 0 && rs.Status == report.StatusOK {
		rs.Status = report.StatusDrift
	}
	if err == nil {
		return
	}
	msg := "client identity check: " + err.Error()
	if rs.Status == report.StatusOK || rs.Status == report.StatusBaselined {
		rs.Status, rs.Error = report.StatusError, msg
		return
	}
	if rs.Note != "" {
		rs.Note += "; "
	}
	rs.Note += msg
}
