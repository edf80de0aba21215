package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// handBuilt creates a bbolt file directly, the way an older build would
// have left it, and returns its path.
func handBuilt(t *testing.T, fill func(tx *bolt.Tx) error) string {
	t.Helper()
	path := testPath(t)
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Update(fill); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMigrateFromV0(t *testing.T) {
	tests := []struct {
		name     string
		fill     func(tx *bolt.Tx) error
		wantHook bool
	}{
		{"empty bbolt file", func(*bolt.Tx) error { return nil }, false},
		// A v0 file holding data must be offered for backup first.
		{"v0 with data", func(tx *bolt.Tx) error {
			b, err := tx.CreateBucket([]byte("legacy"))
			if err != nil {
				return err
			}
			return b.Put([]byte("k"), []byte("v"))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := handBuilt(t, tt.fill)
			var calls []string
			db := openAt(t, path, Options{BeforeMigrate: func(p string, from, to int) error {
				calls = append(calls, fmt.Sprintf("%s %d->%d", p, from, to))
				return nil
			}})
			if got := db.SchemaVersion(); got != len(migrations) {
				t.Errorf("SchemaVersion() = %d, want %d", got, len(migrations))
			}
			want := []string(nil)
			if tt.wantHook {
				want = []string{fmt.Sprintf("%s 0->%d", path, len(migrations))}
			}
			if strings.Join(calls, ";") != strings.Join(want, ";") {
				t.Errorf("BeforeMigrate calls %q, want %q", calls, want)
			}
			// The migrated database works.
			id := mustPut(t, db, "s", smallDoc(1), t0)
			if _, err := db.Manifest(id); err != nil {
				t.Errorf("migrated database: %v", err)
			}
		})
	}
}

func TestMigrateHookFailureLeavesFileAlone(t *testing.T) {
	path := handBuilt(t, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("legacy")); return err })
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	backupErr := errors.New("disk full")
	_, err = Open(path, Options{BeforeMigrate: func(string, int, int) error { return backupErr }})
	if !errors.Is(err, backupErr) {
		t.Fatalf("Open: %v, want the hook's error", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("a failed BeforeMigrate still changed the file")
	}
}

func TestMigrateStepByStep(t *testing.T) {
	path := testPath(t)
	var ran []string
	step := func(name string, fail bool) migration {
		return migration{name: name, up: func(tx *bolt.Tx) error {
			v, err := readSchema(tx)
			if err != nil {
				return err
			}
			ran = append(ran, fmt.Sprintf("%s@%d", name, v))
			if fail {
				return errors.New("step failed")
			}
			_, err = tx.CreateBucketIfNotExists([]byte(name))
			return err
		}}
	}
	steps := []migration{migrations[0], step("alerts", false), step("outbox", true)}

	_, err := open(path, Options{}, steps)
	if err == nil || !strings.Contains(err.Error(), "from schema 2 to 3 (outbox)") {
		t.Fatalf("open with a failing third step: %v", err)
	}
	if want := "alerts@1,outbox@2"; strings.Join(ran, ",") != want {
		t.Errorf("steps ran %v, want %s (each seeing the version before it)", ran, want)
	}
	// Each step commits on its own: the failure rolled back only step 3.
	db, err := open(path, Options{}, steps[:2])
	if err != nil {
		t.Fatal(err)
	}
	if got := db.SchemaVersion(); got != 2 {
		t.Errorf("version after the failed step = %d, want 2", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	steps[2] = step("outbox", false)
	ran = nil
	db, err = open(path, Options{}, steps)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.SchemaVersion() != 3 || strings.Join(ran, ",") != "outbox@2" {
		t.Errorf("resumed migration: version %d, ran %v; want 3, [outbox@2]", db.SchemaVersion(), ran)
	}
	err = db.view(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("outbox")) == nil || tx.Bucket([]byte("alerts")) == nil {
			return errors.New("migrated buckets missing")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func TestSchemaTooNewOrOld(t *testing.T) {
	future := handBuilt(t, func(tx *bolt.Tx) error { return writeSchema(tx, len(migrations)+1) })
	old := handBuilt(t, func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("legacy")); return err })
	garbled := handBuilt(t, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keySchema, []byte("one"))
	})
	tests := []struct {
		name string
		path string
		ro   bool
		want error
	}{
		{"future, read-write", future, false, ErrSchemaTooNew},
		{"future, read-only", future, true, ErrSchemaTooNew},
		{"old, read-only", old, true, ErrSchemaTooOld},
		{"unreadable version", garbled, false, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := os.ReadFile(tt.path)
			db, err := Open(tt.path, Options{ReadOnly: tt.ro})
			if err == nil {
				_ = db.Close()
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Open: %v, want %v naming the file", err, tt.want)
			}
			if after, _ := os.ReadFile(tt.path); !bytes.Equal(before, after) {
				t.Error("Open changed a database it refused")
			}
		})
	}
}
