package incident

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/notifiers"
)

func alertOf(kind, incident string) notifiers.Alert {
	a := notifiers.Alert{Kind: kind, Incident: incident, Server: "a"}
	if kind == notifiers.KindResolved {
		a.Resolves = notifiers.KindDrift
	}
	return a
}

func heldOf(t *testing.T, as ...notifiers.Alert) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for _, a := range as {
		raw, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw)
	}
	return out
}

// TestRateLimitAdmit: at most max notifications about a server within any
// interval; the rest are held and, when the budget allows, sent each
// family of incidents in its latest state; an incident raised and
// resolved while held is never sent.
func TestRateLimitAdmit(t *testing.T) {
	now := t0
	r := rateLimit{interval: 5 * time.Minute, max: 2}
	recent := []time.Time{now.Add(-time.Minute)}
	tests := []struct {
		name     string
		r        rateLimit
		sent     []time.Time
		held     []notifiers.Alert
		alerts   []notifiers.Alert
		wantOut  string
		wantHeld int
		wantSent int
	}{
		{"within budget, all at once", r, nil, nil,
			[]notifiers.Alert{alertOf("resolved", "drift/a/b/1"), alertOf("drift", "drift/a/b/2")}, "resolved(drift),drift", 0, 2},
		{"over budget: the rest held", r, recent, nil,
			[]notifiers.Alert{alertOf("drift", "drift/a/b/1"), alertOf("unreachable", "unreachable/a/1")}, "drift", 1, 2},
		{"old sends free the budget", r, []time.Time{now.Add(-6 * time.Minute), now.Add(-5 * time.Minute)}, nil,
			[]notifiers.Alert{alertOf("drift", "drift/a/b/1")}, "drift", 0, 1},
		{"held raise then resolved: nothing", r, nil,
			[]notifiers.Alert{alertOf("drift", "drift/a/b/1"), alertOf("resolved", "drift/a/b/1")}, nil, "", 0, 0},
		{"held history collapses to the latest", r, nil,
			[]notifiers.Alert{alertOf("drift", "drift/a/b/1"), alertOf("drift", "drift/a/b/2"), alertOf("drift", "drift/a/b/3")},
			[]notifiers.Alert{alertOf("drift", "drift/a/b/4")}, "drift", 0, 1},
		{"no budget: held stays held", r, []time.Time{now, now}, []notifiers.Alert{alertOf("drift", "drift/a/b/1")}, nil, "", 1, 2},
		{"interval 0: no limit", rateLimit{max: 1}, []time.Time{now, now},
			nil, []notifiers.Alert{alertOf("drift", "drift/a/b/1"), alertOf("drift", "flapping/a/1")}, "drift,drift", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, sent, held, err := tt.r.admit(tt.sent, heldOf(t, tt.held...), tt.alerts, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(out); got != tt.wantOut {
				t.Errorf("sent now %q, want %q", got, tt.wantOut)
			}
			if len(held) != tt.wantHeld || len(sent) != tt.wantSent {
				t.Errorf("held %d, sent times %d; want %d, %d", len(held), len(sent), tt.wantHeld, tt.wantSent)
			}
		})
	}
}

// TestRateLimitBound: a server raising an alert every 4 seconds for an
// hour gets at most max notifications per interval, and the last state
// goes out once the budget allows.
func TestRateLimitBound(t *testing.T) {
	r := rateLimit{interval: 5 * time.Minute, max: 5}
	var sent []time.Time
	var held []json.RawMessage
	total := 0
	var last notifiers.Alert
	for i := range 900 {
		now := t0.Add(time.Duration(i) * 4 * time.Second)
		a := alertOf("drift", "drift/a/b/"+time.Duration(i).String())
		out, s, h, err := r.admit(sent, held, []notifiers.Alert{a}, now)
		if err != nil {
			t.Fatal(err)
		}
		sent, held = s, h
		total += len(out)
		if len(out) > 0 {
			last = out[len(out)-1]
		}
	}
	if limit := 5 * 12; total > limit {
		t.Errorf("%d notifications in an hour, want at most %d", total, limit)
	}
	out, _, held, err := r.admit(sent, held, nil, t0.Add(2*time.Hour))
	if err != nil || len(out) != 1 || len(held) != 0 {
		t.Fatalf("after the hour: %d sent, %d held, %v; want the latest state sent", len(out), len(held), err)
	}
	if out[0].Incident == last.Incident {
		t.Errorf("the flush re-sent %s", last.Incident)
	}
	t.Logf("%d notifications for 900 alerts in an hour", total)
}
