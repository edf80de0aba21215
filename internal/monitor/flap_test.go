package monitor

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// TestFlappingAlertedOnce: a server alternating between its baseline and
// a poisoned manifest every 4 seconds for two minutes (30 changes) is
// alerted once as flapping, with both manifests, after the drift and
// resolution of its first changes; the notifier gets no more than
// alerts.flap_changes messages for all of it. Once it has kept the
// poisoned manifest for alerts.flap_window, the flapping resolves and the
// drift it settled on is alerted.
func TestFlappingAlertedOnce(t *testing.T) { synctest.Test(t, testFlappingAlertedOnce) }

func testFlappingAlertedOnce(t *testing.T) {
	fleet := newFakeFleet(clock.Real{})
	fleet.set("a", toolsV1)
	rec := &recNotifier{ID: "rec"}
	h := lifecycleHarness(t, dbPath(t), rec, fleet)
	h.waitRuns("a", 1)
	for i := range 30 {
		if i%2 == 0 {
			fleet.set("a", toolsV2)
		} else {
			fleet.set("a", toolsV1)
		}
		h.checkNow("a")
		h.advance(4 * time.Second)
	}
	h.outboxEmpty()
	got := rec.Alerts()
	if n := config.DefaultFlapChanges; len(got) > n {
		t.Fatalf("%d messages while flapping (%s), want at most %d", len(got), describe(got), n)
	}
	var flapping []notifiers.Alert
	for _, a := range got {
		if strings.HasPrefix(a.Incident, "flapping/a/") {
			flapping = append(flapping, a)
		}
	}
	if len(flapping) != 1 {
		t.Fatalf("%d flapping alerts (%s), want 1", len(flapping), describe(got))
	}
	f := flapping[0]
	if f.Kind != notifiers.KindDrift || f.Severity < severity.High || !strings.Contains(f.Reason, "flapping: 4 snapshot changes") ||
		!strings.Contains(f.Reason, "between 2 manifests") || !strings.Contains(f.Reason, "(baseline)") || !strings.Contains(f.Reason, "(high drift)") {
		t.Errorf("flapping alert %s %s %q", f.Kind, f.Severity, f.Reason)
	}

	// It settles on the poisoned manifest.
	fleet.set("a", toolsV2)
	h.checkNow("a")
	before := len(rec.Alerts())
	if before != len(got) {
		t.Fatalf("a change while flapping was alerted: %s", describe(rec.Alerts()[len(got):]))
	}
	// Not before flap_window (10m) without a change, then at the first
	// re-evaluation (every ReminderCheck) after it.
	changed := time.Now()
	h.advanceTo(changed.Add(9 * time.Minute))
	h.outboxEmpty()
	if n := len(rec.Alerts()); n != before {
		t.Fatalf("settled before flap_window: %s", describe(rec.Alerts()[before:]))
	}
	h.advanceTo(changed.Add(config.DefaultFlapWindow + time.Minute))
	after := h.waitAlerts(rec, before+2)[before:]
	if describe(after) != "resolved(drift),drift" || after[0].Incident != f.Incident || !strings.Contains(after[0].Reason, "stopped flapping") {
		t.Fatalf("after settling: %s %+v, want the flapping resolved then the drift it settled on", describe(after), after[0])
	}
	if d := after[1]; d.Severity < severity.High || !strings.HasPrefix(d.Incident, "drift/a/") || len(d.Report.Changes) == 0 {
		t.Errorf("settled drift %s %s %d changes", d.Incident, d.Severity, len(d.Report.Changes))
	}
	h.outboxEmpty()
	if st := h.states()["a"]; st.Flapping != nil || st.Drift == nil || st.Drift.Unsent {
		t.Errorf("state after settling: %+v", st)
	}
	t.Logf("messages: %s; flapping: %s", describe(rec.Alerts()), f.Reason)
}
