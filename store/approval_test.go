package store

import (
	"bytes"
	"errors"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestApproveAppendOnly(t *testing.T) {
	db := openTest(t)
	if _, err := db.Baseline("s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Baseline with no approval: %v, want ErrNotFound", err)
	}
	docA, docB := smallDoc(1), smallDoc(2)
	snapA := mustPut(t, db, "s", docA, t0)

	first, err := db.Approve(report.Approval{Server: "s", At: t0, Approver: "trust-on-first-use", SnapshotID: snapA, Method: "trust-on-first-use"}, docA)
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 || first.BaselineID != snapA || first.PreviousID != "" {
		t.Errorf("first approval = %+v", first)
	}

	// Someone reviewing an older state (no baseline) loses the race.
	if _, err := db.Approve(report.Approval{Server: "s", At: t0, Approver: "bob"}, docB); !errors.Is(err, ErrConflict) {
		t.Errorf("approval over a stale baseline: %v, want ErrConflict", err)
	}
	stale := "sha256:" + strings.Repeat("0", 64)
	if _, err := db.Approve(report.Approval{Server: "s", At: t0, Approver: "bob", PreviousID: stale}, docB); !errors.Is(err, ErrConflict) {
		t.Errorf("approval naming another previous baseline: %v, want ErrConflict", err)
	}

	snapB := mustPut(t, db, "s", docB, t0.Add(time.Hour))
	second, err := db.Approve(report.Approval{Server: "s", At: t0.Add(2 * time.Hour), Approver: "alice", Comment: "new search tool",
		PreviousID: first.BaselineID, SnapshotID: snapB, Method: "cli"}, docB)
	if err != nil {
		t.Fatal(err)
	}
	if second.Seq != 2 || second.BaselineID != snapB {
		t.Errorf("second approval = %+v", second)
	}

	all, err := db.Approvals("s")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Seq != 2 || all[1].Seq != 1 {
		t.Fatalf("Approvals = %+v, want seq 2 then 1 (the conflicts appended nothing)", all)
	}
	if !all[1].At.Equal(t0) || all[1].Method != "trust-on-first-use" || all[1].SnapshotID != snapA {
		t.Errorf("first record changed: %+v", all[1])
	}
	base, err := db.Baseline("s")
	if err != nil || base.Seq != 2 || base.Comment != "new search tool" || base.PreviousID != snapA {
		t.Errorf("Baseline = %+v, %v", base, err)
	}
}

func TestApprovePartial(t *testing.T) {
	db := openTest(t)
	observed := smallDoc(1)
	snap := mustPut(t, db, "s", observed, t0)
	// A partial approval takes some tools from the snapshot and keeps the
	// rest as they were, producing a manifest nobody ever observed.
	partial := smallDoc(99)
	tools := []string{"search", "list"}
	a, err := db.Approve(report.Approval{
		Server: "s", At: t0.Add(time.Minute), Approver: "alice", Comment: "only the two read tools",
		SnapshotID: snap, Tools: tools, Method: "cli",
	}, partial)
	if err != nil {
		t.Fatal(err)
	}
	tools[0] = "mutated by the caller"
	got, err := db.Baseline("s")
	if err != nil {
		t.Fatal(err)
	}
	want := report.Approval{
		Server: "s", Seq: 1, At: t0.Add(time.Minute), Approver: "alice", Comment: "only the two read tools",
		BaselineID: fingerprint(partial), SnapshotID: snap, Tools: []string{"search", "list"}, Method: "cli",
	}
	for name, rec := range map[string]report.Approval{"returned": a, "stored": got} {
		if !equalApproval(rec, want) {
			t.Errorf("%s record:\n got %+v\nwant %+v", name, rec, want)
		}
	}
	doc, err := db.Manifest(got.BaselineID)
	if err != nil || !bytes.Equal(doc, partial) {
		t.Errorf("baseline document not stored: %v", err)
	}
}

func equalApproval(a, b report.Approval) bool {
	tools := slices.Equal(a.Tools, b.Tools)
	a.Tools, b.Tools = nil, nil
	at := a.At.Equal(b.At)
	a.At, b.At = time.Time{}, time.Time{}
	return tools && at && a.Server == b.Server && a.Seq == b.Seq && a.Approver == b.Approver &&
		a.Comment == b.Comment && a.BaselineID == b.BaselineID && a.PreviousID == b.PreviousID &&
		a.SnapshotID == b.SnapshotID && a.Method == b.Method
}

func TestApproveRejects(t *testing.T) {
	db := openTest(t)
	doc := smallDoc(1)
	valid := report.Approval{Server: "s", At: t0, Approver: "alice"}
	tests := []struct {
		name string
		edit func(*report.Approval)
		doc  []byte
	}{
		{"no server", func(a *report.Approval) { a.Server = "" }, doc},
		{"no time", func(a *report.Approval) { a.At = time.Time{} }, doc},
		{"no approver", func(a *report.Approval) { a.Approver = "" }, doc},
		{"no document", nil, nil},
		{"baseline id does not match document", func(a *report.Approval) { a.BaselineID = fingerprint(smallDoc(2)) }, doc},
		{"snapshot id malformed", func(a *report.Approval) { a.SnapshotID = "abc" }, doc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := valid
			if tt.edit != nil {
				tt.edit(&a)
			}
			if _, err := db.Approve(a, tt.doc); err == nil {
				t.Error("Approve accepted it")
			}
		})
	}
	if all, _ := db.Approvals("s"); len(all) != 0 {
		t.Errorf("rejected approvals were stored: %+v", all)
	}
}
