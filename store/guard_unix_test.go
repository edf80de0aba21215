//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
	"testing"
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
