package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// threadRecord is the stored form of a thread handle.
type threadRecord struct {
	Value string    `json:"value"`
	At    time.Time `json:"at"`
}

// maxThreadLen bounds a thread handle; handles are ids, not content.
const maxThreadLen = 1024

// Thread returns the threading handle a notifier stored for an incident
// (such as a Slack channel and message ts), and whether there is one.
// Read-only. *DB satisfies notifiers.ThreadStore.
func (db *DB) Thread(notifier, incident string) (string, bool, error) {
	var rec threadRecord
	found := false
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketThreads).Bucket([]byte(notifier))
		if b == nil {
			return nil
		}
		v := b.Get([]byte(incident))
		if v == nil {
			return nil
		}
		found = true
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("%w: thread of %s: %w", ErrCorrupt, notifier, err)
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("read thread of %s for %s: %w", notifier, incident, err)
	}
	return rec.Value, found, nil
}

// SetThread stores a notifier's threading handle for an incident, stamped
// with the current time for PruneThreads.
func (db *DB) SetThread(notifier, incident, value string) error {
	return db.SetThreadAt(notifier, incident, value, time.Now())
}

// SetThreadAt is SetThread with the time given.
func (db *DB) SetThreadAt(notifier, incident, value string, at time.Time) error {
	switch {
	case notifier == "" || incident == "":
		return errors.New("set thread: empty notifier or incident")
	case len(value) > maxThreadLen:
		return fmt.Errorf("set thread of %s for %s: handle is %d bytes, over %d", notifier, incident, len(value), maxThreadLen)
	}
	v, err := json.Marshal(threadRecord{Value: value, At: at.UTC()})
	if err != nil {
		return fmt.Errorf("set thread of %s for %s: %w", notifier, incident, err)
	}
	err = db.update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketThreads).CreateBucketIfNotExists([]byte(notifier))
		if err != nil {
			return err
		}
		return b.Put([]byte(incident), v)
	})
	if err != nil {
		return fmt.Errorf("set thread of %s for %s: %w", notifier, incident, err)
	}
	return nil
}

// PruneThreads deletes thread handles stored before the given time and
// returns how many it deleted. Incidents live for days, not months, so the
// daemon prunes handles far older than any open incident.
func (db *DB) PruneThreads(before time.Time) (int, error) {
	n := 0
	err := db.update(func(tx *bolt.Tx) error {
		n = 0
		tb := tx.Bucket(bucketThreads)
		var notifiers [][]byte
		if err := tb.ForEachBucket(func(k []byte) error {
			notifiers = append(notifiers, k)
			return nil
		}); err != nil {
			return err
		}
		for _, name := range notifiers {
			b := tb.Bucket(name)
			var doomed [][]byte
			err := b.ForEach(func(k, v []byte) error {
				var rec threadRecord
				if json.Unmarshal(v, &rec) != nil || rec.At.Before(before) {
					doomed = append(doomed, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range doomed {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n += len(doomed)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune threads: %w", err)
	}
	return n, nil
}
