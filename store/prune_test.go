package store

import (
	"errors"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"testing"
	"time"
)

func TestPrune(t *testing.T) {
	db := openTest(t)
	min := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

	// s: A approved, then B, a failure, then C over and over.
	docA, docB, docC, partial := smallDoc(1), smallDoc(2), smallDoc(3), smallDoc(4)
	idA := mustPut(t, db, "s", docA, min(0))
	if _, err := db.Approve(report.Approval{Server: "s", At: min(0), Approver: "tofu", SnapshotID: idA}, docA); err != nil {
		t.Fatal(err)
	}
	idB := mustPut(t, db, "s", docB, min(1))
	failed := obs(min(2))
	failed.Error = "timeout"
	if err := db.RecordFailure("s", failed); err != nil {
		t.Fatal(err)
	}
	var idC string
	for i := 3; i < 10; i++ {
		idC = mustPut(t, db, "s", docC, min(i))
	}
	// A partial baseline nobody observed.
	if _, err := db.Approve(report.Approval{Server: "s", At: min(10), Approver: "alice", PreviousID: idA, SnapshotID: idC, Tools: []string{"x"}}, partial); err != nil {
		t.Fatal(err)
	}
	// old: a single observation, long ago.
	idOld := mustPut(t, db, "old", smallDoc(5), min(-1000))
	// gone: B's only other observer goes too.
	mustPut(t, db, "gone", docB, min(0))
	mustPut(t, db, "gone", docC, min(5))

	removed, err := db.Prune(min(10), 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	// s keeps its 3 newest plus the latest failure; loses A, B and 4 of C.
	// gone is within 3; old keeps its only observation.
	if removed != 6 {
		t.Errorf("removed %d observations, want 6", removed)
	}
	got, err := db.Observations("s", 0)
	if err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	for _, o := range got {
		times = append(times, o.TakenAt)
	}
	if want := []time.Time{min(9), min(8), min(7), min(2)}; !equalTimes(times, want) {
		t.Errorf("s kept %v, want %v", times, want)
	}
	if e, err := db.LastError("s"); err != nil || e.Error != "timeout" {
		t.Errorf("LastError after prune = %+v, %v", e, err)
	}
	if all, _ := db.Approvals("s"); len(all) != 2 {
		t.Errorf("prune touched approvals: %d left, want 2", len(all))
	}
	// A is a past baseline, partial the current one: both stay. B is
	// still observed by gone.
	for _, id := range []string{idA, fingerprint(partial), idB, idC, idOld} {
		if _, err := db.Manifest(id); err != nil {
			t.Errorf("manifest %s collected: %v", id, err)
		}
	}

	// Now age: everything before min 8.5 goes, except each server's
	// newest and pointed-to observations; B loses its last observer.
	removed, err = db.Prune(min(10), 0, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if removed != 3 { // s: min 8 and 7; gone: min 0
		t.Errorf("removed %d observations by age, want 3", removed)
	}
	if _, err := db.Manifest(idB); !errors.Is(err, ErrNotFound) {
		t.Errorf("unreferenced manifest B survived: %v", err)
	}
	if _, err := db.LatestObservation("old"); err != nil {
		t.Errorf("old lost its only observation: %v", err)
	}
	for _, id := range []string{idA, fingerprint(partial), idC, idOld} {
		if _, err := db.Manifest(id); err != nil {
			t.Errorf("manifest %s collected: %v", id, err)
		}
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check after prune: %v", err)
	}
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
