package admin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Database identifies the database file a daemon holds. The daemon reports
// it on /v1/ping, and a client uses a daemon only when it holds the
// database the client's own config names, so that two daemons on one host
// (the system one and a user's, or two instances) are never confused.
//
// The file is compared by device and inode: they hold across symlinks,
// bind mounts and relative paths, and a client reads them with stat(2)
// while the daemon holds bbolt's lock (it could not open the file to read
// an id stored in it). Where the client may not stat the file (the
// database directory is the daemon's, mode 0700), the cleaned absolute
// paths are compared instead.
//
// The identity is the daemon's own report: it tells a client its daemon
// from another, it does not authenticate one. Who may listen on a socket
// path is decided by the directory it is in.
type Database struct {
	// Path is the absolute path the daemon opened.
	Path string `json:"path"`
	// Dev and Ino are the file's device and inode; zero where the platform
	// has none.
	Dev uint64 `json:"dev,omitempty"`
	Ino uint64 `json:"ino,omitempty"`
}

// IdentifyDatabase describes the database file at path, which the caller
// has open.
func IdentifyDatabase(path string) (Database, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Database{}, fmt.Errorf("database %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return Database{}, fmt.Errorf("database %s: %w", path, err)
	}
	d := Database{Path: abs}
	d.Dev, d.Ino, _ = fileID(fi)
	return d, nil
}

// sameAs returns nil when d is the database file at path (as this process
// sees it), else why not, in words for the operator.
func (d Database) sameAs(path string) error {
	if d.Path == "" {
		return errors.New("it does not say which database it holds (a daemon older than this CLI: restart it)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", path, err)
	}
	fi, err := os.Stat(abs) //nolint:gosec // G703: the caller's own database path, from its config or --db
	switch {
	case err == nil:
		if dev, ino, ok := fileID(fi); ok && d.Ino != 0 {
			if dev == d.Dev && ino == d.Ino {
				return nil
			}
			return fmt.Errorf("it holds %s, not %s", d.Path, abs)
		}
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("it holds %s, and %s does not exist", d.Path, abs)
	}
	// No inode to compare (not permitted to stat, or no such thing here):
	// the names must match.
	if samePath(d.Path, abs) {
		return nil
	}
	return fmt.Errorf("it holds %s, not %s", d.Path, abs)
}

// samePath compares two absolute paths, resolving symlinks where this
// process may.
func samePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, errA := filepath.EvalSymlinks(a)
	rb, errB := filepath.EvalSymlinks(b)
	return errA == nil && errB == nil && ra == rb
}
