package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// filesystem returns the entry point of the pinned server-filesystem.
func filesystem(t *testing.T) string {
	t.Helper()
	return npmEntry(t, "filesystem-2026.8.31")
}

// TestFilesystemDirectoryIsTheLaunch runs the real filesystem server and
// changes the directory it may use, in args only: for that server the
// directory is the permission, so each change is drift with a new
// snapshot id, never `ok`.
func TestFilesystemDirectoryIsTheLaunch(t *testing.T) {
	entry := filesystem(t)
	root := t.TempDir()
	srv := filepath.Join(root, "srv")
	for _, d := range []string{"shared-a", "shared-b", "shared-a/sub"} {
		if err := os.MkdirAll(filepath.Join(srv, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	db := openDB(t)
	eng := engine.New(db, testLogger(t))
	check := func(dir string) report.Server {
		t.Helper()
		return checkFiles(t, eng, filepath.Join(root, "state"), nil, entry, dir, "")
	}
	launch := func(rs report.Server) *report.Change {
		for i, c := range rs.Changes {
			if c.Kind == "identity.launch" {
				return &rs.Changes[i]
			}
		}
		return nil
	}
	first := check(filepath.Join(srv, "shared-a"))
	if first.Status != report.StatusBaselined {
		t.Fatalf("first check: %+v", first)
	}
	if again := check(filepath.Join(srv, "shared-a")); again.Status != report.StatusOK || again.Snapshot.ID != first.Snapshot.ID {
		t.Fatalf("the same launch is not ok with the same id: %+v", again)
	}
	tests := []struct {
		name, dir string
		sev       severity.Level
		summary   string
	}{
		{"another directory tree is high", filepath.Join(srv, "shared-b"), severity.High, "moves outside every approved path"},
		{"the parent directory widens: high", srv, severity.High, "widens"},
		{"a subdirectory narrows: medium", filepath.Join(srv, "shared-a", "sub"), severity.Medium, "narrows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := check(tt.dir)
			if rs.Status != report.StatusDrift || rs.Snapshot.ID == first.Snapshot.ID {
				t.Fatalf("status %s, snapshot %s (baseline %s): want drift with a new id", rs.Status, rs.Snapshot.ID, first.Snapshot.ID)
			}
			c := launch(rs)
			if c == nil || c.Severity != tt.sev || !strings.Contains(c.Summary, tt.summary) {
				t.Fatalf("want a %s identity.launch change saying %q, got %+v", tt.sev, tt.summary, rs.Changes)
			}
			if rs.Severity < tt.sev {
				t.Errorf("report severity %s below the launch change's %s", rs.Severity, tt.sev)
			}
		})
	}
}

// npmEntry returns dist/index.js of a package installed from testdata/npm
// under the alias name, failing (not skipping) when it is missing: CI
// installs them.
func npmEntry(t *testing.T, alias string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test with npm servers skipped in -short mode")
	}
	p, err := filepath.Abs(filepath.Join("testdata", "npm", "node_modules", alias, "dist", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not installed (run `make npm`): %v", alias, err)
	}
	return p
}

// TestLaunchEnvironment configures the real filesystem server with a
// credential from mcpdrift's environment and a value written in the
// config: the credential is recorded by name only (rotating it is no
// change, and it is stored nowhere), the written value through its hash
// (changing it is drift).
func TestLaunchEnvironment(t *testing.T) {
	entry := filesystem(t)
	dir := t.TempDir()
	db := openDB(t)
	eng := engine.New(db, testLogger(t))
	check := func(token, level string) report.Server {
		t.Helper()
		env := func(k string) (string, bool) { return token, k == "TOKEN" }
		return checkFiles(t, eng, filepath.Join(dir, "state"), env, entry, dir, `{API_TOKEN: "${TOKEN}", LOG_LEVEL: `+level+`}`)
	}
	const canary = "canary-token-0f9e8d7c6b5a"
	first := check(canary, "debug")
	doc, err := db.Manifest(first.Snapshot.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), `"API_TOKEN":"external"`) || !strings.Contains(string(doc), `"LOG_LEVEL":"hmac-sha256:`) {
		t.Errorf("environment not recorded by name and hash: %s", doc)
	}
	if strings.Contains(string(doc), canary) || strings.Contains(string(doc), `"debug"`) {
		t.Errorf("a value is stored in clear: %s", doc)
	}
	if rs := check("rotated-token-1a2b3c4d5e", "debug"); rs.Status != report.StatusOK || rs.Snapshot.ID != first.Snapshot.ID {
		t.Fatalf("a rotated credential: status %s snapshot %s, want ok %s: %+v", rs.Status, rs.Snapshot.ID, first.Snapshot.ID, rs.Changes)
	}
	rs := check(canary, "info")
	if rs.Status != report.StatusDrift || len(rs.Changes) != 1 || rs.Changes[0].Kind != "identity.launch" ||
		rs.Changes[0].Severity != severity.Medium || !strings.Contains(rs.Changes[0].Summary, "LOG_LEVEL changes value") {
		t.Fatalf("another written value: want one medium identity.launch change, got %s %+v", rs.Status, rs.Changes)
	}
}

// checkFiles checks the filesystem server at entry, allowed dir, with the
// env (a YAML flow map, or none) and the environment given to the config,
// its database and HOMEs in state.
func checkFiles(t *testing.T, eng *engine.Engine, state string, environ func(string) (string, bool), entry, dir, env string) report.Server {
	t.Helper()
	if environ == nil {
		environ = func(string) (string, bool) { return "", false }
	}
	if env != "" {
		env = "\n    env: " + env
	}
	cfg, err := config.Parse("test.yaml", fmt.Appendf(nil, `
storage: {path: %q}
defaults: {timeout: 60s}
servers:
  - name: files
    command: node
    args: [%q, %q]%s
`, filepath.Join(state, "mcpdrift.db"), entry, dir, env), environ)
	if err != nil {
		t.Fatal(err)
	}
	rs := eng.Check(context.Background(), servers(cfg), engine.Options{}).Servers[0]
	if rs.Status == report.StatusError {
		t.Fatalf("check with %s: %s", dir, rs.Error)
	}
	return rs
}
