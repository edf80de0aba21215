package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
)

// copyFixture copies an agentconfig fixture to dst.
func copyFixture(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "agentconfig", "testdata", src))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestConfigImport finds the agents' files where they keep them under
// HOME and in the project, prints a servers: block that is a valid config
// once its variables are set, and copies no secret.
func TestConfigImport(t *testing.T) {
	home, project := t.TempDir(), t.TempDir()
	copyFixture(t, "claude-desktop/claude_desktop_config.json", filepath.Join(home, ".config", "Claude", "claude_desktop_config.json"))
	copyFixture(t, "cursor/.cursor/mcp.json", filepath.Join(home, ".cursor", "mcp.json"))
	copyFixture(t, "vscode/.vscode/mcp.json", filepath.Join(project, ".vscode", "mcp.json"))
	env := map[string]string{"HOME": home}

	r := run(t, env, "config", "import", "--project", project)
	expect(t, r, 0, "servers:\n", "mcpdrift: 8 servers imported from 3 files; set ",
		"internal-api: its url has a query", "notes: disabled in Cursor")
	for _, secret := range []string{"ghp_CANARY", "BSA-CANARY", "CANARY-vscode"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("secret %s copied", secret)
		}
	}
	if !strings.Contains(r.stdout, filepath.Join(project, "docs")) {
		t.Errorf("${workspaceFolder} not resolved to the project:\n%s", r.stdout)
	}
	vars := map[string]bool{}
	for _, v := range []string{"BRAVE_SEARCH_BRAVE_API_KEY", "BRAVE_SEARCH_LOG_LEVEL", "GITHUB_PERSONAL_ACCESS_TOKEN", "GITHUB_TOKEN",
		"INTERNAL_API_AUTHORIZATION", "INTERNAL_API_X_API_KEY", "PERPLEXITY_API_KEY"} {
		vars[v] = true
		if !strings.Contains(r.stderr, v) {
			t.Errorf("stderr does not say to set %s", v)
		}
	}
	cfg, err := config.Parse("servers.yaml", []byte(r.stdout), func(k string) (string, bool) { return "x-" + k, vars[k] })
	if err != nil {
		t.Fatalf("the output is not a valid config: %v", err)
	}
	if len(cfg.Servers) != 8 {
		t.Errorf("%d servers in the config, want 8", len(cfg.Servers))
	}

	// One file, its format given.
	copyFixture(t, "claude-code/.mcp.json", filepath.Join(project, "team.json"))
	r = run(t, env, "config", "import", "--from", "claude-code", filepath.Join(project, "team.json"))
	expect(t, r, 0, "  - name: sentry\n", `chat: not imported: transport "websocket"`)

	expect(t, run(t, map[string]string{"HOME": t.TempDir()}, "config", "import", "--project", t.TempDir()), 2, "", "no agent MCP config found; looked at:")
	expect(t, run(t, env, "config", "import", "--from", "zed", filepath.Join(project, "team.json")), 2, "", `unknown agent config format "zed"`)
	expect(t, run(t, env, "config", "import", filepath.Join(project, "missing.json")), 2, "", "missing.json")
}
