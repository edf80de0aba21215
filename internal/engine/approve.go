package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/suggest"
	"github.com/mcpdrift/mcpdrift/store"
)

// Sentinel errors of approvals, mapped to exit codes by the CLI.
var (
	// ErrNothingToApprove: the snapshot already is the baseline.
	ErrNothingToApprove = errors.New("nothing to approve")
	// ErrUnknownTool: a --tool name is in neither the snapshot nor the
	// baseline.
	ErrUnknownTool = errors.New("unknown tool")
	// ErrNoSnapshot: the server has never been snapshotted.
	ErrNoSnapshot = errors.New("no snapshot")
)

// ApproveRequest is what a reviewer approves.
type ApproveRequest struct {
	Server string
	// Snapshot is a snapshot id or unique prefix; empty means the latest.
	Snapshot string
	// Tools, when set, approves only these tools of the snapshot: the new
	// baseline is the old one with them taken from the snapshot (added,
	// changed, or removed when the snapshot no longer has them).
	Tools    []string
	Comment  string
	Approver string
	Method   string // "cli" unless set
}

// Approve makes a snapshot (or some of its tools) the server's baseline
// and appends the audit record. The snapshot is the exact one named, even
// when the server has changed since.
func (e *Engine) Approve(req ApproveRequest) (store.Approval, error) {
	st, ok := e.Store.(approvalStore)
	if !ok {
		return store.Approval{}, errors.New("store cannot resolve snapshots")
	}
	snapID, err := e.resolve(st, req)
	if err != nil {
		return store.Approval{}, err
	}
	snap, err := e.load(snapID)
	if err != nil {
		return store.Approval{}, err
	}
	prev, err := e.Store.Baseline(req.Server)
	hasBase := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Approval{}, fmt.Errorf("read baseline of %s: %w", req.Server, err)
	}
	next := snap
	if len(req.Tools) > 0 {
		if !hasBase {
			return store.Approval{}, fmt.Errorf("%w: server %q has no baseline yet, so there is nothing to approve partially; approve the whole snapshot first", ErrNothingToApprove, req.Server)
		}
		base, err := e.load(prev.BaselineID)
		if err != nil {
			return store.Approval{}, err
		}
		if next, err = mergeTools(base, snap, req.Tools); err != nil {
			return store.Approval{}, err
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
	a := store.Approval{
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

func (e *Engine) resolve(st approvalStore, req ApproveRequest) (string, error) {
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

func (e *Engine) load(id string) (*manifest.Manifest, error) {
	doc, err := e.Store.Manifest(id)
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", id, err)
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		return nil, fmt.Errorf("parse manifest %s: %w", id, err)
	}
	return m, nil
}

// mergeTools returns base with the named tools taken from snap.
func mergeTools(base, snap *manifest.Manifest, tools []string) (*manifest.Manifest, error) {
	out := base.Clone()
	var unknown []string
	for _, name := range tools {
		inSnap := snap.Lookup(manifest.KindTool, name)
		if len(inSnap) == 0 && len(base.Lookup(manifest.KindTool, name)) == 0 {
			unknown = append(unknown, name)
			continue
		}
		out.Replace(manifest.KindTool, name, inSnap)
	}
	if len(unknown) > 0 {
		hint := ""
		if len(unknown) == 1 {
			var names []string
			for _, m := range []*manifest.Manifest{snap, base} {
				for _, e := range m.Entities[manifest.KindTool] {
					names = append(names, e.Key)
				}
			}
			hint = suggest.Hint(unknown[0], names)
		}
		return nil, fmt.Errorf("%w: %s in neither the snapshot nor the baseline%s", ErrUnknownTool, strings.Join(unknown, ", "), hint)
	}
	return out, nil
}
