package engine

import (
	"errors"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// unusable turns a manifest a server with a baseline sent but mcpdrift
// cannot read (malformed is the build error, scrubbed is what may be
// shown of it) into a drift of kind server.unusable: a client may read
// what mcpdrift cannot, so it is no outage to wait out but a change to
// look at now. The snapshot id names the reason, so the same failure is
// one incident and another failure a new one. ok is false when the error
// is no malformed manifest, or src has no baseline to compare with.
func (e *Engine) unusable(s *config.Server, src Baselines, malformed bool, scrubbed error, takenAt time.Time) (report.Server, bool) {
	if !malformed {
		return report.Server{}, false
	}
	base, err := src.Baseline(s.Name)
	if err != nil {
		return report.Server{}, false
	}
	reason := scrubbed.Error()
	rs := report.Server{
		Server:   s.Name,
		Status:   report.StatusDrift,
		Baseline: &base.Ref,
		Snapshot: &report.Snapshot{ID: "unusable:" + manifest.Fingerprint([]byte(reason)), TakenAt: takenAt.UTC()},
		Changes: []report.Change{{
			Kind: drift.KindServerUnusable, Entity: manifest.EntityServer, Name: manifest.EntityServer,
			Severity: severity.High, Findings: []report.Finding{},
			Summary: "server: sent a manifest mcpdrift cannot read, which a client may still read: " + reason,
		}},
		Findings: []report.Finding{},
		Note:     "unusable manifest: nothing was stored; fix the server or look at what it sends",
	}
	rs.Severity = rs.MaxSeverity()
	return rs, true
}

// isMalformed reports whether a capture failed on the manifest itself.
func isMalformed(err error) bool { return errors.Is(err, manifest.ErrMalformed) }
