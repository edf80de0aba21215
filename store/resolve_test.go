package store

import (
	"errors"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"strings"
	"testing"
	"time"
)

func TestResolveSnapshot(t *testing.T) {
	db := openTest(t)
	idA := mustPut(t, db, "s", smallDoc(1), t0)
	idB := mustPut(t, db, "s", smallDoc(2), t0.Add(time.Minute))
	partial := smallDoc(-1)
	a, err := db.Approve(report.Approval{Server: "s", At: t0, Approver: "x", SnapshotID: idA}, partial)
	if err != nil {
		t.Fatal(err)
	}
	foreign := mustPut(t, db, "other", smallDoc(-2), t0)
	hexA := strings.TrimPrefix(idA, idPrefix)

	tests := []struct {
		name string
		ref  string
		want string
		err  error
	}{
		{"full id", idA, idA, nil},
		{"8 hex digits", hexA[:8], idA, nil},
		{"8 hex digits with scheme", idPrefix + hexA[:8], idA, nil},
		{"upper case", strings.ToUpper(hexA[:12]), idA, nil},
		{"full hex without scheme", hexA, idA, nil},
		{"other observed id", idB[:24], idB, nil},
		{"approved baseline never observed", a.BaselineID[:15], a.BaselineID, nil},
		{"too short", hexA[:7], "", ErrInvalidRef},
		{"not hex", "zzzzzzzzzz", "", ErrInvalidRef},
		{"too long", hexA + "0", "", ErrInvalidRef},
		{"unknown", "ffffffffffff" + strings.Repeat("0", 10), "", ErrNotFound},
		{"another server's snapshot", foreign, "", ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.ResolveSnapshot("s", tt.ref)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Errorf("ResolveSnapshot(%q) = %q, %v; want %q, %v", tt.ref, got, err, tt.want, tt.err)
			}
		})
	}

}

func TestResolveSnapshotAmbiguous(t *testing.T) {
	db := openTest(t)
	// Found by a birthday search over smallDoc: these ids share "52138025".
	idA := mustPut(t, db, "s", smallDoc(31376), t0)
	idB := mustPut(t, db, "s", smallDoc(75954), t0)
	if idA[:len(idPrefix)+8] != idB[:len(idPrefix)+8] {
		t.Fatalf("fixture ids %s and %s no longer share 8 digits", idA, idB)
	}
	for _, ref := range []string{idA[:len(idPrefix)+8], idA[len(idPrefix) : len(idPrefix)+8]} {
		_, err := db.ResolveSnapshot("s", ref)
		if !errors.Is(err, ErrAmbiguous) {
			t.Fatalf("ResolveSnapshot(%q): %v, want ErrAmbiguous", ref, err)
		}
		for _, id := range []string{idA, idB} {
			if !strings.Contains(err.Error(), id) {
				t.Errorf("error %q does not list candidate %s", err, id)
			}
		}
	}
	// One more digit tells them apart.
	if got, err := db.ResolveSnapshot("s", idB[:len(idPrefix)+9]); err != nil || got != idB {
		t.Errorf("9-digit prefix = %q, %v; want %s", got, err, idB)
	}
}
