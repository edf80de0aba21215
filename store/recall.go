package store

import (
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
