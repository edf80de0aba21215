// Package incident is the daemon's alert lifecycle as pure functions: given
// a server's stored alert state, what the lifecycle remembers of it, one
// evaluation (a check's report, or its stored drift re-read) and the time,
// it returns the server's next state and the alerts to send, each routed
// to its notifiers. It reads no clock, store or network: the daemon
// (internal/monitor) loads the state, calls Observe or Reevaluate, and
// commits the outcome with its deliveries in one transaction.
//
//   - drift: an incident per (server, baseline id, snapshot id), raised
//     when it appears, raised anew when the server changes to another
//     snapshot, reminded every repeat_interval, resolved when approved or
//     reverted. A server with no baseline (TOFU off or refused) is a drift
//     from "none", at least high.
//   - unreachable: raised after unreachable_after consecutive failed
//     checks (at once when its OAuth grant needs a person), reminded,
//     resolved on the first success.
//   - flapping: a server whose manifest goes back and forth is alerted
//     once instead of a drift and a resolution per change (flap.go).
//
// Every notification then passes the per-server rate limit (ratelimit.go).
package incident

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// Memory is what the lifecycle keeps of a server between evaluations
// without persisting it: the snapshot it was last evaluated on (to see it
// change: flapping) and when its latest notifications were queued (the
// rate limit). Neither survives a restart.
type Memory struct {
	Last string
	Sent []time.Time
}

// Input is one evaluation of one server.
type Input struct {
	Config *config.Config
	// State is the server's stored state; State.Server names the server.
	State  store.AlertState
	Memory Memory
	Report report.Server
	Now    time.Time
}

// Routed is an alert and the notifiers that take it (none: it is only
// logged).
type Routed struct {
	notifiers.Alert
	Notifiers []string
}

// Outcome is what an evaluation decided.
type Outcome struct {
	// State is the server's next state, to persist.
	State store.AlertState
	// Memory is what to remember of the server: Last at once, Sent once
	// State is persisted.
	Memory Memory
	// Alerts are the alerts to log, and to queue for their notifiers.
	Alerts []Routed
	// Changed says there is something to persist: State differs from the
	// input's, or there are alerts.
	Changed bool
	// HeldDropped is set when the alerts the rate limit held could not
	// be read back: they are dropped, everything else is sent.
	HeldDropped error
	// NewlyHeld is set when the rate limit holds more alerts than before.
	NewlyHeld bool
}

// Observe applies one check's result: a failure counts towards (or
// raises) unreachable, a success resolves it and moves the drift incident
// to what the report shows.
func Observe(in Input) Outcome {
	st := Clone(in.State)
	cfg, rs, now := in.Config, in.Report, in.Now
	var alerts []notifiers.Alert
	if rs.Status == report.StatusError {
		alerts = failed(&st, cfg, rs, now)
	} else {
		alerts = succeeded(&st, cfg, rs, now)
	}
	return finish(in, st, alerts)
}

// Reevaluate applies the server's latest stored snapshot compared with
// its baseline (rs, read from the store: after an approval, at start-up,
// periodically), and sends the reminders that are due when remind is set.
func Reevaluate(in Input, remind bool) Outcome {
	st := Clone(in.State)
	cfg, rs, now := in.Config, in.Report, in.Now
	var alerts []notifiers.Alert
	if rs.Status != report.StatusError {
		alerts = drift(&st, cfg, rs, now)
	}
	if remind && len(alerts) == 0 {
		alerts = reminders(&st, cfg, rs, now)
	}
	return finish(in, st, alerts)
}

// finish applies flapping and the rate limit, and routes the alerts.
func finish(in Input, st store.AlertState, alerts []notifiers.Alert) Outcome {
	rs := in.Report
	out := Outcome{Memory: in.Memory}
	if rs.Status != report.StatusError {
		alerts = flapPolicyOf(in.Config.Alerts).apply(&st, in.Memory.Last, rs, in.Now, alerts)
		if rs.Snapshot != nil {
			out.Memory.Last = rs.Snapshot.ID
		}
	}
	alerts, out.Memory.Sent, out.NewlyHeld, out.HeldDropped = limit(in.Config, &st, in.Memory.Sent, alerts, in.Now)
	out.State = st
	out.Changed = len(alerts) > 0 || !reflect.DeepEqual(in.State, st)
	for i := range alerts {
		out.Alerts = append(out.Alerts, Routed{Alert: alerts[i], Notifiers: Route(in.Config, &alerts[i])})
	}
	return out
}

// failed counts a failed check and raises the unreachable incident.
func failed(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
	st.Failures++
	if st.Failures == 1 {
		st.FailingSince = now
	}
	st.LastError = rs.Error
	if st.Unreachable != nil || (st.Failures < cfg.Alerts.UnreachableAfter && !rs.AuthRequired) {
		return nil
	}
	if rs.AuthRequired {
		// No point waiting for more failures: a person has to act. One
		// alert, held open (reminded like unreachable) until a check
		// succeeds; the daemon does not retry the grant meanwhile.
		inc := &store.Incident{ID: fmt.Sprintf("auth-required/%s/%d", st.Server, now.Unix()), Severity: severity.High, FirstSeen: now, LastSent: now}
		st.Unreachable = inc
		return []notifiers.Alert{{Incident: inc.ID, Kind: notifiers.KindUnreachable, Server: st.Server, Severity: inc.Severity,
			Report: rs, At: now, FirstSeen: now, Reason: authRequiredReason(rs)}}
	}
	inc := &store.Incident{
		ID:        fmt.Sprintf("unreachable/%s/%d", st.Server, st.FailingSince.Unix()),
		Severity:  severity.High,
		FirstSeen: st.FailingSince,
		LastSent:  now,
	}
	st.Unreachable = inc
	return []notifiers.Alert{{
		Incident: inc.ID, Kind: notifiers.KindUnreachable, Server: st.Server, Severity: inc.Severity,
		Report: rs, At: now, FirstSeen: inc.FirstSeen,
		Reason: fmt.Sprintf("%d consecutive checks failed since %s: %s", st.Failures, st.FailingSince.UTC().Format(time.RFC3339), rs.Error),
	}}
}

// authRequiredReason is the one alert of a server whose OAuth grant needs a
// person: what happened and what to do. internal/oauth's auth-required
// errors end with it (the login command, or for client credentials,
// which have nothing to log in to, the keys to fix), so the error is the
// reason.
func authRequiredReason(rs report.Server) string { return rs.Error }

// succeeded ends a failure streak (resolving unreachable) and evaluates
// drift.
func succeeded(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
	var alerts []notifiers.Alert
	if inc := st.Unreachable; inc != nil {
		if cfg.Alerts.SendResolved {
			alerts = append(alerts, resolved(st.Server, inc, notifiers.KindUnreachable, rs, now,
				fmt.Sprintf("server recovered after %d failed checks", st.Failures)))
		}
		st.Unreachable = nil
	}
	st.Failures, st.FailingSince, st.LastError = 0, time.Time{}, ""
	return append(alerts, drift(st, cfg, rs, now)...)
}

// drift moves the drift incident to what rs shows.
func drift(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
	cur := st.Drift
	switch rs.Status {
	case report.StatusDrift, report.StatusUnapproved:
		if rs.Snapshot == nil {
			return nil // never snapshotted: nothing to compare yet
		}
		base := ""
		if rs.Baseline != nil {
			base = rs.Baseline.ID
		}
		snap := rs.Snapshot.ID
		if cur != nil && cur.BaselineID == base && cur.SnapshotID == snap {
			return nil
		}
		var alerts []notifiers.Alert
		reason := ""
		sev := rs.MaxSeverity()
		if cur != nil {
			if cur.BaselineID != base && rs.Status == report.StatusDrift {
				// A partial approval: the incident goes on with what is
				// still pending, as an update in the same thread (same
				// incident id), not a resolution followed by a new alert
				// that re-sends everything. Resolved is sent only when
				// nothing is pending.
				cur.BaselineID, cur.SnapshotID, cur.Severity, cur.LastSent = base, snap, sev, now
				cur.Updates++
				n := len(rs.Changes)
				left := fmt.Sprintf("%d changes left", n)
				if n == 1 {
					left = "1 change left"
				}
				return []notifiers.Alert{{
					Incident: cur.ID, Kind: notifiers.KindDrift, Update: cur.Updates, Server: st.Server, Severity: sev,
					Report: rs, At: now, FirstSeen: cur.FirstSeen,
					Reason: fmt.Sprintf("partly approved by %s: %s", approver(rs), left),
				}}
			}
			if cur.BaselineID == base {
				reason = fmt.Sprintf("the server changed again: snapshot %s replaces %s", report.ShortID(snap), report.ShortID(cur.SnapshotID))
			} else if cfg.Alerts.SendResolved {
				alerts = append(alerts, resolved(st.Server, cur, notifiers.KindDrift, rs, now,
					fmt.Sprintf("baseline changed (approved by %s); what still differs is alerted anew", approver(rs))))
			}
		}
		if rs.Status == report.StatusUnapproved {
			sev = severity.Max(sev, severity.High)
			if reason == "" {
				reason = "no approved baseline"
				if rs.Note != "" {
					reason += ": " + rs.Note
				}
			}
		}
		inc := &store.Incident{
			ID:         fmt.Sprintf("drift/%s/%s/%s", st.Server, cmp.Or(base, "none"), snap),
			BaselineID: base, SnapshotID: snap, Severity: sev, FirstSeen: now, LastSent: now,
		}
		st.Drift = inc
		return append(alerts, notifiers.Alert{
			Incident: inc.ID, Kind: notifiers.KindDrift, Server: st.Server, Severity: sev,
			Report: rs, Reason: reason, At: now, FirstSeen: now,
		})
	default: // ok, baselined
		if cur == nil {
			return nil
		}
		st.Drift = nil
		if !cfg.Alerts.SendResolved {
			return nil
		}
		reason := "server reverted to its baseline"
		if rs.Baseline != nil && rs.Baseline.ID != cur.BaselineID {
			reason = "approved by " + approver(rs)
		}
		return []notifiers.Alert{resolved(st.Server, cur, notifiers.KindDrift, rs, now, reason)}
	}
}

// reminders re-sends open incidents every repeat_interval.
func reminders(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
	var alerts []notifiers.Alert
	every := max(cfg.Alerts.RepeatInterval, config.MinRepeatInterval)
	if inc := st.Drift; inc != nil && now.Sub(inc.LastSent) >= every && rs.Status != report.StatusError {
		inc.Reminders++
		inc.LastSent = now
		alerts = append(alerts, notifiers.Alert{
			Incident: inc.ID, Kind: notifiers.KindDrift, Reminder: inc.Reminders, Server: st.Server,
			Severity: inc.Severity, Report: rs, At: now, FirstSeen: inc.FirstSeen,
			Reason: fmt.Sprintf("still pending since %s", inc.FirstSeen.UTC().Format(time.RFC3339)),
		})
	}
	if inc := st.Unreachable; inc != nil && now.Sub(inc.LastSent) >= every {
		inc.Reminders++
		inc.LastSent = now
		alerts = append(alerts, notifiers.Alert{
			Incident: inc.ID, Kind: notifiers.KindUnreachable, Reminder: inc.Reminders, Server: st.Server,
			Severity: inc.Severity, At: now, FirstSeen: inc.FirstSeen,
			Report: report.Server{Server: st.Server, Status: report.StatusError, Error: st.LastError,
				Changes: []report.Change{}, Findings: []report.Finding{}},
			Reason: fmt.Sprintf("still failing: %d consecutive checks failed since %s: %s", st.Failures,
				st.FailingSince.UTC().Format(time.RFC3339), st.LastError),
		})
	}
	return alerts
}

func resolved(server string, inc *store.Incident, kind string, rs report.Server, now time.Time, reason string) notifiers.Alert {
	return notifiers.Alert{
		Incident: inc.ID, Kind: notifiers.KindResolved, Resolves: kind, Server: server,
		Severity: inc.Severity, Report: rs, Reason: reason, At: now, FirstSeen: inc.FirstSeen,
	}
}

func approver(rs report.Server) string {
	if rs.Baseline == nil || rs.Baseline.ApprovedBy == "" {
		return "unknown"
	}
	return rs.Baseline.ApprovedBy
}

// limit passes the alerts that reach a notifier through the server's rate
// limit, holding in st what must wait, and returns what to send now (with
// the alerts that reach no notifier, which are only logged), the server's
// send times to keep once committed, whether it holds more alerts than
// before, and the error that made it drop the held alerts, if any.
func limit(cfg *config.Config, st *store.AlertState, sent []time.Time, alerts []notifiers.Alert, now time.Time) ([]notifiers.Alert, []time.Time, bool, error) {
	var quiet, routed []notifiers.Alert
	for _, a := range alerts {
		if len(Route(cfg, &a)) == 0 {
			quiet = append(quiet, a)
		} else {
			routed = append(routed, a)
		}
	}
	if len(routed) == 0 && len(st.Held) == 0 {
		return quiet, sent, false, nil
	}
	out, sentNow, held, err := rateLimitOf(cfg.Alerts).admit(sent, st.Held, routed, now)
	if err != nil {
		st.Held = nil
		return alerts, sent, false, err
	}
	more := len(held) > len(st.Held)
	st.Held = held
	return append(quiet, out...), sentNow, more, nil
}

// Route returns the notifiers that take an alert: those whose kinds,
// servers and min_severity admit it. Info-only drift therefore reaches
// only notifiers configured with min_severity: info.
func Route(cfg *config.Config, a *notifiers.Alert) []string {
	var out []string
	for i := range cfg.Notifiers {
		n := &cfg.Notifiers[i]
		if len(n.Kinds) > 0 && !slices.Contains(n.Kinds, a.Kind) {
			continue
		}
		if len(n.Servers) > 0 && !slices.Contains(n.Servers, a.Server) {
			continue
		}
		if a.Severity < n.MinSeverity || a.Severity == severity.None {
			continue
		}
		out = append(out, n.Name)
	}
	return out
}

// Clone returns a deep copy of st.
func Clone(st store.AlertState) store.AlertState {
	if st.Drift != nil {
		d := *st.Drift
		st.Drift = &d
	}
	if st.Unreachable != nil {
		u := *st.Unreachable
		st.Unreachable = &u
	}
	if st.Flapping != nil {
		f := *st.Flapping
		st.Flapping = &f
	}
	st.FlapSeen = slices.Clone(st.FlapSeen)
	st.Changes = slices.Clone(st.Changes)
	st.Held = slices.Clone(st.Held)
	return st
}
