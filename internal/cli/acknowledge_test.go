package cli

import (
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/report"
)

// Approving a manifest acknowledges the findings it carried: check exits 0
// for an approved server whose only findings were approved with it, and
// reports them as acknowledged; a new finding still fails until approved.
func TestApprovalAcknowledgesFindings(t *testing.T) {
	cfg, srv := setup(t, "    trust_on_first_use: false\n")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	srv.SetTools(tool("search", "Search issues. Docs: https://docs.weather-api.io/v2"))
	first, code := checkJSON(t, env, "check", "live")
	if code != ExitDrift || first.Status != report.StatusUnapproved {
		t.Fatalf("before approval: exit %d status %s, want 1 unapproved", code, first.Status)
	}
	expect(t, run(t, env, "approve", "live", "--snapshot", first.Snapshot.ID), 0, "")

	ok, code := checkJSON(t, env, "check", "live")
	if code != ExitOK || ok.Status != report.StatusOK || len(ok.Findings) != 1 {
		t.Fatalf("after approval: exit %d status %s findings %+v, want 0, ok and the url finding", code, ok.Status, ok.Findings)
	}
	if f := ok.Findings[0]; f.Rule != "url" || !strings.Contains(f.Acknowledged, "approved by") {
		t.Errorf("finding %+v, want the url finding acknowledged by the approval", f)
	}
	if r := run(t, env, "check", "live"); r.code != ExitOK || !strings.Contains(r.stdout, "(acknowledged: in the baseline") {
		t.Errorf("text check: exit %d\n%s", r.code, r.stdout)
	}
	// Under --fail-on info too: an acknowledged finding fails nothing.
	if _, code := checkJSON(t, env, "check", "live", "--fail-on", "info"); code != ExitOK {
		t.Errorf("--fail-on info: exit %d, want 0", code)
	}

	// A new finding fails, and only it is unacknowledged.
	srv.SetTools(tool("search", "Search issues. Docs: https://docs.weather-api.io/v2"), tool("fetch", "Fetch pages from https://pages.other-host.io/x"))
	drift, code := checkJSON(t, env, "check", "live")
	if code != ExitDrift {
		t.Fatalf("new finding: exit %d, want 1", code)
	}
	var acked, fresh []string
	for _, f := range drift.Findings {
		if f.Acknowledged != "" {
			acked = append(acked, f.Name)
		} else {
			fresh = append(fresh, f.Name)
		}
	}
	if strings.Join(acked, ",") != "search" || strings.Join(fresh, ",") != "fetch" {
		t.Errorf("acknowledged %q, new %q; want search and fetch", acked, fresh)
	}
	expect(t, run(t, env, "approve", "live", "--snapshot", drift.Snapshot.ID), 0, "")
	if _, code := checkJSON(t, env, "check", "live"); code != ExitOK {
		t.Errorf("after approving the new finding: exit %d, want 0", code)
	}
}

// TestLockAcknowledgesFindings: the manifest a lockfile pins is an
// approval too: check --lock accepts the findings it carried and fails on
// new ones, as check does with the database's baseline.
func TestLockAcknowledgesFindings(t *testing.T) {
	cfg, srv := setup(t, "")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	srv.SetTools(tool("search", "Search issues. Docs: https://docs.weather-api.io/v2"))
	lock, _ := exportLock(t, env)

	ok, code := checkJSON(t, env, "check", "--lock", lock)
	if code != ExitOK || len(ok.Findings) != 1 || !strings.Contains(ok.Findings[0].Acknowledged, "approved by") {
		t.Fatalf("check --lock on the pinned manifest: exit %d findings %+v, want 0 and the url finding acknowledged", code, ok.Findings)
	}
	srv.SetTools(tool("search", "Search issues. Docs: https://docs.weather-api.io/v2"), tool("fetch", "Fetch pages from https://pages.other-host.io/x"))
	drift, code := checkJSON(t, env, "check", "--lock", lock)
	if code != ExitDrift {
		t.Fatalf("new finding: exit %d, want 1", code)
	}
	for _, f := range drift.Findings {
		if acked := f.Acknowledged != ""; acked != (f.Name == "search") {
			t.Errorf("finding on %s acknowledged=%v, want only search's", f.Name, acked)
		}
	}
}
