package store

import (
	"strings"
	"testing"
	"time"
)

func TestThreads(t *testing.T) {
	db := openTest(t)
	if _, ok, err := db.Thread("slack", "drift/s/a/b"); ok || err != nil {
		t.Fatalf("Thread of nothing: ok=%v err=%v", ok, err)
	}
	if err := db.SetThreadAt("slack", "drift/s/a/b", "C123/1700000000.0001", t0); err != nil {
		t.Fatal(err)
	}
	if err := db.SetThreadAt("slack", "drift/s/a/c", "C123/1700000001.0001", t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	v, ok, err := db.Thread("slack", "drift/s/a/b")
	if err != nil || !ok || v != "C123/1700000000.0001" {
		t.Fatalf("Thread = %q, %v, %v", v, ok, err)
	}
	if _, ok, _ := db.Thread("mail", "drift/s/a/b"); ok {
		t.Error("threads leak between notifiers")
	}
	if err := db.SetThread("slack", "x", strings.Repeat("x", maxThreadLen+1)); err == nil {
		t.Error("oversized handle accepted")
	}
	n, err := db.PruneThreads(t0.Add(24 * time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("PruneThreads = %d, %v; want 1", n, err)
	}
	if _, ok, _ := db.Thread("slack", "drift/s/a/b"); ok {
		t.Error("old thread survived pruning")
	}
	if _, ok, _ := db.Thread("slack", "drift/s/a/c"); !ok {
		t.Error("recent thread was pruned")
	}
}
