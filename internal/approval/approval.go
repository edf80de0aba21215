// Package approval holds what a reviewer asks to approve: the Request and
// the KIND:NAME entity references of a partial approval. It is its own
// package so the CLI can build and parse requests without importing the
// check pipeline (internal/engine) that carries them out.
package approval

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/suggest"
)

// ErrUnknownTool means a --tool or --entity is in neither the snapshot nor the
// baseline, or is malformed. The service maps it to a usage error.
var ErrUnknownTool = errors.New("unknown tool")

// Request is what a reviewer approves: the CLI and the admin socket send it
// through service to engine.Approve.
type Request struct {
	Server string
	// Snapshot is a snapshot id or unique prefix; empty means the latest.
	Snapshot string
	// Tools, when set, approves only these entities of the snapshot (tool
	// names, or other entities as EntityRef describes): the new baseline
	// is the old one with them taken from the snapshot (added, changed, or
	// removed when the snapshot no longer has them).
	Tools    []string
	Comment  string
	Approver string
	Method   string // "cli" unless set
}

// EntityRef is one entity of a partial approval, as Request.Tools
// and the audit trail (report.Approval.Tools) write it: a bare name is a
// tool (as before partial approval covered other entities), and
// "prompt:NAME", "resource:URI", "resource_template:URI_TEMPLATE",
// "server:FIELD" (instructions, serverInfo, capabilities, protocolVersion
// or any other server field) and "tool:NAME" name the others.
type EntityRef struct {
	Kind string // "tool", "prompt", "resource", "resource_template" or "server"
	Name string
}

// refKinds are the kinds an EntityRef may name, in the order errors list
// them.
var refKinds = []string{"tool", "prompt", "resource", "resource_template", "server"}

// ParseEntityRef reads a ref as Request.Tools holds it.
func ParseEntityRef(ref string) EntityRef {
	if k, name, ok := strings.Cut(ref, ":"); ok && slices.Contains(refKinds, k) {
		return EntityRef{Kind: k, Name: name}
	}
	return EntityRef{Kind: "tool", Name: ref}
}

// ParseEntityFlag reads a "KIND:NAME" flag value into the ref
// Request.Tools takes, and says what is wrong with a bad one.
func ParseEntityFlag(v string) (string, error) {
	k, name, ok := strings.Cut(v, ":")
	if !ok || !slices.Contains(refKinds, k) || name == "" {
		return "", fmt.Errorf("%w: --entity %q: want KIND:NAME with KIND one of %s (e.g. prompt:summarize, resource:file:///notes, server:instructions)%s",
			ErrUnknownTool, v, strings.Join(refKinds, ", "), suggest.Hint(k, refKinds))
	}
	return ToolRef(EntityRef{Kind: k, Name: name}), nil
}

// ToolRef writes r as Request.Tools holds it: a tool as its bare
// name unless that name would read as another kind.
func ToolRef(r EntityRef) string {
	if r.Kind == "tool" && ParseEntityRef(r.Name).Kind == "tool" {
		return r.Name
	}
	return r.Kind + ":" + r.Name
}
