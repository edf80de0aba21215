package lockfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// MethodImport is the approval method recorded by Import.
const MethodImport = "lock-import"

// originMarker introduces, in the comment of an approval recorded by Import,
// the approval the lockfile carried. Export reads it back so that exporting
// an imported baseline reproduces the lockfile byte for byte instead of
// crediting the importer with a review they did not do. It is honoured only
// on approvals whose method is MethodImport.
const originMarker = "imported from lockfile; original approval: "

// FromBaseline builds the lockfile entry of a server from its current
// baseline: the latest approval and the manifest document it names.
func FromBaseline(name string, a report.Approval, doc []byte) (Server, error) {
	if a.BaselineID != "" && manifest.Fingerprint(doc) != a.BaselineID {
		return Server{}, fmt.Errorf("baseline of %q: document is %s, approval names %s", name, manifest.Fingerprint(doc), a.BaselineID)
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		return Server{}, fmt.Errorf("baseline of %q: %w", name, err)
	}
	return Server{
		Name:          name,
		Fingerprint:   m.ID(),
		Approval:      approvalOf(a),
		Manifest:      m,
		volatileRules: manifest.VolatileRulesVersion,
	}, nil
}

// approvalOf is what the lockfile records of a stored approval: the
// original approval for an unedited import, the record itself otherwise.
func approvalOf(a report.Approval) Approval {
	if a.Method == MethodImport {
		if o, ok := origin(a.Comment); ok {
			return o
		}
	}
	return Approval{
		At: a.At.UTC(), By: a.Approver, Comment: a.Comment, Method: a.Method,
		Snapshot: a.SnapshotID, Tools: slices.Clone(a.Tools),
	}
}

func origin(comment string) (Approval, bool) {
	i := strings.LastIndex(comment, originMarker)
	if i < 0 {
		return Approval{}, false
	}
	var o Approval
	if err := json.Unmarshal([]byte(comment[i+len(originMarker):]), &o); err != nil {
		return Approval{}, false
	}
	o.At = o.At.UTC()
	return o, true
}

// VerifyAll verifies every server and names each edited one; the error
// wraps ErrEdited.
func VerifyAll(servers []Server) error {
	var edits []error
	for i := range servers {
		if err := servers[i].Verify(); err != nil {
			edits = append(edits, err)
		}
	}
	if len(edits) > 0 {
		return fmt.Errorf("refusing to import (use --accept-edits to import the content as written): %w", errors.Join(edits...))
	}
	return nil
}

// Store is what Import needs from the database.
type Store interface {
	Baseline(server string) (report.Approval, error)
	Approve(a report.Approval, baselineDoc []byte) (report.Approval, error)
}

// ImportOptions say who imports and how.
type ImportOptions struct {
	// Approver is recorded on every approval (the OS user).
	Approver string
	// Comment, if set, is recorded before the provenance line.
	Comment string
	// AcceptEdits imports manifests whose content no longer matches their
	// recorded fingerprint; without it such a lockfile is refused whole.
	AcceptEdits bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Imported is the outcome for one server.
type Imported struct {
	Server string
	// Unchanged: the content already was the baseline; nothing recorded.
	Unchanged bool
	// Edited: the content did not match its recorded fingerprint.
	Edited bool
	// Approval is the record written (zero when Unchanged).
	Approval report.Approval
}

// Import makes each server's pinned manifest its baseline, recorded as an
// approval by o.Approver with method MethodImport. Every server is verified
// before anything is written: an edited manifest refuses the whole import
// unless o.AcceptEdits. Each approval names the baseline it replaces
// (PreviousID), so a concurrent approval fails with store.ErrConflict
// instead of being overwritten; servers imported before a failure stay
// imported, and the results so far are returned with the error.
func Import(st Store, servers []Server, o ImportOptions) ([]Imported, error) {
	if o.Approver == "" {
		return nil, errors.New("import: approver unset")
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	if !o.AcceptEdits {
		if err := VerifyAll(servers); err != nil {
			return nil, err
		}
	}
	out := make([]Imported, 0, len(servers))
	for i := range servers {
		s := &servers[i]
		res, err := importOne(st, s, o, now())
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func importOne(st Store, s *Server, o ImportOptions, at time.Time) (Imported, error) {
	res := Imported{Server: s.Name, Edited: s.Verify() != nil}
	doc := s.Manifest.Document()
	id := manifest.Fingerprint(doc)
	prev, err := st.Baseline(s.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		prev = report.Approval{}
	case err != nil:
		return res, fmt.Errorf("import %q: read baseline: %w", s.Name, err)
	case prev.BaselineID == id:
		res.Unchanged = true
		return res, nil
	}
	a, err := st.Approve(report.Approval{
		Server:     s.Name,
		At:         at.UTC(),
		Approver:   o.Approver,
		Comment:    importComment(s, o.Comment, res.Edited),
		BaselineID: id,
		PreviousID: prev.BaselineID,
		Method:     MethodImport,
	}, doc)
	if err != nil {
		return res, fmt.Errorf("import %q: %w", s.Name, err)
	}
	res.Approval = a
	return res, nil
}

// importComment records where the baseline came from. An unedited manifest
// carries its original approval (see originMarker); an edited one does not,
// since nobody approved the edit but the importer.
func importComment(s *Server, user string, edited bool) string {
	var b strings.Builder
	if user != "" {
		b.WriteString(user)
		b.WriteByte('\n')
	}
	if edited {
		fmt.Fprintf(&b, "imported from lockfile with hand edits: recorded fingerprint %s, content %s", s.Fingerprint, s.ContentID())
		return b.String()
	}
	o, err := json.Marshal(s.Approval)
	if err != nil {
		// An Approval always marshals; should it not, the import is
		// still recorded, only without its provenance.
		o = []byte("{}")
	}
	b.WriteString(originMarker)
	b.Write(o)
	return b.String()
}
