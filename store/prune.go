package store

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Prune deletes observations beyond the newest maxPerServer of each server,
// and those taken before now-maxAge; a zero or negative limit disables that
// rule. It never deletes a server's newest observation, its latest
// successful one or its latest failure, and never an approval. In the same
// transaction it deletes every manifest no retained observation or approval
// names, so a baseline's document is never collected. removed counts the
// observations deleted.
func (db *DB) Prune(now time.Time, maxPerServer int, maxAge time.Duration) (removed int, err error) {
	err = db.update(func(tx *bolt.Tx) error {
		removed = 0
		referenced := map[string]bool{}
		// Collect the names first: the loop below changes nested buckets.
		var servers []string
		err := tx.Bucket(bucketServers).ForEachBucket(func(name []byte) error {
			servers = append(servers, string(name))
			return nil
		})
		if err != nil {
			return err
		}
		for _, server := range servers {
			n, err := pruneServer(tx, server, now, maxPerServer, maxAge)
			if err != nil {
				return fmt.Errorf("prune %s: %w", server, err)
			}
			removed += n
			ids, err := serverIDs(tx, server)
			if err != nil {
				return fmt.Errorf("prune %s: %w", server, err)
			}
			for id := range ids {
				referenced[id] = true
			}
		}
		return collectManifests(tx, referenced)
	})
	if err != nil {
		return 0, fmt.Errorf("prune database %s: %w", db.path, err)
	}
	return removed, nil
}

func pruneServer(tx *bolt.Tx, server string, now time.Time, maxPerServer int, maxAge time.Duration) (int, error) {
	sb := serverBucket(tx, server)
	keep := [][]byte{sb.Get(keyLatestSnap), sb.Get(keyLastErr)}
	b := sb.Bucket(bucketObs)
	var doomed [][]byte
	c := b.Cursor()
	i := 0
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		i++
		if i == 1 || containsKey(keep, k) {
			continue
		}
		tooMany := maxPerServer > 0 && i > maxPerServer
		tooOld := false
		if maxAge > 0 {
			o, err := decodeObservation(server, v)
			if err != nil {
				return 0, err
			}
			tooOld = o.TakenAt.Before(now.Add(-maxAge))
		}
		if tooMany || tooOld {
			doomed = append(doomed, bytes.Clone(k))
		}
	}
	// Deleting while a cursor walks the bucket can skip keys; delete after.
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("delete observation: %w", err)
		}
	}
	return len(doomed), nil
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}

func collectManifests(tx *bolt.Tx, referenced map[string]bool) error {
	b := tx.Bucket(bucketManifests)
	var doomed [][]byte
	err := b.ForEach(func(k, _ []byte) error {
		if !referenced[string(k)] {
			doomed = append(doomed, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete manifest %s: %w", k, err)
		}
	}
	return nil
}
