package lockfile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

var at = time.Date(2026, 11, 23, 9, 0, 0, 123456789, time.UTC)

const initResult = `{"protocolVersion":"2025-11-25","serverInfo":{"name":"gh","version":"1.2.0"},"capabilities":{"tools":{}},"instructions":"GitHub tools."}`

func build(t *testing.T, tools ...string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Build(manifest.Capture{
		Init:  json.RawMessage(initResult),
		Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {json.RawMessage(`{"tools":[` + strings.Join(tools, ",") + `]}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Tools with hostile text: markup, an invisible character, a number
// written as 1.0.
var (
	toolSearch = `{"name":"search","description":"Search issues. <IMPORTANT>hi</IMPORTANT>\u200b","inputSchema":{"type":"object","required":["q","repo"],"properties":{"q":{"type":"string","maxLength":1.0}}}}`
	toolCreate = `{"name":"create_issue","description":"Create an issue.","inputSchema":{"type":"object"}}`
)

func sampleFile(t *testing.T) *lockfile.File {
	t.Helper()
	gh, err := lockfile.FromBaseline("github", report.Approval{
		Server: "github", At: at, Approver: "alice", Comment: "reviewed in PR #7", Method: "cli",
		SnapshotID: "sha256:" + strings.Repeat("a", 64),
	}, build(t, toolSearch, toolCreate).Document())
	if err != nil {
		t.Fatal(err)
	}
	files, err := lockfile.FromBaseline("files", report.Approval{Server: "files", At: at, Approver: "trust-on-first-use", Method: "trust-on-first-use"},
		build(t, toolCreate).Document())
	if err != nil {
		t.Fatal(err)
	}
	return &lockfile.File{Mcpdrift: "v9.9.9", Servers: []lockfile.Server{files, gh}}
}

func encode(t *testing.T, f *lockfile.File) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := lockfile.Encode(&b, f); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func decode(t *testing.T, b []byte) *lockfile.File {
	t.Helper()
	f, err := lockfile.Decode(b)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	return f
}

func TestEncodeIsDeterministicAndReadable(t *testing.T) {
	out := encode(t, sampleFile(t))
	if again := encode(t, sampleFile(t)); !bytes.Equal(out, again) {
		t.Fatal("two encodings of the same file differ")
	}
	s := string(out)
	checks := []struct {
		name string
		ok   bool
	}{
		{"trailing newline", strings.HasSuffix(s, "}\n") && !strings.HasSuffix(s, "\n\n")},
		{"2-space indent", strings.HasPrefix(s, "{\n  \"lockfile\": 1,\n  \"mcpdrift\": \"v9.9.9\",\n  \"servers\": {\n    \"files\": {")},
		{"manifest embedded as an object", strings.Contains(s, "\"manifest\": {\n        \"format\": 1,")},
		{"markup readable", strings.Contains(s, "<IMPORTANT>hi</IMPORTANT>")},
		{"invisible character escaped", strings.Contains(s, `\u200b`) && !strings.Contains(s, "\u200b")},
		{"number canonical", strings.Contains(s, `"maxLength": 1`) && !strings.Contains(s, "1.0")},
		{"approval recorded", strings.Contains(s, `"approved_by": "alice"`) && strings.Contains(s, `"approved_at": "2026-11-23T09:00:00.123456789Z"`)},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s:\n%s", c.name, s)
		}
	}
	// Keys sorted at every level: decoding and re-encoding with Go's
	// sorted-map encoder gives the same bytes.
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if strings.ReplaceAll(b.String(), "\u200b", `\u200b`) != s {
		t.Errorf("keys are not sorted:\n%s", s)
	}
}

func TestDecodeEncodeRoundTrip(t *testing.T) {
	out := encode(t, sampleFile(t))
	f := decode(t, out)
	if len(f.Servers) != 2 || f.Servers[0].Name != "files" || f.Servers[1].Name != "github" || f.Mcpdrift != "v9.9.9" {
		t.Fatalf("decoded %+v", f)
	}
	for i := range f.Servers {
		if err := f.Servers[i].Verify(); err != nil {
			t.Errorf("fresh export does not verify: %v", err)
		}
	}
	if gh, _ := f.Server("github"); gh.Approval.By != "alice" || !gh.Approval.At.Equal(at) || gh.Approval.Comment != "reviewed in PR #7" {
		t.Errorf("approval: %+v", gh.Approval)
	}
	if again := encode(t, f); !bytes.Equal(out, again) {
		t.Errorf("decode+encode changed the bytes:\n%s\n---\n%s", out, again)
	}
}

func TestVerify(t *testing.T) {
	out := string(encode(t, sampleFile(t)))
	tests := []struct {
		name   string
		edit   func(string) string
		edited bool
	}{
		{"untouched", func(s string) string { return s }, false},
		{"reindented and keys reordered", func(s string) string {
			var v map[string]any
			_ = json.Unmarshal([]byte(s), &v)
			b, _ := json.Marshal(v) // compact; numbers and order change nothing
			return string(b)
		}, false},
		{"required reordered", func(s string) string {
			return strings.Replace(s, "\"q\",\n                \"repo\"", "\"repo\",\n                \"q\"", 1)
		}, false},
		{"description changed", func(s string) string {
			return strings.Replace(s, "Create an issue.", "Create an issue and email it.", 1)
		}, true},
		{"tool removed", func(s string) string {
			return strings.Replace(s, `"name": "search"`, `"name": "find"`, 1)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.edit(out)
			if in == out && tt.name != "untouched" {
				t.Fatal("edit did not apply")
			}
			f := decode(t, []byte(in))
			var errs []error
			for i := range f.Servers {
				if err := f.Servers[i].Verify(); err != nil {
					errs = append(errs, err)
				}
			}
			if !tt.edited {
				if len(errs) > 0 {
					t.Fatalf("not an edit, but: %v", errs)
				}
				return
			}
			if len(errs) != 1 || !errors.Is(errs[0], lockfile.ErrEdited) {
				t.Fatalf("want one ErrEdited, got %v", errs)
			}
			if !strings.Contains(errs[0].Error(), "recorded fingerprint sha256:") || !strings.Contains(errs[0].Error(), "content is sha256:") {
				t.Errorf("error does not name both ids: %v", errs[0])
			}
		})
	}
}

func TestVerifyVolatileRulesMismatch(t *testing.T) {
	// A lockfile written by a build with other volatile rules: its
	// fingerprints were computed under them, so none can match here, and
	// the error says why rather than blaming a hand edit alone.
	f0 := sampleFile(t)
	in := strings.Replace(string(encode(t, f0)), `"volatile_rules": 1`, `"volatile_rules": 0`, 1)
	in = strings.Replace(in, f0.Servers[0].Fingerprint, "sha256:"+strings.Repeat("0", 64), 1)
	f := decode(t, []byte(in))
	err := f.Servers[0].Verify()
	if !errors.Is(err, lockfile.ErrEdited) || !strings.Contains(err.Error(), "volatile rules 0") || !strings.Contains(err.Error(), "re-export") {
		t.Fatalf("got %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := string(encode(t, sampleFile(t)))
	tests := []struct {
		name, in string
		is       error
		want     string
	}{
		{"not JSON", "{", lockfile.ErrMalformed, "line 1"},
		{"not a lockfile", `{"servers":{}}`, lockfile.ErrMalformed, `no "lockfile" version`},
		{"newer version", `{"lockfile":2,"servers":{}}`, lockfile.ErrVersion, "upgrade mcpdrift"},
		{"version zero", `{"lockfile":0}`, lockfile.ErrMalformed, "version 0"},
		{"duplicate top-level key", `{"lockfile":1,"lockfile":1}`, lockfile.ErrMalformed, `duplicate key "lockfile"`},
		{"duplicate server", strings.Replace(good, `"servers": {`, `"servers": {"github": {}, `, 1), lockfile.ErrMalformed, `duplicate key "github"`},
		{"duplicate tool field", strings.Replace(good, `"description": "Create an issue.",`, `"description": "Create an issue.", "description": "Something else.",`, 1),
			lockfile.ErrMalformed, `duplicate key "description"`},
		{"bad fingerprint", strings.Replace(good, `"fingerprint": "sha256:`, `"fingerprint": "md5:`, 1), lockfile.ErrMalformed, "fingerprint"},
		{"unknown manifest key", strings.Replace(good, `"format": 1,`, `"format": 1, "toolz": [],`, 1), lockfile.ErrMalformed, `unknown manifest key "toolz"`},
		{"manifest format", strings.Replace(good, `"format": 1,`, `"format": 7,`, 1), lockfile.ErrMalformed, "format 7"},
		{"no manifest", `{"lockfile":1,"servers":{"x":{"fingerprint":"sha256:` + strings.Repeat("0", 64) + `"}}}`, lockfile.ErrMalformed, "no manifest"},
		{"empty name", `{"lockfile":1,"servers":{"":{}}}`, lockfile.ErrMalformed, "empty name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lockfile.Decode([]byte(tt.in))
			if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %v containing %q", err, tt.is, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	out := encode(t, sampleFile(t))
	f := decode(t, out)
	lines := strings.Split(string(out), "\n")
	lineOf := func(sub string, from int) int {
		for i := from; i < len(lines); i++ {
			if strings.Contains(lines[i], sub) {
				return i + 1
			}
		}
		t.Fatalf("%q not found", sub)
		return 0
	}
	gh := lineOf(`"github": {`, 0)
	tests := []struct {
		name                 string
		server, entity, item string
		want                 int
	}{
		{"server", "github", "server", "", gh},
		{"tool", "github", "tool", "search", lineOf(`"name": "search"`, gh)},
		{"same tool name in another server", "files", "tool", "create_issue", lineOf(`"name": "create_issue"`, 0)},
		{"tool of the second server", "github", "tool", "create_issue", lineOf(`"name": "create_issue"`, gh)},
		{"unknown tool falls back to the server", "github", "tool", "nope", gh},
		{"unknown server", "nope", "tool", "x", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := f.Line(tt.server, tt.entity, tt.item); got != tt.want {
				t.Errorf("line %d, want %d", got, tt.want)
			}
		})
	}
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// export is what `lock export` does over a store.
func export(t *testing.T, db *store.DB, names ...string) []byte {
	t.Helper()
	f := &lockfile.File{Mcpdrift: "v9.9.9"}
	for _, n := range names {
		a, err := db.Baseline(n)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := db.Manifest(a.BaselineID)
		if err != nil {
			t.Fatal(err)
		}
		s, err := lockfile.FromBaseline(n, a, doc)
		if err != nil {
			t.Fatal(err)
		}
		f.Servers = append(f.Servers, s)
	}
	return encode(t, f)
}

func TestImportExportRoundTrip(t *testing.T) {
	src := openDB(t)
	doc := build(t, toolSearch, toolCreate).Document()
	if _, err := src.Approve(report.Approval{Server: "github", At: at, Approver: "alice", Comment: "ok", Method: "cli", Tools: []string{"search"}}, doc); err != nil {
		t.Fatal(err)
	}
	first := export(t, src, "github")

	dst := openDB(t)
	clock := func() time.Time { return at.Add(time.Hour) }
	res, err := lockfile.Import(dst, decode(t, first).Servers, lockfile.ImportOptions{Approver: "bob", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	a := res[0].Approval
	if res[0].Unchanged || a.Approver != "bob" || a.Method != lockfile.MethodImport || a.PreviousID != "" || !a.At.Equal(clock()) {
		t.Fatalf("import recorded %+v", res[0])
	}
	if second := export(t, dst, "github"); !bytes.Equal(first, second) {
		t.Fatalf("export after import differs:\n%s\n---\n%s", first, second)
	}
	// Importing again changes nothing.
	res, err = lockfile.Import(dst, decode(t, first).Servers, lockfile.ImportOptions{Approver: "bob"})
	if err != nil || !res[0].Unchanged {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	if trail, _ := dst.Approvals("github"); len(trail) != 1 {
		t.Errorf("re-import added approvals: %d", len(trail))
	}
}

func TestImportReplacesBaselineWithConflictCheck(t *testing.T) {
	db := openDB(t)
	old, err := db.Approve(report.Approval{Server: "github", At: at, Approver: "alice", Method: "cli"}, build(t, toolCreate).Document())
	if err != nil {
		t.Fatal(err)
	}
	f := decode(t, encode(t, sampleFile(t)))
	gh, _ := f.Server("github")
	res, err := lockfile.Import(db, []lockfile.Server{*gh}, lockfile.ImportOptions{Approver: "bob", Comment: "PR #8"})
	if err != nil {
		t.Fatal(err)
	}
	a := res[0].Approval
	if a.PreviousID != old.BaselineID || a.BaselineID != gh.Fingerprint || !strings.HasPrefix(a.Comment, "PR #8\nimported from lockfile; original approval: ") {
		t.Fatalf("approval %+v", a)
	}
	// A store whose baseline moved under the import reports the conflict.
	racy := &racingStore{DB: db, other: build(t, `{"name":"other","inputSchema":{"type":"object"}}`).Document()}
	f2 := decode(t, encode(t, &lockfile.File{Servers: []lockfile.Server{mustServer(t, "github", build(t, toolSearch))}}))
	_, err = lockfile.Import(racy, f2.Servers, lockfile.ImportOptions{Approver: "bob"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("want ErrConflict, got %v", err)
	}
}

// racingStore approves something else between reading the baseline and
// the import's approval, as a concurrent reviewer would.
type racingStore struct {
	*store.DB
	other []byte
}

func (r *racingStore) Approve(a report.Approval, doc []byte) (report.Approval, error) {
	prev, _ := r.Baseline(a.Server)
	if _, err := r.DB.Approve(report.Approval{Server: a.Server, At: at, Approver: "carol", Method: "cli", PreviousID: prev.BaselineID}, r.other); err != nil {
		return report.Approval{}, err
	}
	return r.DB.Approve(a, doc)
}

func mustServer(t *testing.T, name string, m *manifest.Manifest) lockfile.Server {
	t.Helper()
	s, err := lockfile.FromBaseline(name, report.Approval{At: at, Approver: "alice", Method: "cli"}, m.Document())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestImportEdited(t *testing.T) {
	in := strings.Replace(string(encode(t, sampleFile(t))), "Create an issue.", "Create an issue and email it.", 2)
	f := decode(t, []byte(in))
	db := openDB(t)
	if _, err := lockfile.Import(db, f.Servers, lockfile.ImportOptions{Approver: "bob"}); !errors.Is(err, lockfile.ErrEdited) {
		t.Fatalf("edited import not refused: %v", err)
	}
	if _, err := db.Baseline("github"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused import wrote a baseline: %v", err)
	}
	res, err := lockfile.Import(db, f.Servers, lockfile.ImportOptions{Approver: "bob", AcceptEdits: true})
	if err != nil || len(res) != 2 || !res[0].Edited {
		t.Fatalf("accepted import: %+v %v", res, err)
	}
	// The edit is nobody's approval but bob's: the export says so.
	out := string(export(t, db, "github"))
	if !strings.Contains(out, `"approved_by": "bob"`) || !strings.Contains(out, `"method": "lock-import"`) || !strings.Contains(out, "with hand edits") {
		t.Errorf("export after an accepted edit:\n%s", out)
	}
}

// TestExampleLockfile keeps configs/example.lock.json (generated from the
// demo server) readable and unedited by this build, and in canonical form.
func TestExampleLockfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "configs", "example.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := decode(t, data)
	demo, ok := f.Server("demo")
	if !ok || len(f.Servers) != 1 {
		t.Fatalf("servers %+v", f.Servers)
	}
	if err := demo.Verify(); err != nil {
		t.Fatal(err)
	}
	if demo.Manifest.Count(manifest.KindTool) == 0 || demo.Approval.By == "" {
		t.Errorf("example pins nothing useful: %+v", demo)
	}
	if again := encode(t, f); !bytes.Equal(again, data) {
		t.Errorf("example is not in canonical lockfile form:\n%s", again)
	}
}
