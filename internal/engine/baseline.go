package engine

import (
	"errors"
	"fmt"

	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// ErrNoBaseline is returned for a server with no baseline in the source asked.
var ErrNoBaseline = errors.New("no baseline")

// Baselines is where a check's baselines come from: the store's approved
// baselines (the default, where a first snapshot may be trusted on first
// use) or a lockfile's pinned manifests (LockBaselines, Options.Lock).
type Baselines interface {
	// Baseline returns the server's baseline, or an error wrapping
	// ErrNoBaseline when it has none.
	Baseline(server string) (Baseline, error)
}

// Baseline is one server's approved manifest, as a check compares with it.
type Baseline struct {
	// Ref is what a report says of it: id, when and by whom approved.
	Ref report.Baseline
	// Note is said in the report of every check against it (a manifest
	// edited by hand in the lockfile); empty for most.
	Note string
	// Manifest reads the manifest; a check calls it only when the
	// snapshot differs from Ref.ID, so a steady check parses nothing.
	Manifest func() (*manifest.Manifest, error)
}

// storeBaselines reads the approved baselines of the store.
type storeBaselines struct{ st Store }

func (b storeBaselines) Baseline(server string) (Baseline, error) {
	a, err := b.st.Baseline(server)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Baseline{}, fmt.Errorf("%w: %w", ErrNoBaseline, err)
	case err != nil:
		return Baseline{}, err
	}
	return Baseline{Ref: *a.Baseline(), Manifest: func() (*manifest.Manifest, error) {
		m, err := loadManifest(b.st, a.BaselineID)
		if err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		return m, nil
	}}, nil
}

// LockBaselines makes a lockfile's pinned manifests the baselines. A
// manifest edited by hand is compared as written (the lockfile, reviewed
// as code, is the source of truth) and the edit is named in the note.
func LockBaselines(f *lockfile.File) Baselines { return lockBaselines{f} }

type lockBaselines struct{ f *lockfile.File }

func (b lockBaselines) Baseline(server string) (Baseline, error) {
	pinned, ok := b.f.Server(server)
	if !ok {
		return Baseline{}, fmt.Errorf("%w: %q is not in the lockfile", ErrNoBaseline, server)
	}
	out := Baseline{
		Ref:      report.Baseline{ID: pinned.ContentID(), ApprovedAt: pinned.Approval.At.UTC(), ApprovedBy: pinned.Approval.By},
		Manifest: func() (*manifest.Manifest, error) { return pinned.Manifest, nil },
	}
	if err := pinned.Verify(); err != nil && errors.Is(err, lockfile.ErrEdited) {
		out.Note = fmt.Sprintf("lockfile manifest edited by hand (recorded %s, content %s): compared against the content as written",
			pinned.Fingerprint, out.Ref.ID)
	}
	return out, nil
}
