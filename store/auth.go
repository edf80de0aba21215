package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// bucketAuth holds OAuth grants: auth/<server>/<issuer> -> sealed record.
// The store never sees them in clear: internal/oauth seals each record with
// AES-GCM before it gets here. The bucket is created by the first write, so
// a database that never stored a grant has none (no schema change).
var bucketAuth = []byte("auth")

// maxAuthRecord bounds one sealed grant record.
const maxAuthRecord = 64 << 10

// PutAuth stores a sealed OAuth grant of server from the authorization
// server issuer, replacing the one stored before.
func (db *DB) PutAuth(server, issuer string, sealed []byte) error {
	switch {
	case server == "" || issuer == "":
		return errors.New("put auth: empty server or issuer")
	case len(sealed) > maxAuthRecord:
		return fmt.Errorf("put auth of %s: record is %d bytes, over %d", server, len(sealed), maxAuthRecord)
	}
	err := db.update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketAuth)
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists([]byte(server))
		if err != nil {
			return err
		}
		return b.Put([]byte(issuer), sealed)
	})
	if err != nil {
		return fmt.Errorf("put auth of %s: %w", server, err)
	}
	return nil
}

// Auth returns the sealed OAuth grants of server, by issuer. Read-only.
func (db *DB) Auth(server string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := db.view(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketAuth)
		if root == nil {
			return nil
		}
		b := root.Bucket([]byte(server))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read auth of %s: %w", server, err)
	}
	return out, nil
}

// DeleteAuth deletes every OAuth grant of server.
func (db *DB) DeleteAuth(server string) error {
	err := db.update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketAuth)
		if root == nil || root.Bucket([]byte(server)) == nil {
			return nil
		}
		return root.DeleteBucket([]byte(server))
	})
	if err != nil {
		return fmt.Errorf("delete auth of %s: %w", server, err)
	}
	return nil
}
