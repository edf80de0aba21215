package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultLockTimeout is how long Open waits for the file lock when
// Options.LockTimeout is not set. bbolt would otherwise wait forever.
const DefaultLockTimeout = time.Second

// Options configure Open.
type Options struct {
	// LockTimeout bounds the wait for the file lock; zero or negative means
	// DefaultLockTimeout. There is deliberately no way to wait forever.
	LockTimeout time.Duration
	// ReadOnly opens the file with a shared lock and refuses writes. The file
	// must exist and be at the current schema version.
	ReadOnly bool
	// BeforeMigrate, when set, is called once before Open migrates a database
	// that already holds data from schema version from to version to, while
	// the file is locked and unchanged, so the caller can copy it aside. An
	// error aborts Open and leaves the file as it was. It is not called for a
	// new, empty database.
	BeforeMigrate func(path string, from, to int) error
}

// DB is an open mcpdrift database. It is safe for concurrent use.
type DB struct {
	bolt     *bolt.DB
	path     string
	readOnly bool
	version  int
	broken   atomic.Pointer[error] // see DB.guard
	group    group                 // see DB.batch
}

// errPanicked marks an ErrCorrupt that bbolt raised as a panic or fault.
var errPanicked = errors.New("bbolt")

// Open opens or creates the database at path (mode 0600, parent directory
// 0700), then migrates it to the current schema unless opts.ReadOnly is set.
func Open(path string, opts Options) (*DB, error) {
	return open(path, opts, migrations)
}

// open is Open with the migration list as a parameter so tests can exercise
// multi-step migration without shipping fake steps.
func open(path string, opts Options, steps []migration) (*DB, error) {
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create database directory for %s: %w", path, err)
		}
	}
	// bbolt silently initializes a zero-length file as a new database. An
	// empty file where a database should be is far more likely a truncation
	// than an invitation, and a fresh database would re-trust every server on
	// first use, so refuse it. (A concurrent first Open by another process
	// can show the file empty for an instant; retrying resolves that.)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
		return nil, corruptErr(path, errors.New("file is empty (0 bytes)"))
	}

	bdb, err := openBolt(path, timeout, opts.ReadOnly)
	if err != nil {
		return nil, err
	}
	db := &DB{bolt: bdb, path: path, readOnly: opts.ReadOnly}
	if db.version, err = db.migrate(steps, opts.BeforeMigrate); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	return db, nil
}

// openBolt opens the file, converting a lock timeout into ErrLocked and an
// unreadable file, including a panic inside bbolt, into ErrCorrupt.
//
// An existing file is first opened read-only and checked for truncation.
// bbolt's read-write Open reads the freelist, and on a damaged file it can
// panic after taking the lock; the mapping it leaves behind then holds the
// lock until the process exits. A read-only handle reads nothing past the
// meta pages until a transaction does, and can always be closed, so the
// likeliest damage (a truncated copy, a full disk) is caught there cleanly.
func openBolt(path string, timeout time.Duration, readOnly bool) (*bolt.DB, error) {
	bdb, err := rawOpen(path, timeout, true)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !readOnly:
		return rawOpen(path, timeout, false)
	case err != nil:
		return nil, err
	}
	if err := checkSize(bdb, path); err != nil {
		_ = bdb.Close()
		return nil, err
	}
	if readOnly {
		return bdb, nil
	}
	if err := bdb.Close(); err != nil {
		return nil, fmt.Errorf("close database %s: %w", path, err)
	}
	return rawOpen(path, timeout, false)
}

// checkSize reports a file shorter than the pages its meta page claims.
func checkSize(bdb *bolt.DB, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	return guard(path, func() error {
		return bdb.View(func(tx *bolt.Tx) error {
			if need := tx.Size(); need > fi.Size() {
				return corruptErr(path, fmt.Errorf("file is %d bytes but its pages need %d: truncated", fi.Size(), need))
			}
			return nil
		})
	})
}

func rawOpen(path string, timeout time.Duration, readOnly bool) (bdb *bolt.DB, err error) {
	// Keep the file handle so that a panic inside bbolt at least closes it.
	var file *os.File
	openFile := func(name string, flag int, perm os.FileMode) (*os.File, error) {
		f, err := os.OpenFile(name, flag, perm)
		file = f
		return f, err
	}
	err = guard(path, func() error {
		var err error
		bdb, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:  timeout,
			ReadOnly: readOnly,
			OpenFile: openFile,
		})
		return err
	})
	switch {
	case err == nil:
		return bdb, nil
	case errors.Is(err, ErrCorrupt):
		if file != nil {
			_ = file.Close()
		}
		return nil, err
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("database %s is locked by another process or handle (waited %s; is `mcpdrift run` running? the CLI uses its admin socket when it is): %w",
			path, timeout, ErrLocked)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch),
		errors.Is(err, berrors.ErrChecksum), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, corruptErr(path, err)
	default:
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
}

// corruptErr wraps cause as ErrCorrupt with what the operator can do about it.
func corruptErr(path string, cause error) error {
	return fmt.Errorf("database %s: %w (%w); restore it from a backup or move it aside to start a new one",
		path, ErrCorrupt, cause)
}

// guard runs f, converting a panic or a memory fault (bbolt reads the file
// through mmap, and a truncated or mangled file can fault or fail its own
// invariants) into ErrCorrupt.
func guard(path string, f func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = corruptErr(path, fmt.Errorf("%w: %v", errPanicked, r))
		}
	}()
	return f()
}

// guard is guard for an open database. A panic or fault can leave bbolt's
// locks held (one while a transaction begins does), and every later call
// would then wait forever; so after the first one the database is broken:
// every call, Close included, returns that error at once.
func (db *DB) guard(f func() error) error {
	if err := db.broken.Load(); err != nil {
		return *err
	}
	err := guard(db.path, f)
	if errors.Is(err, errPanicked) {
		db.broken.CompareAndSwap(nil, &err)
		return *db.broken.Load()
	}
	return err
}

// view runs fn in a read transaction.
func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	return db.guard(func() error { return db.bolt.View(fn) })
}

// update runs fn in a write transaction.
func (db *DB) update(fn func(tx *bolt.Tx) error) error {
	if db.readOnly {
		return fmt.Errorf("write to database %s: %w", db.path, ErrReadOnly)
	}
	return db.guard(func() error { return db.bolt.Update(fn) })
}

// Path returns the database file path as given to Open.
func (db *DB) Path() string { return db.path }

// SchemaVersion returns the schema version of the open database, which after
// a read-write Open is the current version of this build.
func (db *DB) SchemaVersion() int { return db.version }

// Close releases the file and its lock.
func (db *DB) Close() error {
	if err := db.broken.Load(); err != nil {
		// bbolt's Close would wait for the locks the fault left held; the
		// file and its lock go with the process.
		return fmt.Errorf("close database %s: left open after it failed: %w", db.path, *err)
	}
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", db.path, err)
	}
	return nil
}

// Check runs bbolt's consistency check over the whole file (every page
// reachable or free, no page used twice) and reports problems as ErrCorrupt.
// It reads every page, so it takes time proportional to the file size.
func (db *DB) Check() error {
	var problems []error
	err := db.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			problems = append(problems, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return corruptErr(db.path, errors.Join(problems...))
	}
	return nil
}

// WriteTo writes a consistent copy of the whole database to w from a read
// transaction, so it is a safe hot backup while writers continue.
func (db *DB) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("back up database %s: %w", db.path, err)
	}
	return n, nil
}
