package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/npmtest"
)

// TestPrepare installs an npx server's package from a registry on
// loopback with the real npx, into the server's own HOME, then checks the
// server: the install is where the probe looks, so the check needs no
// install and passes within a short timeout.
func TestPrepare(t *testing.T) {
	npmtest.Require(t)
	reg := npmtest.NewRegistry(t)
	reg.Publish(t, "mcpdrift-fixture", "1.0.0")
	var env []string
	for k, v := range reg.Env("/nonexistent") {
		env = append(env, fmt.Sprintf("%s: %q", k, v))
	}
	sort.Strings(env)
	path, _ := setup(t, `  - name: files
    command: npx
    args: ["-y", "mcpdrift-fixture@1.0.0"]
    timeout: 20s
    env: {API_TOKEN: "${TOKEN}", `+strings.Join(env, ", ")+`}
  - name: plain
    command: /bin/true
`)
	const canary = "canary-prepare-token-5e4d3c2b1a"
	host := map[string]string{"TOKEN": canary}

	r := run(t, host, "--config", path, "prepare")
	expect(t, r, 0, "files: prepared mcpdrift-fixture@1.0.0 in ")
	for _, want := range []string{"files: installing through npx (HOME " + filepath.Join(filepath.Dir(path), "server-homes", "files") + ")",
		"live: skipped (HTTP server: nothing to install)", "plain: skipped (not started through npx or uvx)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, canary) {
		t.Error("the server's secret reached prepare's output")
	}
	entries, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "server-homes", "files", ".npm", "_npx", "*", "package.json"))
	if len(entries) != 1 {
		t.Fatalf("npx cache entries with package.json in the server's HOME: %v", entries)
	}

	expect(t, run(t, host, "--config", path, "check", "files"), 0, "files")
	expect(t, run(t, host, "--config", path, "prepare", "nope"), 2, "", `unknown server "nope"`)
}
