package incident

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/store"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// describe summarizes alerts for failure messages and comparisons.
func describe(as []notifiers.Alert) string {
	var parts []string
	for _, a := range as {
		s := a.Kind
		if a.Resolves != "" {
			s += "(" + a.Resolves + ")"
		}
		if a.Reminder > 0 {
			s += fmt.Sprintf("#%d", a.Reminder)
		}
		if a.Update > 0 {
			s += fmt.Sprintf("+%d", a.Update)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func parseConfig(t *testing.T, y string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(y), nil)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", y, err)
	}
	return cfg
}

func TestRoute(t *testing.T) {
	cfg := parseConfig(t, `
storage: {path: /unused}
servers:
  - {name: a, url: "http://x/mcp"}
  - {name: b, url: "http://y/mcp"}
notifiers:
  - {name: default, type: log}
  - {name: everything, type: log, min_severity: info}
  - {name: high-only, type: log, min_severity: high}
  - {name: b-only, type: log, servers: [b]}
  - {name: no-resolved, type: log, kinds: [drift, unreachable]}
`)
	tests := []struct {
		name  string
		alert notifiers.Alert
		want  string
	}{
		{"info drift reaches only min_severity info", notifiers.Alert{Kind: "drift", Server: "a", Severity: severity.Info}, "everything"},
		{"medium drift", notifiers.Alert{Kind: "drift", Server: "a", Severity: severity.Medium}, "default,everything,no-resolved"},
		{"critical drift on b", notifiers.Alert{Kind: "drift", Server: "b", Severity: severity.Critical}, "default,everything,high-only,b-only,no-resolved"},
		{"resolved skips kinds filter", notifiers.Alert{Kind: "resolved", Server: "a", Severity: severity.High}, "default,everything,high-only"},
		{"no severity goes nowhere", notifiers.Alert{Kind: "drift", Server: "a"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(Route(cfg, &tt.alert), ","); got != tt.want {
				t.Errorf("route = %q, want %q", got, tt.want)
			}
		})
	}
}

// server builds a report of server "a".
func server(status, base, snap, approver string, sevs ...severity.Level) report.Server {
	rs := report.Server{Server: "a", Status: status, Changes: []report.Change{}, Findings: []report.Finding{}}
	if base != "" {
		rs.Baseline = &report.Baseline{ID: base, ApprovedBy: approver}
	}
	if snap != "" {
		rs.Snapshot = &report.Snapshot{ID: snap}
	}
	for _, s := range sevs {
		rs.Changes = append(rs.Changes, report.Change{Kind: "tool.description", Entity: "tool", Name: "search", Severity: s})
	}
	return rs
}

func failure(msg string, auth bool) report.Server {
	return report.Server{Server: "a", Status: report.StatusError, Error: msg, AuthRequired: auth}
}

// TestEvaluate drives the lifecycle without a daemon: a stored state, a
// report and the time in, the next state and the routed alerts out.
func TestEvaluate(t *testing.T) {
	cfg := parseConfig(t, `
storage: {path: /unused}
servers:
  - {name: a, url: "http://x/mcp"}
notifiers:
  - {name: rec, type: log}
alerts: {repeat_interval: 1h, send_resolved: true, unreachable_after: 3}
`)
	drifting := store.AlertState{Server: "a", Drift: &store.Incident{ID: "drift/a/b1/s2", BaselineID: "b1", SnapshotID: "s2",
		Severity: severity.High, FirstSeen: t0, LastSent: t0}}
	failing := func(n int, open bool) store.AlertState {
		st := store.AlertState{Server: "a", Failures: n, FailingSince: t0, LastError: "connection refused"}
		if open {
			st.Unreachable = &store.Incident{ID: fmt.Sprintf("unreachable/a/%d", t0.Unix()), Severity: severity.High, FirstSeen: t0, LastSent: t0}
		}
		return st
	}
	tests := []struct {
		name      string
		state     store.AlertState
		rs        report.Server
		at        time.Duration // after t0
		reeval    bool          // Reevaluate (with reminders) rather than Observe
		want      string        // describe of the alerts
		notifiers string        // of the first alert
		reason    string        // in the first alert's reason
		check     func(store.AlertState) error
	}{
		{name: "drift appears", state: store.AlertState{Server: "a"}, rs: server(report.StatusDrift, "b1", "s2", "", severity.High),
			want: "drift", notifiers: "rec",
			check: func(st store.AlertState) error {
				if st.Drift == nil || st.Drift.ID != "drift/a/b1/s2" || st.Drift.Severity != severity.High {
					return fmt.Errorf("drift incident %+v", st.Drift)
				}
				return nil
			}},
		{name: "the same drift again is not re-sent", state: drifting, rs: server(report.StatusDrift, "b1", "s2", "", severity.High), at: time.Minute},
		{name: "no reminder before repeat_interval", state: drifting, rs: server(report.StatusDrift, "b1", "s2", "", severity.High),
			at: 59 * time.Minute, reeval: true},
		{name: "reminder at repeat_interval", state: drifting, rs: server(report.StatusDrift, "b1", "s2", "", severity.High),
			at: time.Hour, reeval: true, want: "drift#1", notifiers: "rec", reason: "still pending since",
			check: func(st store.AlertState) error {
				if st.Drift.Reminders != 1 || !st.Drift.LastSent.Equal(t0.Add(time.Hour)) {
					return fmt.Errorf("drift incident %+v", st.Drift)
				}
				return nil
			}},
		{name: "the server changes again", state: drifting, rs: server(report.StatusDrift, "b1", "s3", "", severity.Medium),
			want: "drift", notifiers: "rec", reason: "the server changed again"},
		{name: "approval resolves", state: drifting, rs: server(report.StatusBaselined, "b2", "s2", "alice"),
			reeval: true, want: "resolved(drift)", notifiers: "rec", reason: "approved by alice",
			check: func(st store.AlertState) error {
				if !st.IsZero() {
					return fmt.Errorf("state %+v, want none", st)
				}
				return nil
			}},
		{name: "partial approval updates the incident", state: drifting, rs: server(report.StatusDrift, "b2", "s2", "alice", severity.Medium),
			reeval: true, want: "drift+1", notifiers: "rec", reason: "partly approved by alice: 1 change left"},
		{name: "revert resolves", state: drifting, rs: server(report.StatusOK, "b1", "s1", ""),
			want: "resolved(drift)", notifiers: "rec", reason: "server reverted to its baseline"},
		{name: "no baseline is at least high", state: store.AlertState{Server: "a"}, rs: server(report.StatusUnapproved, "", "s1", "", severity.Info),
			want: "drift", notifiers: "rec", reason: "no approved baseline",
			check: func(st store.AlertState) error {
				if st.Drift == nil || st.Drift.ID != "drift/a/none/s1" || st.Drift.Severity != severity.High {
					return fmt.Errorf("drift incident %+v", st.Drift)
				}
				return nil
			}},
		{name: "info drift reaches no notifier", state: store.AlertState{Server: "a"}, rs: server(report.StatusDrift, "b1", "s2", "", severity.Info),
			want: "drift", notifiers: ""},
		{name: "a failure below unreachable_after", state: failing(1, false), rs: failure("connection refused", false), at: time.Minute,
			check: func(st store.AlertState) error {
				if st.Failures != 2 || st.Unreachable != nil {
					return fmt.Errorf("state %+v, want 2 failures and no incident", st)
				}
				return nil
			}},
		{name: "unreachable at unreachable_after", state: failing(2, false), rs: failure("connection refused", false), at: 2 * time.Minute,
			want: "unreachable", notifiers: "rec", reason: "3 consecutive checks failed since 2026-03-01T12:00:00Z: connection refused"},
		{name: "auth required at once", state: store.AlertState{Server: "a"}, rs: failure("authorization required: the refresh token was refused (invalid_grant); run: mcpdrift auth login a", true),
			want: "unreachable", notifiers: "rec", reason: "authorization required: the refresh token was refused (invalid_grant); run: mcpdrift auth login a"},
		{name: "unreachable reminder", state: failing(3, true), rs: server(report.StatusOK, "b1", "s1", ""), at: time.Hour, reeval: true,
			want: "unreachable#1", notifiers: "rec", reason: "still failing: 3 consecutive checks failed"},
		{name: "recovery resolves unreachable", state: failing(3, true), rs: server(report.StatusOK, "b1", "s1", ""), at: time.Hour,
			want: "resolved(unreachable)", notifiers: "rec", reason: "server recovered after 3 failed checks",
			check: func(st store.AlertState) error {
				if !st.IsZero() {
					return fmt.Errorf("state %+v, want none", st)
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Config: cfg, State: Clone(tt.state), Report: tt.rs, Now: t0.Add(tt.at)}
			var out Outcome
			if tt.reeval {
				out = Reevaluate(in, true)
			} else {
				out = Observe(in)
			}
			var got []notifiers.Alert
			for _, a := range out.Alerts {
				got = append(got, a.Alert)
			}
			if d := describe(got); d != tt.want {
				t.Fatalf("alerts %q, want %q: %+v", d, tt.want, got)
			}
			if out.Changed != (tt.want != "" || tt.check != nil) {
				t.Errorf("Changed = %v", out.Changed)
			}
			if len(got) > 0 {
				if n := strings.Join(out.Alerts[0].Notifiers, ","); n != tt.notifiers {
					t.Errorf("routed to %q, want %q", n, tt.notifiers)
				}
				if !strings.Contains(got[0].Reason, tt.reason) {
					t.Errorf("reason %q, want it to contain %q", got[0].Reason, tt.reason)
				}
				if !got[0].At.Equal(in.Now) || got[0].Server != "a" {
					t.Errorf("alert at %s about %q, want %s about a", got[0].At, got[0].Server, in.Now)
				}
			}
			if tt.check != nil {
				if err := tt.check(out.State); err != nil {
					t.Error(err)
				}
			}
			if d := tt.state.Drift; d != nil && in.State.Drift != nil && *d != *in.State.Drift {
				t.Error("the evaluation changed its input state")
			}
		})
	}
}
