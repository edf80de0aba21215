package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// TestRecall: the latest snapshot is recalled by the key of the capture it
// was built from, only by that key, and not after a snapshot stored
// without one or of another server.
func TestRecall(t *testing.T) {
	db := openTest(t)
	docA, docB := testDoc(t, 1, 200), testDoc(t, 2, 200)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(doc []byte, capture string, at time.Time) string {
		t.Helper()
		o := obs(at)
		o.Capture = capture
		id, _, err := db.PutSnapshot("s", doc, o)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	miss := func(server, capture string) {
		t.Helper()
		if _, _, err := db.Recall(server, capture); !errors.Is(err, ErrNotFound) {
			t.Errorf("Recall(%q, %q): %v, want ErrNotFound", server, capture, err)
		}
	}
	miss("s", "k1") // nothing stored

	idA := put(docA, "k1", t0)
	doc, id, err := db.Recall("s", "k1")
	if err != nil || id != idA || !bytes.Equal(doc, docA) {
		t.Fatalf("Recall: %s %v, want %s", id, err, idA)
	}
	miss("s", "k2")
	miss("s", "k")
	miss("s", "")
	miss("other", "k1")

	idB := put(docB, "k2", t0.Add(time.Minute))
	if _, id, err := db.Recall("s", "k2"); err != nil || id != idB {
		t.Fatalf("Recall after a change: %s %v, want %s", id, err, idB)
	}
	miss("s", "k1") // only the latest capture is remembered

	put(docA, "", t0.Add(2*time.Minute))
	miss("s", "k2") // a snapshot without a key forgets the last one

	// The key is not history: observations read back without it.
	o, err := db.LatestSnapshot("s")
	if err != nil || o.Capture != "" {
		t.Fatalf("LatestSnapshot: %+v %v", o, err)
	}
}

// TestLintResult: one lint result per server, found only by its key.
func TestLintResult(t *testing.T) {
	db := openTest(t)
	if err := db.PutLintResult("s", "k1", []byte("[1]")); err != nil {
		t.Fatal(err) // a server never stored: nothing kept, no error
	}
	if _, err := db.LintResult("s", "k1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lint result of a server never stored: %v", err)
	}
	if _, _, err := db.PutSnapshot("s", testDoc(t, 1, 10), obs(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))); err != nil {
		t.Fatal(err)
	}
	if err := db.PutLintResult("s", "k1", []byte("[1]")); err != nil {
		t.Fatal(err)
	}
	if got, err := db.LintResult("s", "k1"); err != nil || string(got) != "[1]" {
		t.Fatalf("LintResult: %q %v", got, err)
	}
	for _, k := range []string{"k2", "k", ""} {
		if _, err := db.LintResult("s", k); !errors.Is(err, ErrNotFound) {
			t.Errorf("LintResult(%q): %v, want ErrNotFound", k, err)
		}
	}
	if err := db.PutLintResult("s", "k2", []byte("[]")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LintResult("s", "k1"); !errors.Is(err, ErrNotFound) {
		t.Error("an older lint result is still found")
	}
}
