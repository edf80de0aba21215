package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

const (
	approveBase = `{"format":2,"server":{"instructions":"Use the tools.","serverInfo":{"name":"s","version":"1"}},
"tools":[{"name":"search","description":"Search.","inputSchema":{"type":"object"}}],
"prompts":[{"name":"summarize","description":"Summarize."}],
"resources":[{"uri":"file:///old","name":"old"}],
"resource_templates":[{"uriTemplate":"file:///{a}","name":"a"}]}`
	approveSnap = `{"format":2,"server":{"instructions":"Use the tools. Always.","serverInfo":{"name":"s","version":"2"}},
"tools":[{"name":"search","description":"Search everything.","inputSchema":{"type":"object"}}],
"prompts":[{"name":"summarize","description":"Summarize briefly."}],
"resources":[{"uri":"file:///new","name":"new"}],
"resource_templates":[{"uriTemplate":"file:///{b}","name":"b"}]}`
)

// approveSetup stores approveBase as the baseline of server "s" and
// approveSnap as its latest snapshot.
func approveSetup(t *testing.T) (*engine.Engine, *store.DB, string) {
	t.Helper()
	db := openDB(t)
	e := engine.New(db, nil)
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	baseID, _, err := db.PutSnapshot("s", []byte(approveBase), store.Observation{Server: "s", TakenAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Approve(report.Approval{Server: "s", At: at, Approver: "t", BaselineID: baseID, SnapshotID: baseID, Method: "cli"}, []byte(approveBase)); err != nil {
		t.Fatal(err)
	}
	snapID, _, err := db.PutSnapshot("s", []byte(approveSnap), store.Observation{Server: "s", TakenAt: at.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return e, db, snapID
}

// pending diffs the server's baseline with approveSnap.
func pending(t *testing.T, db *store.DB) []string {
	t.Helper()
	b, err := db.Baseline("s")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := db.Manifest(b.BaselineID)
	if err != nil {
		t.Fatal(err)
	}
	base, err := manifest.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := manifest.Parse([]byte(approveSnap))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range drift.Diff(base, snap, engine.Policy(&config.Server{Name: "s"})) {
		out = append(out, c.Kind+" "+c.Name)
	}
	return out
}

// Partial approval takes any entity kind, and only it: every other change
// stays pending, and the audit trail names what was approved.
func TestApproveEveryEntityKind(t *testing.T) {
	for _, tt := range []struct {
		name string
		refs []string
		gone []string // changes no longer pending
	}{
		{"tool", []string{"search"}, []string{"tool.description search"}},
		{"tool ref", []string{"tool:search"}, []string{"tool.description search"}},
		{"prompt", []string{"prompt:summarize"}, []string{"prompt.changed summarize"}},
		{"resource added and removed", []string{"resource:file:///new", "resource:file:///old"}, []string{"resource.added file:///new", "resource.removed file:///old"}},
		{"resource template", []string{"resource_template:file:///{b}"}, []string{"resource_template.added file:///{b}"}},
		{"server instructions", []string{"server:instructions"}, []string{"server.instructions "}},
		{"server info", []string{"server:serverInfo"}, []string{"server.info "}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e, db, snapID := approveSetup(t)
			before := pending(t, db)
			ap, err := e.Approve(approval.Request{Server: "s", Snapshot: snapID, Tools: tt.refs, Approver: "alice"})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(ap.Tools, ",") != strings.Join(tt.refs, ",") || ap.SnapshotID != snapID || ap.Approver != "alice" {
				t.Errorf("audit record %+v", ap)
			}
			after := pending(t, db)
			want := map[string]bool{}
			for _, c := range before {
				want[c] = true
			}
			for _, g := range tt.gone {
				if !want[g] {
					t.Fatalf("%q was not pending before: %q", g, before)
				}
				delete(want, g)
			}
			if len(after) != len(want) {
				t.Fatalf("pending after: %q, want %d of %q", after, len(want), before)
			}
			for _, c := range after {
				if !want[c] {
					t.Errorf("%q pending after approving %q", c, tt.refs)
				}
			}
		})
	}
}

func TestApproveUnknownEntity(t *testing.T) {
	e, _, snapID := approveSetup(t)
	for _, tt := range []struct {
		refs []string
		want string
	}{
		{[]string{"prompt:summarise"}, "prompt:summarise (did you mean summarize?) in neither"},
		{[]string{"server:instruction"}, "server:instruction in neither"},
		{[]string{"serch"}, "serch (did you mean search?) in neither"},
	} {
		_, err := e.Approve(approval.Request{Server: "s", Snapshot: snapID, Tools: tt.refs})
		if !errors.Is(err, approval.ErrUnknownTool) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want ErrUnknownTool with %q", tt.refs, err, tt.want)
		}
	}
}
