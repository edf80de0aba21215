//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestGuardConvertsFault checks the last line of defence: a read through an
// mmap past the end of a file that shrank underneath it (what a truncated
// database does to bbolt) is reported as ErrCorrupt, not a crash.
func TestGuardConvertsFault(t *testing.T) {
	path := testPath(t)
	if err := os.WriteFile(path, make([]byte, 3*os.Getpagesize()), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := syscall.Mmap(int(f.Fd()), 0, 3*os.Getpagesize(), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(data)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	var read byte
	err = guard(path, func() error {
		read = data[2*os.Getpagesize()]
		return nil
	})
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("guard: %v (read %d), want ErrCorrupt", err, read)
	}
}

// TestTruncatedUnderneath: a database file truncated while open (a full
// disk, an operator's mistake) makes every call fail with ErrCorrupt at
// once, writes first or reads first, and Close returns: the fault leaves
// bbolt's locks held, and nothing may wait on them.
func TestTruncatedUnderneath(t *testing.T) {
	ops := []struct {
		name string
		run  func(db *DB) error
	}{
		{"write", func(db *DB) error { _, _, err := db.PutSnapshot("s", smallDoc(2), obs(t0)); return err }},
		{"failure record", func(db *DB) error { return db.RecordFailure("s", Observation{TakenAt: t0, Error: "x"}) }},
		{"read", func(db *DB) error { _, err := db.LatestSnapshot("s"); return err }},
	}
	for i, first := range ops {
		t.Run(first.name+" first", func(t *testing.T) {
			path := testPath(t)
			db, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			mustPut(t, db, "s", smallDoc(1), t0)
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			done := make(chan []error, 1)
			go func() {
				var errs []error
				for j := range ops {
					errs = append(errs, ops[(i+j)%len(ops)].run(db))
				}
				done <- append(errs, db.Close())
			}()
			select {
			case errs := <-done:
				for _, err := range errs {
					if !errors.Is(err, ErrCorrupt) {
						t.Errorf("after truncation: %v, want ErrCorrupt", err)
					}
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a call on the truncated database did not return")
			}
		})
	}
}
