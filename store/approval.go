package store

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// approvalRecord is the stored form; the server and seq live in the key path.
type approvalRecord struct {
	At         time.Time `json:"at"`
	Approver   string    `json:"approver"`
	Comment    string    `json:"comment,omitempty"`
	BaselineID string    `json:"baseline"`
	PreviousID string    `json:"previous,omitempty"`
	SnapshotID string    `json:"snapshot,omitempty"`
	Tools      []string  `json:"tools,omitempty"`
	Method     string    `json:"method,omitempty"`
}

// Approve makes baselineDoc the server's baseline and appends a to the audit
// trail, in one transaction. The document is stored content-addressed and
// a.BaselineID is set to its id (a non-empty a.BaselineID must match). It
// fails with ErrConflict unless a.PreviousID is the current baseline id
// (empty when there is none), so two reviewers cannot silently overwrite
// each other. It returns the record as stored, Seq assigned.
//
// There is no way to change or delete an approval once made.
func (db *DB) Approve(a report.Approval, baselineDoc []byte) (report.Approval, error) {
	if err := validateApproval(&a, baselineDoc); err != nil {
		return report.Approval{}, fmt.Errorf("approve %s: %w", a.Server, err)
	}
	err := db.update(func(tx *bolt.Tx) error {
		sb, err := createServer(tx, a.Server)
		if err != nil {
			return err
		}
		b := sb.Bucket(bucketApprovals)
		current := ""
		if k, v := b.Cursor().Last(); k != nil {
			prev, err := decodeApproval(a.Server, k, v)
			if err != nil {
				return err
			}
			current = prev.BaselineID
		}
		if a.PreviousID != current {
			return fmt.Errorf("baseline is %s, not %s; review the current diff and approve again: %w",
				cmp.Or(current, "(none)"), cmp.Or(a.PreviousID, "(none)"), ErrConflict)
		}
		if _, err := putManifest(tx, a.BaselineID, baselineDoc); err != nil {
			return err
		}
		b.FillPercent = 1
		if a.Seq, err = b.NextSequence(); err != nil {
			return fmt.Errorf("next approval sequence: %w", err)
		}
		v, err := json.Marshal(approvalRecord{
			At: a.At.UTC(), Approver: a.Approver, Comment: a.Comment,
			BaselineID: a.BaselineID, PreviousID: a.PreviousID, SnapshotID: a.SnapshotID,
			Tools: a.Tools, Method: a.Method,
		})
		if err != nil {
			return fmt.Errorf("encode approval: %w", err)
		}
		return b.Put(seqKey(a.Seq), v)
	})
	if err != nil {
		return report.Approval{}, fmt.Errorf("approve %s: %w", a.Server, err)
	}
	a.At = a.At.UTC()
	return a, nil
}

func validateApproval(a *report.Approval, doc []byte) error {
	switch {
	case a.Server == "":
		return errors.New("empty server name")
	case a.At.IsZero():
		return errors.New("approval time unset")
	case a.Approver == "":
		return errors.New("approver unset")
	case len(doc) == 0:
		return errors.New("empty baseline document")
	}
	id := manifest.Fingerprint(doc)
	if a.BaselineID != "" && a.BaselineID != id {
		return fmt.Errorf("baseline id %s does not match the document (%s)", a.BaselineID, id)
	}
	a.BaselineID = id
	for _, ref := range []string{a.PreviousID, a.SnapshotID} {
		if ref == "" {
			continue
		}
		if _, err := parseID(ref); err != nil {
			return err
		}
	}
	a.Tools = slices.Clone(a.Tools)
	return nil
}

func decodeApproval(server string, k, v []byte) (report.Approval, error) {
	seq, ok := keySeq(k)
	if !ok {
		return report.Approval{}, fmt.Errorf("%w: approval key of %s is %d bytes", ErrCorrupt, server, len(k))
	}
	var r approvalRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return report.Approval{}, fmt.Errorf("%w: approval %d of %s: %w", ErrCorrupt, seq, server, err)
	}
	return report.Approval{
		Server: server, Seq: seq, At: r.At, Approver: r.Approver, Comment: r.Comment,
		BaselineID: r.BaselineID, PreviousID: r.PreviousID, SnapshotID: r.SnapshotID,
		Tools: r.Tools, Method: r.Method,
	}, nil
}

// Baseline returns the server's latest approval, whose BaselineID is the
// manifest drift is measured against; ErrNotFound if it has none. Read-only.
func (db *DB) Baseline(server string) (report.Approval, error) {
	var a report.Approval
	err := db.view(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil {
			return ErrNotFound
		}
		k, v := sb.Bucket(bucketApprovals).Cursor().Last()
		if k == nil {
			return ErrNotFound
		}
		var err error
		a, err = decodeApproval(server, k, v)
		return err
	})
	if err != nil {
		return report.Approval{}, fmt.Errorf("baseline of %s: %w", server, err)
	}
	return a, nil
}

// Approvals returns the server's whole audit trail, newest first. Read-only.
func (db *DB) Approvals(server string) ([]report.Approval, error) {
	var out []report.Approval
	err := db.view(func(tx *bolt.Tx) error {
		sb := serverBucket(tx, server)
		if sb == nil {
			return nil
		}
		c := sb.Bucket(bucketApprovals).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			a, err := decodeApproval(server, k, v)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("approvals of %s: %w", server, err)
	}
	return out, nil
}
