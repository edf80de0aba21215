package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/suggest"
	"github.com/mcpdrift/mcpdrift/store"
)

// Sentinel errors of approvals, mapped to exit codes by the CLI.
var (
	// ErrNothingToApprove: the snapshot already is the baseline.
	ErrNothingToApprove = errors.New("nothing to approve")
	// ErrNoSnapshot: the server has never been snapshotted.
	ErrNoSnapshot = errors.New("no snapshot")
)

// Approve makes a snapshot (or some of its tools) the server's baseline
// and appends the audit record. The snapshot is the exact one named, even
// when the server has changed since.
func (e *Engine) Approve(req approval.Request) (report.Approval, error) {
	st, ok := e.Store.(approvalStore)
	if !ok {
		return report.Approval{}, errors.New("store cannot resolve snapshots")
	}
	snapID, err := e.resolve(st, req)
	if err != nil {
		return report.Approval{}, err
	}
	snap, err := e.load(snapID)
	if err != nil {
		return report.Approval{}, err
	}
	prev, err := e.Store.Baseline(req.Server)
	hasBase := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return report.Approval{}, fmt.Errorf("read baseline of %s: %w", req.Server, err)
	}
	next := snap
	if len(req.Tools) > 0 {
		if !hasBase {
			return report.Approval{}, fmt.Errorf("%w: server %q has no baseline yet, so there is nothing to approve partially; approve the whole snapshot first", ErrNothingToApprove, req.Server)
		}
		base, err := e.load(prev.BaselineID)
		if err != nil {
			return report.Approval{}, err
		}
		if next, err = mergeEntities(base, snap, req.Tools); err != nil {
			return report.Approval{}, err
		}
	}
	doc := next.Document()
	newID := manifest.Fingerprint(doc)
	if hasBase && newID == prev.BaselineID {
		return prev, fmt.Errorf("%w: snapshot %s is already the baseline of %q", ErrNothingToApprove, snapID, req.Server)
	}
	method := req.Method
	if method == "" {
		method = "cli"
	}
	a := report.Approval{
		Server:     req.Server,
		At:         e.Now().UTC(),
		Approver:   req.Approver,
		Comment:    req.Comment,
		BaselineID: newID,
		SnapshotID: snapID,
		Tools:      slices.Clone(req.Tools),
		Method:     method,
	}
	if hasBase {
		a.PreviousID = prev.BaselineID
	}
	return e.Store.Approve(a, doc)
}

// approvalStore is the extra the store needs for approvals.
type approvalStore interface {
	ResolveSnapshot(server, ref string) (string, error)
}

func (e *Engine) resolve(st approvalStore, req approval.Request) (string, error) {
	if req.Snapshot != "" {
		return st.ResolveSnapshot(req.Server, req.Snapshot)
	}
	last, err := e.Store.LatestSnapshot(req.Server)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%w: server %q has no snapshot yet: run 'mcpdrift check %s'", ErrNoSnapshot, req.Server, req.Server)
	}
	if err != nil {
		return "", fmt.Errorf("read latest snapshot of %s: %w", req.Server, err)
	}
	return last.SnapshotID, nil
}

func (e *Engine) load(id string) (*manifest.Manifest, error) { return loadManifest(e.Store, id) }

// loadManifest reads and parses a stored manifest.
func loadManifest(st Store, id string) (*manifest.Manifest, error) {
	doc, err := st.Manifest(id)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", id, err)
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", id, err)
	}
	return m, nil
}

// mergeEntities returns base with the named entities (refs, see approval.EntityRef)
// taken from snap: added, changed, or removed when snap no longer has
// them.
func mergeEntities(base, snap *manifest.Manifest, refs []string) (*manifest.Manifest, error) {
	out := base.Clone()
	var unknown []string
	var names map[string][]string
	for _, ref := range refs {
		r := approval.ParseEntityRef(ref)
		if r.Kind == "server" {
			ok, err := mergeServerField(out, base, snap, r.Name)
			if err != nil {
				return nil, err
			}
			if !ok {
				unknown = append(unknown, ref)
			}
			continue
		}
		k := manifest.Kind(r.Kind)
		inSnap := snap.Lookup(k, r.Name)
		if len(inSnap) == 0 && len(base.Lookup(k, r.Name)) == 0 {
			if names == nil {
				names = entityNames(base, snap)
			}
			unknown = append(unknown, ref+suggest.Hint(r.Name, names[r.Kind]))
			continue
		}
		out.Replace(k, r.Name, inSnap)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("%w: %s in neither the snapshot nor the baseline", approval.ErrUnknownTool, strings.Join(unknown, ", "))
	}
	return out, nil
}

func entityNames(ms ...*manifest.Manifest) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		for _, k := range manifest.Kinds {
			for _, e := range m.Entities[k] {
				out[string(k)] = append(out[string(k)], e.Key)
			}
		}
	}
	return out
}

// mergeServerField sets out's server field to snap's (removing it when
// snap has none), and reports false when neither side has the field.
func mergeServerField(out, base, snap *manifest.Manifest, field string) (bool, error) {
	var b, s map[string]json.RawMessage
	if err := json.Unmarshal(orEmptyObject(base.Server), &b); err != nil {
		return false, fmt.Errorf("read baseline server fields: %w", err)
	}
	if err := json.Unmarshal(orEmptyObject(snap.Server), &s); err != nil {
		return false, fmt.Errorf("read snapshot server fields: %w", err)
	}
	v, inSnap := s[field]
	if _, inBase := b[field]; !inSnap && !inBase {
		return false, nil
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(orEmptyObject(out.Server), &cur); err != nil || cur == nil {
		cur = map[string]json.RawMessage{}
	}
	if inSnap {
		cur[field] = v
	} else {
		delete(cur, field)
	}
	raw, err := json.Marshal(cur)
	if err != nil {
		return false, fmt.Errorf("merge server field %s: %w", field, err)
	}
	if out.Server, err = manifest.Canonicalize(raw); err != nil {
		return false, fmt.Errorf("merge server field %s: %w", field, err)
	}
	return true, nil
}

func orEmptyObject(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("{}")
	}
	return b
}
