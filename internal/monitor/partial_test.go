package monitor

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// TestPartialApprovalUpdatesTheIncident: approving part of a drift updates
// the open incident ("N changes left", same incident, so the same Slack
// thread and e-mail thread) instead of resolving it and opening a new one
// that re-sends everything; resolved comes once nothing is pending.
func TestPartialApprovalUpdatesTheIncident(t *testing.T) {
	synctest.Test(t, testPartialApprovalUpdatesTheIncident)
}

func testPartialApprovalUpdatesTheIncident(t *testing.T) {
	fleet := newFakeFleet(clock.Real{})
	fleet.set("a", toolsV1)
	rec := &recNotifier{ID: "rec"}
	h := lifecycleHarness(t, dbPath(t), rec, fleet)
	h.waitRuns("a", 1)

	fleet.set("a", map[string]string{"search": "Search issues and pull requests.", "list_repos": "List repositories."})
	h.checkNow("a")
	got := h.waitAlerts(rec, 1)
	if got[0].Kind != notifiers.KindDrift || len(got[0].Report.Changes) != 2 {
		t.Fatalf("first alert = %+v, want a drift of 2 changes", got[0])
	}
	incident := got[0].Incident

	if _, err := h.app.Service().Approve(context.Background(), approval.Request{Server: "a", Tools: []string{"list_repos"}, Approver: "alice"}); err != nil {
		t.Fatal(err)
	}
	got = h.waitAlerts(rec, 2)
	if a := got[1]; a.Kind != notifiers.KindDrift || a.Incident != incident || len(a.Report.Changes) != 1 ||
		a.Reason != "partly approved by alice: 1 change left" || !a.FirstSeen.Equal(got[0].FirstSeen) {
		t.Fatalf("after the partial approval: %s\n%+v\nwant an update of incident %s with 1 change left", describe(got), a, incident)
	}

	if _, err := h.app.Service().Approve(context.Background(), approval.Request{Server: "a", Approver: "bob"}); err != nil {
		t.Fatal(err)
	}
	got = h.waitAlerts(rec, 3)
	if a := got[2]; a.Kind != notifiers.KindResolved || a.Incident != incident || !strings.Contains(a.Reason, "approved by bob") {
		t.Fatalf("after approving the rest: %s, want incident %s resolved", describe(got), incident)
	}
	// Nothing else was sent: one incident, three messages.
	h.checkNow("a")
	h.advance(2 * time.Hour)
	if n := len(rec.Alerts()); n != 3 {
		t.Errorf("%d alerts, want 3: %s", n, describe(rec.Alerts()))
	}
}
