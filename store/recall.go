package store

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// keyCapture holds, per server, the key of the capture its latest
// snapshot was built from (Observation.Capture) followed by that
// snapshot's digest.
var keyCapture = []byte("capture")

// Recall returns the document and id of the server's latest snapshot when
// it was built from a capture with this key (see Observation.Capture), or
// ErrNotFound. It lets a new process skip canonicalizing a server that
// answered exactly as last time. Read-only.
func (db *DB) Recall(server, capture string) (doc []byte, id string, err error) {
	err = db.view(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil || len(capture) == 0 {
			return ErrNotFound
		}
		v := sb.Get(keyCapture)
		if len(v) != len(capture)+32 || string(v[:len(capture)]) != capture {
			return ErrNotFound
		}
		id = formatID(v[len(capture):])
		m := tx.Bucket(bucketManifests).Get([]byte(id))
		if m == nil {
			return ErrNotFound
		}
		var err error
		doc, err = decodeDoc(id, m)
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("recall snapshot of %s: %w", server, err)
	}
	return doc, id, nil
}

// putCapture remembers the capture key of the snapshot just stored, or
// forgets the previous one when the caller gave none.
func putCapture(sb *bolt.Bucket, capture, id string) error {
	if len(capture) == 0 {
		return sb.Delete(keyCapture)
	}
	d, err := parseID(id)
	if err != nil {
		return err
	}
	return sb.Put(keyCapture, append([]byte(capture), d[:]...))
}

// keyLint holds, per server, the length of the key of the lint result its
// last check computed, the key, and that result as the caller encoded it.
var keyLint = []byte("lint")

// LintResult returns the lint result stored for the server under key (see
// PutLintResult), or ErrNotFound. Read-only.
func (db *DB) LintResult(server, key string) ([]byte, error) {
	var out []byte
	err := db.view(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil || key == "" {
			return ErrNotFound
		}
		v := sb.Get(keyLint)
		n, w := binary.Uvarint(v)
		if w <= 0 || n != uint64(len(key)) || len(v) < w+len(key) || string(v[w:w+len(key)]) != key {
			return ErrNotFound
		}
		out = append([]byte(nil), v[w+len(key):]...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lint result of %s: %w", server, err)
	}
	return out, nil
}

// PutLintResult keeps one lint result per server under a key saying what
// it was computed from (the snapshot, the cross-server context and the
// code), so that a new process checking an unchanged server does not lint
// it again. A server not stored yet gets none: the result follows a
// snapshot.
func (db *DB) PutLintResult(server, key string, result []byte) error {
	err := db.batch(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil {
			return nil
		}
		v := binary.AppendUvarint(nil, uint64(len(key)))
		return sb.Put(keyLint, append(append(v, key...), result...))
	})
	if err != nil {
		return fmt.Errorf("put lint result of %s: %w", server, err)
	}
	return nil
}
