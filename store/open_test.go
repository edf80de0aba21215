package store

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/report"
	bolt "go.etcd.io/bbolt"
)

func TestOpenCreatesPrivateFileAndDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "mcpdrift")
	path := filepath.Join(dir, "db")
	db := openAt(t, path, Options{})
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	if got := db.SchemaVersion(); got != len(migrations) || got < 1 {
		t.Errorf("SchemaVersion() = %d, want %d", got, len(migrations))
	}
	for p, want := range map[string]fs.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", p, got, want)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		ro      bool
	}{
		{"read-write", 100 * time.Millisecond, false},
		{"read-only", 100 * time.Millisecond, true},
		{"default timeout is bounded", 0, false},
	}
	path := testPath(t)
	openAt(t, path, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wait := tt.timeout
			if wait == 0 {
				wait = DefaultLockTimeout
			}
			start := time.Now()
			db, err := Open(path, Options{LockTimeout: tt.timeout, ReadOnly: tt.ro})
			elapsed := time.Since(start)
			if err == nil {
				_ = db.Close()
				t.Fatal("second Open succeeded while the first handle holds the file")
			}
			if !errors.Is(err, ErrLocked) {
				t.Errorf("error %v, want ErrLocked", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "mcpdrift run") {
				t.Errorf("error %q should name the file and what to do", err)
			}
			// bbolt polls the lock every 50ms and gives up up to one poll early.
			if elapsed < wait-100*time.Millisecond || elapsed > wait+2*time.Second {
				t.Errorf("Open returned after %v, want about %v", elapsed, wait)
			}
		})
	}
}

func TestOpenReadOnly(t *testing.T) {
	path := testPath(t)
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read-only Open of a missing file: %v, want fs.ErrNotExist", err)
	}
	db := openAt(t, path, Options{})
	id := mustPut(t, db, "s", smallDoc(1), t0)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Readers share the lock, so two read-only handles coexist.
	ro1 := openAt(t, path, Options{ReadOnly: true, LockTimeout: 100 * time.Millisecond})
	ro2 := openAt(t, path, Options{ReadOnly: true, LockTimeout: 100 * time.Millisecond})
	for _, ro := range []*DB{ro1, ro2} {
		got, err := ro.LatestSnapshot("s")
		if err != nil || got.SnapshotID != id {
			t.Errorf("LatestSnapshot = %+v, %v; want %s", got, err, id)
		}
	}
	writes := map[string]func() error{
		"PutSnapshot": func() error { _, _, err := ro1.PutSnapshot("s", smallDoc(2), obs(t0)); return err },
		"RecordFailure": func() error {
			o := obs(t0)
			o.Error = "x"
			return ro1.RecordFailure("s", o)
		},
		"Approve": func() error {
			_, err := ro1.Approve(report.Approval{Server: "s", At: t0, Approver: "a"}, smallDoc(1))
			return err
		},
		"Prune": func() error { _, err := ro1.Prune(t0, 1, 0); return err },
	}
	for name, write := range writes {
		if err := write(); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only database: %v, want ErrReadOnly", name, err)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path, Options{})
	doc := testDoc(t, 1, 4000)
	id := mustPut(t, db, "s", doc, t0)
	failed := obs(t0.Add(time.Minute))
	failed.Error = "connection refused"
	if err := db.RecordFailure("s", failed); err != nil {
		t.Fatal(err)
	}
	a, err := db.Approve(report.Approval{Server: "s", At: t0, Approver: "alice", SnapshotID: id, Method: "cli"}, doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, Options{})
	if got, err := db.Manifest(id); err != nil || !bytes.Equal(got, doc) {
		t.Errorf("Manifest after reopen: %v", err)
	}
	if got, err := db.Baseline("s"); err != nil || got.Seq != a.Seq || got.BaselineID != id {
		t.Errorf("Baseline after reopen = %+v, %v", got, err)
	}
	if got, err := db.Observations("s", 0); err != nil || len(got) != 2 {
		t.Errorf("Observations after reopen: %d, %v; want 2", len(got), err)
	}
	if got, err := db.LastError("s"); err != nil || got.Error != "connection refused" {
		t.Errorf("LastError after reopen = %+v, %v", got, err)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

// realDB returns the bytes of a database holding some data.
func realDB(t *testing.T) []byte {
	t.Helper()
	path := testPath(t)
	db := openAt(t, path, Options{})
	for i := range 50 {
		mustPut(t, db, "s", testDoc(t, uint64(i), 3000), t0.Add(time.Duration(i)*time.Minute))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOpenCorrupt(t *testing.T) {
	real := realDB(t)
	r := rand.New(rand.NewPCG(7, 7))
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	// Valid meta pages over shredded data pages: bbolt opens it and only
	// notices (or panics) when a transaction walks the tree.
	shredded := bytes.Clone(real)
	for i := 2 * 4096; i < len(shredded); i++ {
		shredded[i] = byte(r.UintN(256))
	}
	tests := []struct {
		name string
		data []byte
		// bbolt's read-write Open panics on this file after taking the lock,
		// and its leftover mapping keeps the lock until the process exits.
		leaksLock bool
	}{
		{"zero-length", nil, false},
		{"text file", []byte("storage:\n  path: /var/lib/mcpdrift/mcpdrift.db\n"), false},
		{"random bytes", random, false},
		{"truncated after the meta pages", real[:3*4096], false},
		{"truncated to half", real[:len(real)/2], false},
		{"truncated inside the first page", real[:1000], false},
		{"data pages shredded", shredded, true},
	}
	for _, tt := range tests {
		for _, ro := range []bool{false, true} {
			name := tt.name
			if ro {
				name += "/read-only"
			}
			t.Run(name, func(t *testing.T) {
				path := testPath(t)
				if err := os.WriteFile(path, tt.data, 0o600); err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() {
					db, err := Open(path, Options{ReadOnly: ro, LockTimeout: 100 * time.Millisecond})
					if err == nil {
						// Some damage only shows when the data is read.
						_, err = db.Observations("s", 0)
						if err == nil {
							err = db.Check()
						}
						_ = db.Close()
					}
					done <- err
				}()
				var err error
				select {
				case err = <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Open hung on a corrupt file")
				}
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error %v, want ErrCorrupt", err)
				}
				t.Log(err)
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error %q does not name the file", err)
				}
				after, _ := os.ReadFile(path)
				if tt.data != nil && !bytes.Equal(after, tt.data) {
					t.Errorf("Open changed the corrupt file")
				}
				if tt.data == nil && len(after) != 0 {
					t.Errorf("Open initialized an empty file (%d bytes)", len(after))
				}
				if tt.leaksLock && !ro {
					return
				}
				// A failed Open released the lock.
				if err := os.WriteFile(path, real, 0o600); err != nil {
					t.Fatal(err)
				}
				db := openAt(t, path, Options{LockTimeout: 100 * time.Millisecond})
				if _, err := db.LatestSnapshot("s"); err != nil {
					t.Errorf("repaired file: %v", err)
				}
			})
		}
	}
}

func TestCheckAndWriteTo(t *testing.T) {
	db := openTest(t)
	doc := testDoc(t, 3, 5000)
	id := mustPut(t, db, "s", doc, t0)
	if err := db.Check(); err != nil {
		t.Fatalf("Check on a healthy database: %v", err)
	}
	var buf bytes.Buffer
	n, err := db.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("WriteTo = %d, %v (buffer %d)", n, err, buf.Len())
	}
	copyPath := testPath(t)
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	backup := openAt(t, copyPath, Options{ReadOnly: true})
	if got, err := backup.Manifest(id); err != nil || !bytes.Equal(got, doc) {
		t.Errorf("backup lacks the manifest: %v", err)
	}
}

func TestCorruptRecordIsReported(t *testing.T) {
	db := openTest(t)
	id := mustPut(t, db, "s", smallDoc(1), t0)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketManifests).Put([]byte(id), []byte("\x00{\"format\":1,\"n\":2}"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Manifest(id); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Manifest of a tampered record: %v, want ErrCorrupt", err)
	}
}
