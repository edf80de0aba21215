package engine_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/store"
)

func rawToolServer(t *testing.T, tool string) string {
	t.Helper()
	return mcptest.ServeRawHTTP(t, mcptest.Raw{Pages: map[string][]json.RawMessage{
		"tools/list": {json.RawMessage(`{"tools":[` + tool + `]}`)},
	}}).URL
}

// canonTool differs from its baseline only where canonicalization
// rules 1 saw nothing: a "required" inside a default value and a lone
// surrogate.
const canonTool = `{"name":"t","description":"x\udc00","annotations":{"readOnlyHint":true},"inputSchema":{"type":"object","required":["b","a"],"properties":{"a":{"type":"string"},"b":{"type":"object","default":{"required":["d","c"]}}}}}`

// TestUpgradeKeepsBaselines: a baseline stored by a release with older
// canonicalization rules gets no alert from an unchanged server, although
// the snapshot id the new rules give differs from it.
func TestUpgradeKeepsBaselines(t *testing.T) {
	url := rawToolServer(t, canonTool)
	srvs := parse(t, "servers:\n  - {name: s, url: "+url+"}\n")
	ctx := context.Background()

	// The document an old release stored: today's snapshot under rules 1.
	fresh := openDB(t)
	first := engine.New(fresh, slog.New(slog.DiscardHandler)).Check(ctx, srvs, 1).Servers[0]
	if first.Status != report.StatusBaselined {
		t.Fatalf("first check: %+v", first)
	}
	doc, err := fresh.Manifest(first.Snapshot.ID)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	old, err := manifest.Under(m, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(old.Document()), `"volatile_rules":1`) || !strings.Contains(string(old.Document()), `["c","d"]`) {
		t.Fatalf("not a rules 1 document: %s", old.Document())
	}

	db := openDB(t)
	a, err := db.Approve(store.Approval{Server: "s", At: time.Now(), Approver: "alice", Method: "cli"}, old.Document())
	if err != nil {
		t.Fatal(err)
	}
	rs := engine.New(db, slog.New(slog.DiscardHandler)).Check(ctx, srvs, 1).Servers[0]
	if rs.Snapshot.ID == a.BaselineID {
		t.Fatal("the snapshot has the old id: the test shows nothing")
	}
	if rs.Status != report.StatusOK || len(rs.Changes) != 0 {
		t.Fatalf("upgrade alone reported: %s %+v", rs.Status, rs.Changes)
	}
}

// TestCanonicalBlindSpots: through check, against a baseline of the
// current rules, each change a client sees is reported.
func TestCanonicalBlindSpots(t *testing.T) {
	tests := []struct {
		name, after, want string
	}{
		{"lone surrogate swapped", strings.Replace(canonTool, `x\udc00`, `x\udc01`, 1), "<U+DC01>"},
		{"required inside default reordered", strings.Replace(canonTool, `["d","c"]`, `["c","d"]`, 1), "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := openDB(t)
			eng := engine.New(db, slog.New(slog.DiscardHandler))
			before := parse(t, "servers:\n  - {name: s, url: "+rawToolServer(t, canonTool)+"}\n")
			if rs := eng.Check(ctx, before, 1).Servers[0]; rs.Status != report.StatusBaselined {
				t.Fatalf("baseline: %+v", rs)
			}
			after := parse(t, "servers:\n  - {name: s, url: "+rawToolServer(t, tt.after)+"}\n")
			rs := eng.Check(ctx, after, 1).Servers[0]
			if rs.Status != report.StatusDrift || rs.Severity < severity.Low {
				t.Fatalf("want drift: %s %s %+v", rs.Status, rs.Severity, rs.Changes)
			}
			var all []string
			for _, c := range rs.Changes {
				if c.Entity == "tool" && c.Name == "t" {
					all = append(all, c.Summary)
				}
			}
			if !strings.Contains(strings.Join(all, "\n"), tt.want) {
				t.Errorf("summaries do not show %q:\n%s", tt.want, strings.Join(all, "\n"))
			}
		})
	}
}
