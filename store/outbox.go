package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Delivery is one alert waiting to be sent to one notifier. The store keeps
// the alert as opaque JSON; the daemon's dispatcher decodes it.
type Delivery struct {
	Notifier string `json:"-"`
	// ID orders a notifier's deliveries; assigned when enqueued.
	ID    uint64          `json:"-"`
	Alert json.RawMessage `json:"alert"`
	// Created is when the alert was raised; deliveries older than the
	// configured maximum age are dropped, not sent.
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// Enqueue appends ds to their notifiers' queues in one transaction and
// returns them with ids assigned.
func (db *DB) Enqueue(ds []Delivery) ([]Delivery, error) {
	out := make([]Delivery, len(ds))
	copy(out, ds)
	if err := db.update(func(tx *bolt.Tx) error { return enqueue(tx, out) }); err != nil {
		return nil, fmt.Errorf("enqueue deliveries: %w", err)
	}
	return out, nil
}

func enqueue(tx *bolt.Tx, ds []Delivery) error {
	for i := range ds {
		d := &ds[i]
		if d.Notifier == "" {
			return errors.New("delivery without a notifier")
		}
		if len(d.Alert) == 0 || !json.Valid(d.Alert) {
			return fmt.Errorf("delivery to %s: alert is not JSON", d.Notifier)
		}
		b, err := tx.Bucket(bucketOutbox).CreateBucketIfNotExists([]byte(d.Notifier))
		if err != nil {
			return fmt.Errorf("create outbox of %s: %w", d.Notifier, err)
		}
		// Ids only grow: fill pages completely, as for observations.
		b.FillPercent = 1
		if d.ID, err = b.NextSequence(); err != nil {
			return fmt.Errorf("next delivery id for %s: %w", d.Notifier, err)
		}
		if err := putDelivery(b, *d); err != nil {
			return err
		}
	}
	return nil
}

func putDelivery(b *bolt.Bucket, d Delivery) error {
	d.LastError = truncate(d.LastError, maxErrorLen)
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery %d to %s: %w", d.ID, d.Notifier, err)
	}
	if err := b.Put(seqKey(d.ID), v); err != nil {
		return fmt.Errorf("store delivery %d to %s: %w", d.ID, d.Notifier, err)
	}
	return nil
}

func decodeDelivery(notifier string, k, v []byte) (Delivery, error) {
	id, ok := keySeq(k)
	if !ok {
		return Delivery{}, fmt.Errorf("%w: delivery key of %s is %d bytes", ErrCorrupt, notifier, len(k))
	}
	var d Delivery
	if err := json.Unmarshal(v, &d); err != nil {
		return Delivery{}, fmt.Errorf("%w: delivery %d to %s: %w", ErrCorrupt, id, notifier, err)
	}
	d.Notifier, d.ID = notifier, id
	return d, nil
}

// NextDelivery returns the oldest delivery waiting for notifier;
// ErrNotFound when its queue is empty. Read-only.
func (db *DB) NextDelivery(notifier string) (Delivery, error) {
	var d Delivery
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox).Bucket([]byte(notifier))
		if b == nil {
			return ErrNotFound
		}
		k, v := b.Cursor().First()
		if k == nil {
			return ErrNotFound
		}
		var err error
		d, err = decodeDelivery(notifier, k, v)
		return err
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("next delivery to %s: %w", notifier, err)
	}
	return d, nil
}

// Deliveries returns every delivery waiting for notifier, oldest first.
// Read-only.
func (db *DB) Deliveries(notifier string) ([]Delivery, error) {
	var out []Delivery
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox).Bucket([]byte(notifier))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			d, err := decodeDelivery(notifier, k, v)
			if err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read deliveries to %s: %w", notifier, err)
	}
	return out, nil
}

// OutboxCounts returns how many deliveries wait for each notifier that has
// any. Read-only.
func (db *DB) OutboxCounts() (map[string]int, error) {
	out := map[string]int{}
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEachBucket(func(k []byte) error {
			if n := tx.Bucket(bucketOutbox).Bucket(k).Stats().KeyN; n > 0 {
				out[string(k)] = n
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return out, nil
}

// OutboxLen returns how many deliveries wait for notifier. Read-only.
func (db *DB) OutboxLen(notifier string) (int, error) {
	n := 0
	err := db.view(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketOutbox).Bucket([]byte(notifier)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("count deliveries to %s: %w", notifier, err)
	}
	return n, nil
}

// UpdateDelivery rewrites a waiting delivery after a failed attempt
// (Attempts, NextAttempt, LastError); ErrNotFound if it is no longer
// queued.
func (db *DB) UpdateDelivery(d Delivery) error {
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox).Bucket([]byte(d.Notifier))
		if b == nil || b.Get(seqKey(d.ID)) == nil {
			return ErrNotFound
		}
		return putDelivery(b, d)
	})
	if err != nil {
		return fmt.Errorf("update delivery %d to %s: %w", d.ID, d.Notifier, err)
	}
	return nil
}

// DeleteDelivery removes a delivery that was sent or given up on. Deleting
// one that is already gone is not an error.
func (db *DB) DeleteDelivery(notifier string, id uint64) error {
	err := db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox).Bucket([]byte(notifier))
		if b == nil {
			return nil
		}
		return b.Delete(seqKey(id))
	})
	if err != nil {
		return fmt.Errorf("delete delivery %d to %s: %w", id, notifier, err)
	}
	return nil
}

// DropOutboxes deletes every delivery waiting for a notifier not in keep
// (a notifier removed from the configuration) and returns how many were
// dropped per notifier.
func (db *DB) DropOutboxes(keep []string) (map[string]int, error) {
	kept := map[string]bool{}
	for _, n := range keep {
		kept[n] = true
	}
	dropped := map[string]int{}
	err := db.update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		var doomed []string
		err := ob.ForEachBucket(func(k []byte) error {
			if !kept[string(k)] {
				doomed = append(doomed, string(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		sort.Strings(doomed)
		for _, n := range doomed {
			if c := ob.Bucket([]byte(n)).Stats().KeyN; c > 0 {
				dropped[n] = c
			}
			if err := ob.DeleteBucket([]byte(n)); err != nil {
				return fmt.Errorf("delete outbox of %s: %w", n, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("drop outboxes: %w", err)
	}
	return dropped, nil
}
