package store

import (
	"fmt"
	"slices"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// MinPrefixLen is the fewest hex digits ResolveSnapshot accepts as a prefix.
const MinPrefixLen = 8

// maxListed caps the candidates an ErrAmbiguous message lists.
const maxListed = 10

// ResolveSnapshot turns ref into a full manifest id among those the server
// has observed (snapshots still retained) or had approved (baselines and the
// snapshots they were approved from). ref is a full "sha256:" id or a unique
// prefix of at least MinPrefixLen hex digits, with or without "sha256:".
// Errors wrap ErrInvalidRef, ErrNotFound or ErrAmbiguous. Read-only.
func (db *DB) ResolveSnapshot(server, ref string) (string, error) {
	prefix := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(ref), idPrefix))
	if len(prefix) < MinPrefixLen || len(prefix) > 64 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", fmt.Errorf("resolve snapshot %q of %s: %w: want a sha256: id or at least %d hex digits",
			ref, server, ErrInvalidRef, MinPrefixLen)
	}
	want := idPrefix + prefix
	var ids map[string]bool
	err := db.view(func(tx *bolt.Tx) error {
		var err error
		ids, err = serverIDs(tx, server)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("resolve snapshot %q of %s: %w", ref, server, err)
	}
	var matches []string
	for id := range ids {
		if strings.HasPrefix(id, want) {
			matches = append(matches, id)
		}
	}
	slices.Sort(matches)
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return "", fmt.Errorf("resolve snapshot %q of %s: no snapshot or baseline with that id (run 'mcpdrift history %s' to list them): %w", ref, server, server, ErrNotFound)
	}
	listed := matches[:min(len(matches), maxListed)]
	more := ""
	if len(matches) > len(listed) {
		more = fmt.Sprintf(" and %d more", len(matches)-len(listed))
	}
	return "", fmt.Errorf("resolve snapshot %q of %s: %w: matches %s%s; give more digits",
		ref, server, ErrAmbiguous, strings.Join(listed, ", "), more)
}

// serverIDs returns every manifest id the server's retained records name.
func serverIDs(tx *bolt.Tx, server string) (map[string]bool, error) {
	ids := map[string]bool{}
	sb := serverBucket(tx, server)
	if sb == nil {
		return ids, nil
	}
	err := sb.Bucket(bucketObs).ForEach(func(_, v []byte) error {
		o, err := decodeObservation(server, v)
		if o.SnapshotID != "" {
			ids[o.SnapshotID] = true
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	err = sb.Bucket(bucketApprovals).ForEach(func(k, v []byte) error {
		a, err := decodeApproval(server, k, v)
		for _, id := range []string{a.BaselineID, a.SnapshotID} {
			if id != "" {
				ids[id] = true
			}
		}
		return err
	})
	return ids, err
}
