package store

import "errors"

var (
	// ErrLocked reports that another process, or another handle in this
	// process, holds the database file and did not release it within
	// Options.LockTimeout. While the daemon runs, the CLI must use its admin
	// socket instead of opening the file.
	ErrLocked = errors.New("database locked")

	// ErrCorrupt reports a file that is not a readable mcpdrift database: not
	// bbolt at all, truncated, empty, or holding records this package cannot
	// decode. The file is left as it was.
	ErrCorrupt = errors.New("corrupt or not a bbolt database")

	// ErrSchemaTooNew reports a database written by a newer mcpdrift whose
	// schema this build does not know. Nothing is changed.
	ErrSchemaTooNew = errors.New("database schema is newer than this build")

	// ErrSchemaTooOld reports a database opened read-only that needs a
	// migration, which only a read-write Open can run.
	ErrSchemaTooOld = errors.New("database schema needs migration")

	// ErrReadOnly reports a write on a database opened with Options.ReadOnly.
	ErrReadOnly = errors.New("database opened read-only")

	// ErrNotFound reports a manifest, observation, baseline or snapshot
	// reference that the database does not hold.
	ErrNotFound = errors.New("not found")

	// ErrAmbiguous reports a snapshot id prefix that matches more than one
	// id; the message lists the candidates.
	ErrAmbiguous = errors.New("ambiguous snapshot reference")

	// ErrInvalidRef reports a snapshot reference that is neither a full
	// "sha256:" id nor a hex prefix of at least MinPrefixLen digits.
	ErrInvalidRef = errors.New("invalid snapshot reference")

	// ErrConflict reports an approval whose PreviousID is no longer the
	// server's baseline: someone approved in between, so the reviewer must
	// look again.
	ErrConflict = errors.New("baseline changed since it was read")
)
