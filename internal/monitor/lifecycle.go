package monitor

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// lifecycle turns check results into alerts. Its state (open incidents,
// failure streaks) lives in the store and is cached here; every change is
// committed together with the deliveries it causes, so a restart neither
// re-sends nor loses an alert.
//
//   - drift: an incident per (server, baseline id, snapshot id), raised
//     when it appears, raised anew when the server changes to another
//     snapshot, reminded every repeat_interval, resolved when approved or
//     reverted. A server with no baseline (TOFU off or refused) is a drift
//     from "none", at least high.
//   - unreachable: raised after unreachable_after consecutive failed
//     checks, reminded, resolved on the first success.
//   - flapping: a server whose manifest goes back and forth is alerted
//     once instead of a drift and a resolution per change (flapPolicy).
//
// Every notification then passes the per-server rate limit (rateLimit).
type lifecycle struct {
	a *App

	mu     sync.Mutex
	states map[string]store.AlertState
	// last is the snapshot each server was last evaluated on, to see it
	// change (flapPolicy); sent is when its latest notifications were
	// queued (rateLimit). Neither survives a restart.
	last map[string]string
	sent map[string][]time.Time
	// gen counts approvals per server, so that a check that started
	// before an approval re-reads the drift instead of using its stale
	// report.
	gen map[string]uint64
}

func newLifecycle(a *App) *lifecycle {
	return &lifecycle{a: a, states: map[string]store.AlertState{}, gen: map[string]uint64{},
		last: map[string]string{}, sent: map[string][]time.Time{}}
}

func (l *lifecycle) load() error {
	states, err := l.a.store.AlertStates()
	if err != nil {
		return fmt.Errorf("monitor: load alert state: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = states
	return nil
}

// startup evaluates every server from what is stored, before any probe:
// drift that appeared while the daemon was down (a CLI check, a restore)
// alerts once now; drift already alerted before the restart does not.
func (l *lifecycle) startup(rt *runtimeConfig) {
	for _, name := range rt.order {
		l.reevaluate(rt.servers[name], false)
	}
}

// generation returns the server's approval count, taken before a check.
func (l *lifecycle) generation(server string) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.gen[server]
}

// observe applies one check's result.
func (l *lifecycle) observe(s *config.Server, rs report.Server, gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rt := l.a.runtime()
	now := l.a.clock.Now()
	st := cloneState(l.states[s.Name])
	st.Server = s.Name
	old := cloneState(st)
	var alerts []notifiers.Alert
	if rs.Status == report.StatusError {
		alerts = l.failed(&st, rt.cfg, rs, now)
	} else {
		if l.gen[s.Name] != gen {
			// An approval landed while this check ran: its report
			// compares against a baseline that is no longer current.
			if p := l.a.engine.Pending(s); p.Status != report.StatusError {
				rs = p
			}
		}
		alerts = l.flap(&st, rt.cfg, rs, now, l.succeeded(&st, rt.cfg, rs, now))
	}
	l.commit(rt, old, st, alerts)
}

// flap applies flapping to an evaluation's alerts and remembers the
// snapshot it was on.
func (l *lifecycle) flap(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time, alerts []notifiers.Alert) []notifiers.Alert {
	if rs.Status == report.StatusError {
		return alerts
	}
	alerts = flapPolicyOf(cfg.Alerts).apply(st, l.last[st.Server], rs, now, alerts)
	if rs.Snapshot != nil {
		l.last[st.Server] = rs.Snapshot.ID
	}
	return alerts
}

// reevaluate compares the server's latest stored snapshot with its
// baseline (after an approval, at start-up, and periodically), and sends
// reminders that are due when remind is set.
func (l *lifecycle) reevaluate(s *config.Server, remind bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !remind {
		l.gen[s.Name]++
	}
	rt := l.a.runtime()
	now := l.a.clock.Now()
	st := cloneState(l.states[s.Name])
	st.Server = s.Name
	old := cloneState(st)
	rs := l.a.engine.Pending(s)
	var alerts []notifiers.Alert
	if rs.Status != report.StatusError {
		alerts = l.drift(&st, rt.cfg, rs, now)
		l.a.m.observeDrift(rs)
	}
	if remind && len(alerts) == 0 {
		alerts = l.reminders(&st, rt.cfg, rs, now)
	}
	alerts = l.flap(&st, rt.cfg, rs, now, alerts)
	l.commit(rt, old, st, alerts)
}

// failed counts a failed check and raises the unreachable incident.
func (l *lifecycle) failed(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
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

// succeeded ends a failure streak (resolving unreachable) and evaluates
// drift.
func (l *lifecycle) succeeded(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
	var alerts []notifiers.Alert
	if inc := st.Unreachable; inc != nil {
		if cfg.Alerts.SendResolved {
			alerts = append(alerts, resolved(st.Server, inc, notifiers.KindUnreachable, rs, now,
				fmt.Sprintf("server recovered after %d failed checks", st.Failures)))
		}
		st.Unreachable = nil
	}
	st.Failures, st.FailingSince, st.LastError = 0, time.Time{}, ""
	return append(alerts, l.drift(st, cfg, rs, now)...)
}

// drift moves the drift incident to what rs shows.
func (l *lifecycle) drift(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
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
func (l *lifecycle) reminders(st *store.AlertState, cfg *config.Config, rs report.Server, now time.Time) []notifiers.Alert {
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

// commit persists the state change and the deliveries of alerts in one
// transaction, then wakes the notifiers concerned. On failure nothing is
// cached, so the next evaluation tries the same transition again.
func (l *lifecycle) commit(rt *runtimeConfig, old, st store.AlertState, alerts []notifiers.Alert) {
	alerts, sent := l.limit(rt.cfg, &st, alerts)
	if len(alerts) == 0 && reflect.DeepEqual(old, st) {
		return
	}
	var ds []store.Delivery
	routes := make([][]string, len(alerts))
	for i := range alerts {
		a := &alerts[i]
		routes[i] = route(rt.cfg, a)
		if len(routes[i]) == 0 {
			continue
		}
		body, err := json.Marshal(a)
		if err != nil {
			l.a.log.Error("encode alert", "server", a.Server, "incident", a.Incident, "error", err.Error())
			continue
		}
		for _, n := range routes[i] {
			ds = append(ds, store.Delivery{Notifier: n, Alert: body, Created: a.At})
		}
	}
	if _, err := l.a.store.CommitAlerts(st, ds); err != nil {
		l.a.log.Error("record alert state; will retry on the next evaluation", "server", st.Server, "error", err.Error())
		return
	}
	if st.IsZero() {
		delete(l.states, st.Server)
	} else {
		l.states[st.Server] = st
	}
	if len(sent) == 0 {
		delete(l.sent, st.Server)
	} else {
		l.sent[st.Server] = sent
	}
	for i, a := range alerts {
		kind := a.Kind
		if a.Reminder > 0 {
			kind = "reminder"
		}
		l.a.m.alerts.WithLabelValues(kind).Inc()
		lvl := "alert"
		attrs := []any{"kind", a.Kind, "server", a.Server, "severity", a.Severity.String(), "incident", a.Incident,
			"notifiers", routes[i]}
		if a.Reminder > 0 {
			attrs = append(attrs, "reminder", a.Reminder)
		}
		if a.Resolves != "" {
			attrs = append(attrs, "resolves", a.Resolves)
		}
		if a.Reason != "" {
			attrs = append(attrs, "reason", a.Reason)
		}
		// Resolutions, and drift too slight for any notifier (info-only by
		// default), are news, not warnings.
		if a.Kind == notifiers.KindResolved || (len(routes[i]) == 0 && a.Severity <= severity.Info) {
			l.a.log.Info(lvl, attrs...)
		} else {
			l.a.log.Warn(lvl, attrs...)
		}
	}
	woken := map[string]bool{}
	for _, d := range ds {
		if !woken[d.Notifier] {
			woken[d.Notifier] = true
			l.a.disp.wake(d.Notifier)
		}
	}
}

// limit passes the alerts that reach a notifier through the server's rate
// limit, holding in st what must wait, and returns what to send now (with
// the alerts that reach no notifier, which are only logged) and the
// server's send times to keep once committed.
func (l *lifecycle) limit(cfg *config.Config, st *store.AlertState, alerts []notifiers.Alert) ([]notifiers.Alert, []time.Time) {
	var quiet, routed []notifiers.Alert
	for _, a := range alerts {
		if len(route(cfg, &a)) == 0 {
			quiet = append(quiet, a)
		} else {
			routed = append(routed, a)
		}
	}
	sent := l.sent[st.Server]
	if len(routed) == 0 && len(st.Held) == 0 {
		return quiet, sent
	}
	now := l.a.clock.Now()
	out, sent, held, err := rateLimitOf(cfg.Alerts).admit(sent, st.Held, routed, now)
	if err != nil {
		l.a.log.Error("rate limit: held alerts dropped", "server", st.Server, "error", err.Error())
		st.Held = nil
		return alerts, l.sent[st.Server]
	}
	if len(held) > len(st.Held) {
		l.a.log.Info("alerts held by the rate limit (alerts.group_interval, alerts.group_max)",
			"server", st.Server, "held", len(held))
	}
	st.Held = held
	return append(quiet, out...), sent
}

// route returns the notifiers that take an alert: those whose kinds,
// servers and min_severity admit it. Info-only drift therefore reaches
// only notifiers configured with min_severity: info.
func route(cfg *config.Config, a *notifiers.Alert) []string {
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

// reminderLoop re-evaluates every server with an open incident each
// ReminderCheck: it catches approvals the daemon was not told about and
// sends reminders when due.
func (l *lifecycle) reminderLoop(ctx context.Context) {
	for sleep(ctx, l.a.clock, l.a.opts.ReminderCheck) {
		rt := l.a.runtime()
		l.mu.Lock()
		var open []string
		for name, st := range l.states {
			if st.Drift != nil || st.Unreachable != nil || st.Flapping != nil || len(st.Held) > 0 {
				open = append(open, name)
			}
		}
		l.mu.Unlock()
		slices.Sort(open)
		for _, name := range open {
			if s := rt.servers[name]; s != nil {
				l.reevaluate(s, true)
			}
		}
	}
}

// snapshot returns a copy of the cached alert states.
func (l *lifecycle) snapshot() map[string]store.AlertState {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]store.AlertState, len(l.states))
	for k, v := range l.states {
		out[k] = cloneState(v)
	}
	return out
}

func cloneState(st store.AlertState) store.AlertState {
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
