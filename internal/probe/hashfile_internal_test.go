package probe

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestHashFileSeesEveryRewrite: an executable's digest is remembered, yet
// a rewrite of the same size with its modification time set back is
// hashed again (its change time moved), so a swapped binary is never
// reported with the digest of the one it replaced.
func TestHashFileSeesEveryRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "server")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("#!/bin/sh\necho benign\n")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := hashFile(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := hashFile(path, 1<<20); again != first {
		t.Fatalf("same file hashed %s then %s", first, again)
	}
	write("#!/bin/sh\necho poison\n") // same length
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if fi2, _ := os.Stat(path); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Fatal("the rewrite did not keep size and modification time")
	}
	deadline := time.Now().Add(time.Second)
	second, err := hashFile(path, 1<<20)
	for err == nil && second == first && time.Now().Before(deadline) {
		// A coarse change-time clock may need a tick to move.
		write("#!/bin/sh\necho poison\n")
		_ = os.Chtimes(path, fi.ModTime(), fi.ModTime())
		second, err = hashFile(path, 1<<20)
	}
	if err != nil || second == first {
		t.Fatalf("rewritten executable hashed %s (%v), the old digest was %s", second, err, first)
	}
}
