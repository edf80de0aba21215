package incident

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// flapPolicy defines flapping: at least changes snapshot changes within
// window, back to a manifest seen before. Zero changes turns it off.
type flapPolicy struct {
	window       time.Duration
	changes      int
	sendResolved bool
}

func flapPolicyOf(a config.Alerts) flapPolicy {
	return flapPolicy{window: a.FlapWindow, changes: a.FlapChanges, sendResolved: a.SendResolved}
}

// apply is the flapping half of the alert lifecycle, pure: given the
// server's state, the snapshot it was on before (prev, "" if unknown), an
// evaluation rs at now, and the drift lifecycle's alerts for it, it
// records a snapshot change and returns the alerts to send.
//
// A server that flaps is alerted once, as a drift incident of its own
// ("flapping/<server>/<unix time>") whose reason lists the manifests seen;
// while it is open the server's drift alerts are withheld (the incident
// raised meanwhile is marked Unsent). Once the manifest has not changed
// for a whole window, the flapping incident resolves, and the drift the
// server settled on, if any and never sent, is alerted.
func (p flapPolicy) apply(st *store.AlertState, prev string, rs report.Server, now time.Time, alerts []notifiers.Alert) []notifiers.Alert {
	snap := ""
	if rs.Snapshot != nil && rs.Status != report.StatusError {
		snap = rs.Snapshot.ID
	}
	if prev != "" && snap != "" && snap != prev {
		sev := severity.None
		if rs.Status == report.StatusDrift || rs.Status == report.StatusUnapproved {
			sev = rs.MaxSeverity()
		}
		st.Changes = append(st.Changes, store.SnapshotChange{At: now, From: prev, To: snap, Severity: sev})
	}
	for len(st.Changes) > 0 && now.Sub(st.Changes[0].At) >= p.window {
		st.Changes = st.Changes[1:]
	}
	if len(st.Changes) == 0 {
		st.Changes = nil
	}
	if p.changes <= 0 {
		st.Changes = nil
		if st.Flapping == nil {
			return alerts
		}
	}
	if st.Flapping == nil {
		if len(st.Changes) < p.changes || !backAndForth(st.Changes) {
			return alerts
		}
		inc := &store.Incident{
			ID:        fmt.Sprintf("flapping/%s/%d", st.Server, now.Unix()),
			Severity:  flapSeverity(st.Changes, st.Drift),
			FirstSeen: now, LastSent: now,
		}
		st.Flapping = inc
		st.FlapSeen = seen(st.Changes)
		return append(withhold(st, alerts), notifiers.Alert{
			Incident: inc.ID, Kind: notifiers.KindDrift, Server: st.Server, Severity: inc.Severity,
			Report: rs, At: now, FirstSeen: now,
			Reason: fmt.Sprintf("flapping: %d snapshot changes within %s, back and forth between %d manifests: %s; "+
				"its drift alerts are held back until the manifest stays the same for %s",
				len(st.Changes), p.window, len(st.FlapSeen), labelled(st.FlapSeen, st.Changes), p.window),
		})
	}
	inc := st.Flapping
	if snap != "" && !slices.Contains(st.FlapSeen, snap) {
		st.FlapSeen = append(st.FlapSeen, snap)
	}
	inc.Severity = severity.Max(inc.Severity, flapSeverity(st.Changes, st.Drift))
	alerts = withhold(st, alerts)
	if len(st.Changes) > 0 && p.changes > 0 {
		return alerts
	}
	// Settled: no change for a whole window.
	manifests := shortIDs(st.FlapSeen)
	st.Flapping, st.FlapSeen = nil, nil
	settled := "its baseline"
	if st.Drift != nil {
		settled = "snapshot " + report.ShortID(st.Drift.SnapshotID) + ", which differs from its baseline"
	}
	if p.sendResolved {
		alerts = append(alerts, resolved(st.Server, inc, notifiers.KindDrift, rs, now,
			fmt.Sprintf("stopped flapping: the manifest has not changed for %s; it settled on %s (manifests seen: %s)",
				p.window, settled, manifests)))
	}
	if d := st.Drift; d != nil && d.Unsent {
		d.Unsent, d.LastSent = false, now
		alerts = append(alerts, notifiers.Alert{
			Incident: d.ID, Kind: notifiers.KindDrift, Server: st.Server, Severity: d.Severity,
			Report: rs, At: now, FirstSeen: d.FirstSeen,
			Reason: "the server stopped flapping on this drift",
		})
	}
	return alerts
}

// withhold drops the drift alerts of a flapping server, marking the open
// drift incident Unsent when its raise is among them.
func withhold(st *store.AlertState, alerts []notifiers.Alert) []notifiers.Alert {
	out := alerts[:0:0]
	for _, a := range alerts {
		if a.Kind == notifiers.KindDrift || (a.Kind == notifiers.KindResolved && a.Resolves == notifiers.KindDrift) {
			if st.Drift != nil && a.Incident == st.Drift.ID && a.Kind == notifiers.KindDrift && a.Reminder == 0 {
				st.Drift.Unsent = true
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// backAndForth reports whether a manifest came back within the changes.
func backAndForth(cs []store.SnapshotChange) bool {
	seen := map[string]bool{cs[0].From: true}
	for _, c := range cs {
		if seen[c.To] {
			return true
		}
		seen[c.To] = true
	}
	return false
}

// seen lists the manifests of the changes in the order first seen.
func seen(cs []store.SnapshotChange) []string {
	out := []string{cs[0].From}
	for _, c := range cs {
		if !slices.Contains(out, c.To) {
			out = append(out, c.To)
		}
	}
	return out
}

func flapSeverity(cs []store.SnapshotChange, d *store.Incident) severity.Level {
	l := severity.Low
	for _, c := range cs {
		l = severity.Max(l, c.Severity)
	}
	if d != nil {
		l = severity.Max(l, d.Severity)
	}
	return l
}

// labelled lists the manifests seen, each with how it compares with the
// baseline where a change to it says so: "baseline", or the severity of
// its drift.
func labelled(ids []string, cs []store.SnapshotChange) string {
	label := map[string]string{}
	for _, c := range cs {
		if c.Severity == severity.None {
			label[c.To] = "baseline"
		} else {
			label[c.To] = c.Severity.String() + " drift"
		}
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = report.ShortID(id)
		if l := label[id]; l != "" {
			out[i] += " (" + l + ")"
		}
	}
	return strings.Join(out, ", ")
}

func shortIDs(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = report.ShortID(id)
	}
	return strings.Join(out, ", ")
}
