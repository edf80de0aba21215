package store

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// Per-server bucket and key names; see the layout in doc.go.
var (
	bucketObs       = []byte("obs")
	bucketApprovals = []byte("approvals")
	keyLatestSnap   = []byte("snap")
	keyLastErr      = []byte("err")
)

// Observation is one poll of one server: what was seen, when, and how.
// String fields are capped when stored (Error at 4096 bytes, the others at
// 256) because parts of them come from the server.
type Observation struct {
	Server   string
	TakenAt  time.Time // stored with nanosecond precision, returned in UTC
	Duration time.Duration
	// SnapshotID is the manifest id ("sha256:..."); empty for a failed poll.
	SnapshotID string
	Client     string // client identity advertised, e.g. "mcpdrift/1.0.0"
	ClientCaps string // short fingerprint of the client capabilities advertised
	Protocol   string // protocol version negotiated
	Transport  string
	Error      string // why the poll failed; empty on success
	// Capture is the key of the raw capture the snapshot was built from
	// (manifest.CaptureKey), optional: PutSnapshot remembers the latest
	// one per server for Recall. It is not part of the stored history.
	Capture string
}

// PutSnapshot records a successful poll in one transaction: it stores doc
// under its id unless that id is already stored (created reports whether it
// was), appends obs with SnapshotID set to the id, and makes it the server's
// latest snapshot. An unchanged manifest therefore costs only the
// observation.
func (db *DB) PutSnapshot(server string, doc []byte, obs Observation) (id string, created bool, err error) {
	if len(doc) == 0 {
		return "", false, fmt.Errorf("put snapshot of %s: empty manifest document", server)
	}
	id = manifest.Fingerprint(doc)
	if obs.Error != "" {
		return "", false, fmt.Errorf("put snapshot of %s: observation carries an error; use RecordFailure", server)
	}
	if obs.SnapshotID != "" && obs.SnapshotID != id {
		return "", false, fmt.Errorf("put snapshot of %s: observation names snapshot %s but the document is %s", server, obs.SnapshotID, id)
	}
	obs.SnapshotID = id
	err = db.batch(func(tx *bolt.Tx) error {
		var err error
		if created, err = putManifest(tx, id, doc); err != nil {
			return err
		}
		seq, err := appendObservation(tx, server, obs)
		if err != nil {
			return err
		}
		sb := serverBucket(tx, server)
		if err := putCapture(sb, obs.Capture, id); err != nil {
			return err
		}
		return sb.Put(keyLatestSnap, seqKey(seq))
	})
	if err != nil {
		return "", false, fmt.Errorf("put snapshot of %s: %w", server, err)
	}
	return id, created, nil
}

// RecordFailure records a poll that produced no manifest. obs.Error must say
// why. The latest snapshot pointer does not move, so the last good manifest
// stays the one compared against the baseline.
func (db *DB) RecordFailure(server string, obs Observation) error {
	if obs.Error == "" {
		return fmt.Errorf("record failure of %s: observation has no error", server)
	}
	if obs.SnapshotID != "" {
		return fmt.Errorf("record failure of %s: a failed observation has no snapshot (got %s)", server, obs.SnapshotID)
	}
	err := db.batch(func(tx *bolt.Tx) error {
		seq, err := appendObservation(tx, server, obs)
		if err != nil {
			return err
		}
		return serverBucket(tx, server).Put(keyLastErr, seqKey(seq))
	})
	if err != nil {
		return fmt.Errorf("record failure of %s: %w", server, err)
	}
	return nil
}

// putManifest stores doc under id unless it is already there.
func putManifest(tx *bolt.Tx, id string, doc []byte) (bool, error) {
	b := tx.Bucket(bucketManifests)
	if b.Get([]byte(id)) != nil {
		return false, nil
	}
	v, err := encodeDoc(doc)
	if err != nil {
		return false, err
	}
	if err := b.Put([]byte(id), v); err != nil {
		return false, fmt.Errorf("store manifest %s: %w", id, err)
	}
	return true, nil
}

// createServer returns the server's bucket, creating its layout on first use.
func createServer(tx *bolt.Tx, server string) (*bolt.Bucket, error) {
	if server == "" {
		return nil, errors.New("empty server name")
	}
	sb, err := tx.Bucket(bucketServers).CreateBucketIfNotExists([]byte(server))
	if err != nil {
		return nil, fmt.Errorf("create bucket for server %q: %w", server, err)
	}
	for _, name := range [][]byte{bucketObs, bucketApprovals} {
		if _, err := sb.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("create bucket %s for server %q: %w", name, server, err)
		}
	}
	return sb, nil
}

// serverBucket returns the server's bucket or nil if it has no records.
func serverBucket(tx *bolt.Tx, server string) *bolt.Bucket {
	if server == "" {
		return nil
	}
	return tx.Bucket(bucketServers).Bucket([]byte(server))
}

func appendObservation(tx *bolt.Tx, server string, obs Observation) (uint64, error) {
	if obs.Server != "" && obs.Server != server {
		return 0, fmt.Errorf("observation is for server %q", obs.Server)
	}
	if obs.TakenAt.IsZero() || !time.Unix(0, obs.TakenAt.UnixNano()).Equal(obs.TakenAt) {
		return 0, fmt.Errorf("observation time %v is unset or out of range", obs.TakenAt)
	}
	v, err := encodeObservation(obs)
	if err != nil {
		return 0, err
	}
	sb, err := createServer(tx, server)
	if err != nil {
		return 0, err
	}
	b := sb.Bucket(bucketObs)
	// Keys only ever grow, so full pages are never split again: fill them.
	b.FillPercent = 1
	seq, err := b.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("next observation sequence: %w", err)
	}
	if err := b.Put(seqKey(seq), v); err != nil {
		return 0, fmt.Errorf("store observation: %w", err)
	}
	return seq, nil
}

// Manifest returns the document stored under a full id. Read-only.
func (db *DB) Manifest(id string) ([]byte, error) {
	if _, err := parseID(id); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var doc []byte
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketManifests).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("manifest %s: %w", id, ErrNotFound)
		}
		var err error
		doc, err = decodeDoc(id, v)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return doc, nil
}

// ManifestSize returns the length of the document stored under a full id
// without keeping it: a compressed document is inflated through a small
// buffer and counted, so asking the size of a large manifest costs no
// memory of its size. Read-only; the content is not verified.
func (db *DB) ManifestSize(id string) (int64, error) {
	if _, err := parseID(id); err != nil {
		return 0, fmt.Errorf("manifest size: %w", err)
	}
	var n int64
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketManifests).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("manifest %s: %w", id, ErrNotFound)
		}
		var err error
		n, err = docSize(id, v)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("manifest size: %w", err)
	}
	return n, nil
}

// Observations returns up to limit observations of server, newest first;
// limit <= 0 means all. A server never polled has none. Read-only.
func (db *DB) Observations(server string, limit int) ([]Observation, error) {
	var out []Observation
	err := db.view(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil {
			return nil
		}
		c := sb.Bucket(bucketObs).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			o, err := decodeObservation(server, v)
			if err != nil {
				return err
			}
			out = append(out, o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read observations of %s: %w", server, err)
	}
	return out, nil
}

// LatestObservation returns the server's newest observation, successful or
// not; ErrNotFound if it has none. Read-only.
func (db *DB) LatestObservation(server string) (Observation, error) {
	var o Observation
	err := db.view(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil {
			return ErrNotFound
		}
		k, v := sb.Bucket(bucketObs).Cursor().Last()
		if k == nil {
			return ErrNotFound
		}
		var err error
		o, err = decodeObservation(server, v)
		return err
	})
	if err != nil {
		return Observation{}, fmt.Errorf("latest observation of %s: %w", server, err)
	}
	return o, nil
}

// LatestSnapshot returns the server's newest successful observation, whose
// SnapshotID is the manifest to compare against the baseline; ErrNotFound
// if no poll has succeeded yet. Read-only.
func (db *DB) LatestSnapshot(server string) (Observation, error) {
	o, err := db.pointedObservation(server, keyLatestSnap)
	if err != nil {
		return Observation{}, fmt.Errorf("latest snapshot of %s: %w", server, err)
	}
	return o, nil
}

// LastError returns the server's newest failed observation, however old;
// compare its TakenAt with LatestSnapshot's to tell whether it is current.
// ErrNotFound if no poll has failed. Read-only.
func (db *DB) LastError(server string) (Observation, error) {
	o, err := db.pointedObservation(server, keyLastErr)
	if err != nil {
		return Observation{}, fmt.Errorf("last error of %s: %w", server, err)
	}
	return o, nil
}

func (db *DB) pointedObservation(server string, pointer []byte) (Observation, error) {
	var o Observation
	err := db.view(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil {
			return ErrNotFound
		}
		k := sb.Get(pointer)
		if k == nil {
			return ErrNotFound
		}
		v := sb.Bucket(bucketObs).Get(k)
		if v == nil {
			// Prune keeps pointed-to observations, so this is damage.
			return fmt.Errorf("%w: %s points at a missing observation", ErrCorrupt, pointer)
		}
		var err error
		o, err = decodeObservation(server, v)
		return err
	})
	return o, err
}

// Servers returns every server with any observation or approval, sorted by
// name. Read-only.
func (db *DB) Servers() ([]string, error) {
	var out []string
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketServers).ForEachBucket(func(k []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	return out, nil
}
