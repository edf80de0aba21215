package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/incident"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

// alertStore is the persisted alert state and outbox as the lifecycle uses
// them (*store.DB).
type alertStore interface {
	AlertStates() (map[string]store.AlertState, error)
	CommitAlerts(st store.AlertState, ds []store.Delivery) ([]store.Delivery, error)
}

// lifecycle feeds check results to the alert lifecycle (package incident,
// which decides) and persists what it decides. Its state (open incidents,
// failure streaks) lives in the store and is cached here; every change is
// committed together with the deliveries it causes, so a restart neither
// re-sends nor loses an alert; the outbox is woken for each notifier
// concerned.
type lifecycle struct {
	store   alertStore
	clock   clock.Clock
	log     *slog.Logger
	m       *metrics
	runtime func() *runtimeConfig
	// pending re-reads a server's latest stored snapshot compared with
	// its baseline (engine.Pending).
	pending func(*config.Server) report.Server
	// wake tells the outbox a notifier's queue grew.
	wake func(notifier string)
	// every is how often open incidents are re-evaluated (ReminderCheck).
	every time.Duration

	mu     sync.Mutex
	states map[string]store.AlertState
	mem    map[string]incident.Memory
	// gen counts approvals per server, so that a check that started
	// before an approval re-reads the drift instead of using its stale
	// report.
	gen map[string]uint64
}

func (l *lifecycle) load() error {
	states, err := l.store.AlertStates()
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

// input is an evaluation of server on rs now, from the cached state.
func (l *lifecycle) input(rt *runtimeConfig, server string, rs report.Server, now time.Time) incident.Input {
	st := l.states[server]
	st.Server = server
	return incident.Input{Config: rt.cfg, State: st, Memory: l.mem[server], Report: rs, Now: now}
}

// observe applies one check's result.
func (l *lifecycle) observe(s *config.Server, rs report.Server, gen uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rt := l.runtime()
	if rs.Status != report.StatusError && l.gen[s.Name] != gen {
		// An approval landed while this check ran: its report compares
		// against a baseline that is no longer current.
		if p := l.pending(s); p.Status != report.StatusError {
			rs = p
		}
	}
	l.apply(s.Name, incident.Observe(l.input(rt, s.Name, rs, l.clock.Now())))
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
	rt := l.runtime()
	rs := l.pending(s)
	if rs.Status != report.StatusError {
		l.m.observeDrift(rs)
	}
	l.apply(s.Name, incident.Reevaluate(l.input(rt, s.Name, rs, l.clock.Now()), remind))
}

// apply persists the state change and the deliveries of an outcome's
// alerts in one transaction, then wakes the notifiers concerned. On
// failure nothing is cached, so the next evaluation tries the same
// transition again.
func (l *lifecycle) apply(server string, out incident.Outcome) {
	mem := l.mem[server]
	mem.Last = out.Memory.Last
	l.mem[server] = mem
	if out.HeldDropped != nil {
		l.log.Error("rate limit: held alerts dropped", "server", server, "error", out.HeldDropped.Error())
	}
	if out.NewlyHeld {
		l.log.Info("alerts held by the rate limit (alerts.group_interval, alerts.group_max)",
			"server", server, "held", len(out.State.Held))
	}
	if !out.Changed {
		return
	}
	var ds []store.Delivery
	for _, a := range out.Alerts {
		if len(a.Notifiers) == 0 {
			continue
		}
		body, err := json.Marshal(a.Alert)
		if err != nil {
			l.log.Error("encode alert", "server", a.Server, "incident", a.Incident, "error", err.Error())
			continue
		}
		for _, n := range a.Notifiers {
			ds = append(ds, store.Delivery{Notifier: n, Alert: body, Created: a.At})
		}
	}
	if _, err := l.store.CommitAlerts(out.State, ds); err != nil {
		l.log.Error("record alert state; will retry on the next evaluation", "server", server, "error", err.Error())
		return
	}
	if out.State.IsZero() {
		delete(l.states, server)
	} else {
		l.states[server] = out.State
	}
	mem.Sent = out.Memory.Sent
	l.mem[server] = mem
	for _, a := range out.Alerts {
		kind := a.Kind
		if a.Reminder > 0 {
			kind = "reminder"
		}
		l.m.alerts.WithLabelValues(kind).Inc()
		attrs := []any{"kind", a.Kind, "server", a.Server, "severity", a.Severity.String(), "incident", a.Incident,
			"notifiers", a.Notifiers}
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
		if a.Kind == notifiers.KindResolved || (len(a.Notifiers) == 0 && a.Severity <= severity.Info) {
			l.log.Info("alert", attrs...)
		} else {
			l.log.Warn("alert", attrs...)
		}
	}
	woken := map[string]bool{}
	for _, d := range ds {
		if !woken[d.Notifier] {
			woken[d.Notifier] = true
			l.wake(d.Notifier)
		}
	}
}

// reminderLoop re-evaluates every server with an open incident each
// ReminderCheck: it catches approvals the daemon was not told about and
// sends reminders when due.
func (l *lifecycle) reminderLoop(ctx context.Context) {
	for clock.Sleep(ctx, l.clock, l.every) {
		rt := l.runtime()
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
