// Package lockfile owns mcpdrift's lockfile ("pinning as code"): the
// approved baselines of a set of servers as one deterministic JSON file that
// is reviewed and committed like code, exported from and imported into a
// database as baselines. Checking live servers against it (check --lock)
// is the check pipeline's, with the lockfile as its baselines
// (engine.LockBaselines): this package contacts no server.
//
// The format is documented in docs/lockfile.md, which is the contract: a
// `lockfile` version field, canonical manifests embedded as JSON objects
// (keys sorted, 2-space indent, trailing newline, invisible characters as
// \u escapes so a reviewer sees them), each with its recorded fingerprint
// and the approval that made it the baseline.
//
// Reading is strict where a reviewer could be fooled: a duplicate key
// anywhere is an error (a reviewer would see one value, a JSON reader use
// another), and every manifest's fingerprint is recomputed from its content,
// so a hand edit is detected (Server.Verify) and never silently blessed.
//
// lockfile opens nothing itself: files and the database are given to it
// by the caller.
package lockfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// Version is the lockfile format version this build reads and writes. It is
// bumped only when a reader of the previous version would misread a file;
// adding a key is not such a change (readers ignore unknown keys outside
// manifests).
const Version = 1

// Sentinel errors; the CLI maps them to exit codes.
var (
	// ErrMalformed: the file is not a lockfile this build can read.
	ErrMalformed = errors.New("malformed lockfile")
	// ErrVersion: the file's lockfile version is newer than this build.
	ErrVersion = errors.New("unsupported lockfile version")
	// ErrEdited: a manifest's content does not match its recorded
	// fingerprint, i.e. it was edited by hand.
	ErrEdited = errors.New("manifest edited by hand")
)

// File is a decoded lockfile.
type File struct {
	// Mcpdrift is the version of the mcpdrift that wrote the file;
	// informational only.
	Mcpdrift string
	// Servers, sorted by name, names unique.
	Servers []Server

	// lines locates servers and entities in the bytes Decode read.
	lines locations
}

// Server is one pinned server.
type Server struct {
	Name string
	// Fingerprint is the manifest id recorded in the file.
	Fingerprint string
	// Approval is who approved the pinned manifest, and how.
	Approval Approval
	// Manifest is the pinned content as read (re-canonicalized).
	Manifest *manifest.Manifest

	// volatileRules is the manifest's recorded volatile_rules version.
	volatileRules int
}

// Approval is the approval record kept with a pinned manifest. JSON keys are
// part of the format.
type Approval struct {
	At       time.Time `json:"approved_at,omitzero"`
	By       string    `json:"approved_by,omitempty"`
	Comment  string    `json:"comment,omitempty"`
	Method   string    `json:"method,omitempty"`
	Snapshot string    `json:"snapshot,omitempty"`
	Tools    []string  `json:"tools,omitempty"`
}

// Server returns the entry for name.
func (f *File) Server(name string) (*Server, bool) {
	i := sort.Search(len(f.Servers), func(i int) bool { return f.Servers[i].Name >= name })
	if i < len(f.Servers) && f.Servers[i].Name == name {
		return &f.Servers[i], true
	}
	return nil, false
}

// ContentID is the fingerprint of the content as it is now.
func (s *Server) ContentID() string { return s.Manifest.ID() }

// Verify reports whether the content still has its recorded fingerprint:
// nil, or an error wrapping ErrEdited that names both ids.
func (s *Server) Verify() error {
	id := s.ContentID()
	if id == s.Fingerprint {
		return nil
	}
	if !manifest.ReadsRules(s.volatileRules) {
		return fmt.Errorf("%w: server %q: manifest written under volatile rules %d, this build uses %d, so fingerprint %s cannot match %s; re-export the lockfile",
			ErrEdited, s.Name, s.volatileRules, manifest.VolatileRulesVersion, s.Fingerprint, id)
	}
	return fmt.Errorf("%w: server %q: recorded fingerprint %s, content is %s", ErrEdited, s.Name, s.Fingerprint, id)
}

// Line returns the 1-based line of the decoded file where server's entity
// (kind "tool", "prompt", "resource" or "resource_template", and its name
// or URI) is pinned; the server's own line for anything else; 1 when the
// server is not in the file or the file was not decoded.
func (f *File) Line(server, entity, name string) int {
	if n, ok := f.lines.entities[entityKey(server, entity, name)]; ok {
		return n
	}
	if n, ok := f.lines.servers[server]; ok {
		return n
	}
	return 1
}

// Encode writes f in the lockfile format: keys sorted, 2-space indent,
// trailing newline, manifests embedded as JSON objects, and every invisible
// or control character as a \u escape. The same File always yields the same
// bytes.
func Encode(w io.Writer, f *File) error {
	if err := checkNames(f.Servers); err != nil {
		return err
	}
	servers := make(map[string]any, len(f.Servers))
	for _, s := range f.Servers {
		doc, err := decodeAny(s.Manifest.Document())
		if err != nil {
			return fmt.Errorf("encode manifest of %q: %w", s.Name, err)
		}
		appr, err := toAny(s.Approval)
		if err != nil {
			return fmt.Errorf("encode approval of %q: %w", s.Name, err)
		}
		fp := s.Fingerprint
		if fp == "" {
			fp = s.ContentID()
		}
		servers[s.Name] = map[string]any{"approval": appr, "fingerprint": fp, "manifest": doc}
	}
	top := map[string]any{"lockfile": Version, "mcpdrift": f.Mcpdrift, "servers": servers}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Readable in review: < > & stay as they are (a lockfile is never
	// pasted into HTML); invisible characters are escaped below.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(top); err != nil {
		return fmt.Errorf("encode lockfile: %w", err)
	}
	if _, err := w.Write(escape.InertJSON(buf.Bytes())); err != nil {
		return fmt.Errorf("write lockfile: %w", err)
	}
	return nil
}

// rawFile is the decoded top level. Unknown keys are ignored (forward
// compatibility); manifests are read strictly.
type rawFile struct {
	Lockfile *int                 `json:"lockfile"`
	Mcpdrift string               `json:"mcpdrift"`
	Servers  map[string]rawServer `json:"servers"`
}

type rawServer struct {
	Approval    Approval        `json:"approval"`
	Fingerprint string          `json:"fingerprint"`
	Manifest    json.RawMessage `json:"manifest"`
}

// manifestKeys are the keys a canonical document has; anything else in a
// pinned manifest is refused rather than silently ignored.
var manifestKeys = []string{"format", "identity", "prompts", "resource_templates", "resources", "server", "tools", "volatile_rules"}

var fingerprintRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Decode reads a lockfile. It fails with ErrMalformed (duplicate keys,
// missing fields, an unreadable manifest) or ErrVersion; it does not fail
// on edited manifests, which Server.Verify reports.
func Decode(data []byte) (*File, error) {
	lines, err := scan(data)
	if err != nil {
		return nil, err
	}
	var raw rawFile
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case raw.Lockfile == nil:
		return nil, fmt.Errorf("%w: no \"lockfile\" version: not an mcpdrift lockfile", ErrMalformed)
	case *raw.Lockfile > Version:
		return nil, fmt.Errorf("%w: lockfile version %d is newer than this mcpdrift reads (%d): upgrade mcpdrift", ErrVersion, *raw.Lockfile, Version)
	case *raw.Lockfile < 1:
		return nil, fmt.Errorf("%w: lockfile version %d", ErrMalformed, *raw.Lockfile)
	}
	f := &File{Mcpdrift: raw.Mcpdrift, lines: lines}
	for name, rs := range raw.Servers {
		s, err := decodeServer(name, rs)
		if err != nil {
			return nil, err
		}
		f.Servers = append(f.Servers, s)
	}
	sort.Slice(f.Servers, func(i, j int) bool { return f.Servers[i].Name < f.Servers[j].Name })
	return f, nil
}

func decodeServer(name string, rs rawServer) (Server, error) {
	if strings.TrimSpace(name) == "" {
		return Server{}, fmt.Errorf("%w: a server has an empty name", ErrMalformed)
	}
	if !fingerprintRE.MatchString(rs.Fingerprint) {
		return Server{}, fmt.Errorf("%w: server %q: fingerprint %q is not sha256: and 64 lower-case hex digits", ErrMalformed, name, rs.Fingerprint)
	}
	if len(bytes.TrimSpace(rs.Manifest)) == 0 {
		return Server{}, fmt.Errorf("%w: server %q has no manifest", ErrMalformed, name)
	}
	var head map[string]json.RawMessage
	if err := json.Unmarshal(rs.Manifest, &head); err != nil {
		return Server{}, fmt.Errorf("%w: server %q: manifest is not a JSON object: %w", ErrMalformed, name, err)
	}
	for k := range head {
		if !slices.Contains(manifestKeys, k) {
			return Server{}, fmt.Errorf("%w: server %q: unknown manifest key %q (want %s)", ErrMalformed, name, k, strings.Join(manifestKeys, ", "))
		}
	}
	var rules int
	if err := json.Unmarshal(orNull(head["volatile_rules"]), &rules); err != nil {
		return Server{}, fmt.Errorf("%w: server %q: volatile_rules: %w", ErrMalformed, name, err)
	}
	m, err := manifest.Parse(rs.Manifest)
	if err != nil {
		return Server{}, fmt.Errorf("%w: server %q: %w", ErrMalformed, name, err)
	}
	return Server{Name: name, Fingerprint: rs.Fingerprint, Approval: rs.Approval, Manifest: m, volatileRules: rules}, nil
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

func checkNames(ss []Server) error {
	seen := map[string]bool{}
	for _, s := range ss {
		if strings.TrimSpace(s.Name) == "" {
			return fmt.Errorf("%w: a server has an empty name", ErrMalformed)
		}
		if seen[s.Name] {
			return fmt.Errorf("%w: server %q listed twice", ErrMalformed, s.Name)
		}
		if s.Manifest == nil {
			return fmt.Errorf("%w: server %q has no manifest", ErrMalformed, s.Name)
		}
		seen[s.Name] = true
	}
	return nil
}

// decodeAny decodes JSON keeping numbers exactly as written.
func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// toAny turns a struct into generic JSON, so the encoder sorts its keys.
func toAny(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeAny(b)
}
