// Package report holds the result types of a check, one definition each:
// the report and its servers, changes and findings (the JSON shape
// docs/report.md fixes for machines), the approval a baseline comes from,
// and the order every rendering shows changes in. It renders nothing:
// internal/render draws these types for people and CI, the notifiers for
// their channels, and both depend on this package, never on each other.
// It does no I/O.
package report

import (
	"time"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Statuses a server can be in.
const (
	StatusOK         = "ok"
	StatusDrift      = "drift"
	StatusBaselined  = "baselined"
	StatusUnapproved = "unapproved"
	StatusError      = "error"
)

// Report is the document `check` and `diff` print.
type Report struct {
	Servers []Server `json:"servers"`
}

// Server is one server's result. Keys are a public contract: add, never
// rename or drop.
type Server struct {
	Server   string         `json:"server"`
	Status   string         `json:"status"`
	Error    string         `json:"error,omitempty"`
	Severity severity.Level `json:"severity"`
	Baseline *Baseline      `json:"baseline,omitempty"`
	Snapshot *Snapshot      `json:"snapshot,omitempty"`
	Changes  []Change       `json:"changes"`
	Findings []Finding      `json:"findings"`
	// LastChecked is when the server was last probed, successfully or not
	// (status only).
	LastChecked *time.Time `json:"last_checked,omitempty"`
	// Note is a one-line explanation for people (e.g. why a first snapshot
	// was not trusted); it is not part of the machine contract.
	Note string `json:"note,omitempty"`
	// AuthRequired is set on an error of an OAuth server that needs a
	// person (mcpdrift auth login); shown as status auth-required.
	AuthRequired bool `json:"auth_required,omitempty"`
}

// StatusAuthRequired is how an error with AuthRequired is shown to people;
// Status stays StatusError, so exit codes and machine consumers see a
// failed check.
const StatusAuthRequired = "auth-required"

// StatusText is the status shown to people: Status, or auth-required.
func (s Server) StatusText() string {
	if s.Status == StatusError && s.AuthRequired {
		return StatusAuthRequired
	}
	return s.Status
}

// Baseline identifies the approved manifest a server is compared with
// (Approval.Baseline).
type Baseline struct {
	ID         string    `json:"id"`
	ApprovedAt time.Time `json:"approved_at"`
	ApprovedBy string    `json:"approved_by"`
}

// Approval is one entry in a server's append-only audit trail: who made
// which manifest the baseline, from what, and why. The store keeps it, the
// daemon's API carries it as this JSON, a lockfile records it in its own
// documented shape (lockfile.Approval) and a report names it by Baseline.
type Approval struct {
	Server string `json:"server"`
	// Seq numbers the server's approvals from 1; the store assigns it.
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Approver string    `json:"approver"`
	Comment  string    `json:"comment,omitempty"`
	// BaselineID is the manifest that became the baseline. For a partial
	// approval it is a manifest that was never observed.
	BaselineID string `json:"baseline"`
	// PreviousID is the baseline this approval replaces; empty for the first.
	PreviousID string `json:"previous,omitempty"`
	// SnapshotID is the snapshot the reviewer approved from, if any.
	SnapshotID string `json:"snapshot,omitempty"`
	// Tools lists the only entities approved, for a partial approval.
	Tools  []string `json:"tools,omitempty"`
	Method string   `json:"method,omitempty"` // "cli", "trust-on-first-use", "lock-import", ...
}

// Baseline is how a report names the approval a server is compared with.
func (a *Approval) Baseline() *Baseline {
	return &Baseline{ID: a.BaselineID, ApprovedAt: a.At.UTC(), ApprovedBy: a.Approver}
}

// Snapshot identifies the observed manifest.
type Snapshot struct {
	ID      string    `json:"id"`
	TakenAt time.Time `json:"taken_at"`
}

// Change is one difference between a baseline and a snapshot, as
// internal/drift computes it (docs/changes.md lists the kinds).
type Change struct {
	// Kind is the change kind, e.g. "tool.description".
	Kind string `json:"kind"`
	// Entity is "server", "tool", "prompt", "resource" or
	// "resource_template".
	Entity string `json:"entity"`
	// Name is the entity key (tool or prompt name, resource URI, template),
	// escaped with escape.Line; it equals the key for any printable name.
	// It is "" for server fields. For a rename it is the new name.
	Name string `json:"name"`
	// Path is the field path inside the entity, dot-separated with
	// percent-encoded components, e.g. "inputSchema.properties.repo". It is
	// "" for whole-entity changes (added, removed, renamed).
	Path     string         `json:"path,omitempty"`
	Severity severity.Level `json:"severity"`
	// Summary is one escaped line for people.
	Summary string `json:"summary"`
	// Before and After are escaped excerpts of the old and new value at
	// Path: text as-is, anything else as indented JSON, "" when absent.
	Before string `json:"before"`
	After  string `json:"after"`
	// Diff is a textdiff.Auto diff of the two values, escaped.
	Diff string `json:"diff"`
	// Findings are lint findings on the new text; never nil. They carry
	// no Entity, Name or Path: the change locates them.
	Findings []Finding `json:"findings"`
}

// Finding is a lint finding (internal/lint) on a manifest or on a
// change's new text.
type Finding struct {
	// Entity is "server", "tool", "prompt", "resource" or
	// "resource_template".
	Entity string `json:"entity,omitempty"`
	// Name is the entity key (tool or prompt name, resource URI, URI
	// template) escaped with escape.Line, as in Change; "" for the server.
	Name string `json:"name,omitempty"`
	// Path is the field inside the entity, dot-separated with
	// percent-encoded components as in Change.Path, e.g.
	// "inputSchema.properties.path.description". For a finding on an object
	// key (a property name), Path ends with that key.
	Path     string         `json:"path,omitempty"`
	Rule     string         `json:"rule"`
	Severity severity.Level `json:"severity"`
	// Message says what was found, escaped.
	Message string `json:"message"`
	// Evidence is an escaped excerpt of about 120 characters around the
	// match.
	Evidence string `json:"evidence"`
	// Suppressed is the reason of the config's suppress entry that
	// matched, if any.
	Suppressed string `json:"suppressed,omitempty"`
	// Acknowledged says which approval accepted the finding: it was on the
	// approved baseline already, so approving it accepted it. Like a
	// suppressed finding it is reported and fails nothing; unlike one, a
	// new finding of the same rule still fails.
	Acknowledged string `json:"acknowledged,omitempty"`
}

// Accepted reports a finding that fails nothing: suppressed by the config
// or acknowledged by an approval.
func (f *Finding) Accepted() bool { return f.Suppressed != "" || f.Acknowledged != "" }

// Unaccepted returns the findings that can fail a check: neither
// suppressed nor acknowledged (Finding.Accepted).
func Unaccepted(fs []Finding) []Finding {
	var out []Finding
	for _, f := range fs {
		if !f.Accepted() {
			out = append(out, f)
		}
	}
	return out
}

// MaxSeverity is the highest severity among a server's changes and
// findings neither suppressed nor acknowledged (Finding.Accepted).
func (s *Server) MaxSeverity() severity.Level {
	max := severity.None
	for _, c := range s.Changes {
		max = severity.Max(max, c.Severity)
	}
	for _, f := range s.Findings {
		if !f.Accepted() {
			max = severity.Max(max, f.Severity)
		}
	}
	return max
}

// ExitCode maps a report to the DESIGN exit codes: 1 for drift (or an
// unapproved server) at or above failOn, else 3 when a server could not be
// probed, else 0.
func (r *Report) ExitCode(failOn severity.Level) int {
	drift, unreachable := false, false
	for i := range r.Servers {
		s := &r.Servers[i]
		switch {
		case s.Status == StatusError:
			unreachable = true
		case s.Status == StatusUnapproved:
			drift = true
		case s.MaxSeverity() >= failOn && s.MaxSeverity() > severity.None:
			drift = true
		}
	}
	switch {
	case drift:
		return 1
	case unreachable:
		return 3
	default:
		return 0
	}
}

// ShortID shortens a sha256 id for people: "sha256:0123456789ab".
func ShortID(id string) string {
	if len(id) > len("sha256:")+12 {
		return id[:len("sha256:")+12]
	}
	return id
}
