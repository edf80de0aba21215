package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// upgrade baselines server-everything at version from, then checks version
// to under the same server name, and returns the second report. The
// versions sit side by side, so args name another file for each; a real
// upgrade in place keeps the configured path, so the launch (which
// another path in args changes) is ignored.
func upgrade(t *testing.T, from, to string) report.Server {
	t.Helper()
	db := openDB(t)
	eng := engine.New(db, testLogger(t))
	ctx := context.Background()
	for i, v := range []string{from, to} {
		cfg := parseConfig(t, fmt.Sprintf(`
servers:
  - name: everything
    command: node
    args: [%q, stdio]
    ignore: [{path: server/identity.launch, reason: "versions side by side"}]
`, everything(t, v)))
		rep := eng.Check(ctx, servers(cfg), engine.Options{})
		rs := rep.Servers[0]
		if i == 0 {
			if rs.Status != report.StatusBaselined {
				t.Fatalf("baseline %s: status %q error %q", v, rs.Status, rs.Error)
			}
			continue
		}
		return rs
	}
	panic("unreachable")
}

func kindsOf(cs []report.Change) map[string]int {
	out := map[string]int{}
	for _, c := range cs {
		out[c.Kind]++
	}
	return out
}

func TestRealUpgradeAnnotationsAndSchemas(t *testing.T) {
	rs := upgrade(t, "2026.1.26", "2026.7.4")
	if rs.Status != report.StatusDrift {
		t.Fatalf("status %q, want drift", rs.Status)
	}
	// Every tool gaining annotations also moves out of the unannotated
	// risk group (tool.risk, info: less risky).
	allowed := map[string]bool{"tool.annotations": true, "tool.input_schema": true, "tool.risk": true}
	// Two real wire changes besides annotations and input schemas: the
	// 2026.7.4 bundle's schema library drops the descriptions of optional
	// fields, so the model no longer sees them. The source is unchanged; the
	// JSON the server sends is not, and that is what mcpdrift reports.
	expectedExtra := map[string]bool{
		"tool.output_schema get-structured-content": true,
		"prompt.changed args-prompt":                true,
	}
	var tools []string
	for _, c := range rs.Changes {
		if key := c.Kind + " " + c.Name; expectedExtra[key] {
			delete(expectedExtra, key)
			continue
		}
		if !allowed[c.Kind] {
			t.Errorf("unexpected change %s %s: %s", c.Kind, c.Name, c.Summary)
		}
		if c.Kind == "tool.annotations" {
			tools = append(tools, c.Name)
		}
	}
	for key := range expectedExtra {
		t.Errorf("missing change %s", key)
	}
	sort.Strings(tools)
	if len(tools) < 5 {
		t.Errorf("want every tool to gain annotations, got %v", tools)
	}
	t.Logf("kinds: %v", kindsOf(rs.Changes))
}

func TestRealUpgradeToolsAddedAndRemoved(t *testing.T) {
	rs := upgrade(t, "2025.7.29", "2025.11.25")
	k := kindsOf(rs.Changes)
	if k["tool.added"] == 0 || k["tool.removed"] == 0 {
		t.Fatalf("want tools added and removed, got %v", k)
	}
}

func TestRealUpgradeNoDrift(t *testing.T) {
	rs := upgrade(t, "2026.7.4", "2026.8.31")
	if rs.Status != report.StatusOK || len(rs.Changes) != 0 {
		for _, c := range rs.Changes {
			t.Errorf("unexpected change %s %s: %s", c.Kind, c.Name, c.Summary)
		}
		t.Fatalf("status %q, want ok", rs.Status)
	}
}
