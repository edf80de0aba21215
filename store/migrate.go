package store

import (
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Top-level bucket and key names; see the layout in doc.go.
var (
	bucketMeta      = []byte("meta")
	bucketManifests = []byte("manifests")
	bucketServers   = []byte("servers")
	keySchema       = []byte("schema_version")
)

// A migration moves the schema from version n to n+1 inside one write
// transaction; the runner records the new version in the same transaction.
type migration struct {
	name string
	up   func(tx *bolt.Tx) error
}

// migrations[n] migrates version n to n+1; len(migrations) is the current
// schema version. Append only: a released step never changes.
var migrations = []migration{
	{name: "create meta, manifests and servers buckets", up: createBuckets(bucketMeta, bucketManifests, bucketServers)},
	{name: "create alerts, outbox and threads buckets", up: createBuckets(bucketAlerts, bucketOutbox, bucketThreads)},
}

func createBuckets(names ...[]byte) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		for _, n := range names {
			if _, err := tx.CreateBucketIfNotExists(n); err != nil {
				return fmt.Errorf("create bucket %s: %w", n, err)
			}
		}
		return nil
	}
}

// migrate brings the database to len(steps), one transaction per step, and
// returns the resulting version. Read-only databases are only checked.
func (db *DB) migrate(steps []migration, before func(path string, from, to int) error) (int, error) {
	current := len(steps)
	var from int
	var empty bool
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		from, err = readSchema(tx)
		k, _ := tx.Cursor().First()
		empty = k == nil
		return err
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return 0, err // from guard, which names the file
		}
		return 0, corruptErr(db.path, err)
	}
	switch {
	case from > current:
		return 0, fmt.Errorf("database %s has schema version %d, this build knows up to %d (upgrade mcpdrift): %w",
			db.path, from, current, ErrSchemaTooNew)
	case from == current:
		return from, nil
	case db.readOnly:
		return 0, fmt.Errorf("database %s has schema version %d, this build needs %d; open it read-write once (e.g. start the daemon) to migrate: %w",
			db.path, from, current, ErrSchemaTooOld)
	}
	if before != nil && !empty {
		if err := before(db.path, from, current); err != nil {
			return 0, fmt.Errorf("before migrating database %s from schema %d to %d: %w", db.path, from, current, err)
		}
	}
	for v := from; v < current; v++ {
		err := db.update(func(tx *bolt.Tx) error {
			if err := steps[v].up(tx); err != nil {
				return err
			}
			return writeSchema(tx, v+1)
		})
		if err != nil {
			return 0, fmt.Errorf("migrate database %s from schema %d to %d (%s): %w", db.path, v, v+1, steps[v].name, err)
		}
	}
	return current, nil
}

// readSchema returns the stored schema version; no meta bucket is version 0.
func readSchema(tx *bolt.Tx) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return 0, nil
	}
	raw := meta.Get(keySchema)
	if raw == nil {
		return 0, nil
	}
	v, err := strconv.Atoi(string(raw))
	if err != nil || v < 0 {
		return 0, fmt.Errorf("schema_version %q is not a version number", raw)
	}
	return v, nil
}

func writeSchema(tx *bolt.Tx, v int) error {
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
	}
	return meta.Put(keySchema, []byte(strconv.Itoa(v)))
}
