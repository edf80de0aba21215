package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/mcptest"
)

// TestLeakedSecretsNeverPrinted runs the CLI over servers that leak every
// kind of configured secret into their errors (mcptest.LeakyFleet): the
// output and debug log of check (text and json), status, history and
// config check --print hold none of them, and check says which key each
// leaked secret was configured under.
func TestLeakedSecretsNeverPrinted(t *testing.T) {
	leak := mcptest.LeakyFleet(t)
	cfg, _ := setup(t, leak.Servers+
		"notifiers:\n  - {name: siem, type: webhook, url: \"https://siem.example/hook\", secret: "+leak.NotifierSecret+"}\n")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	lock := filepath.Join(t.TempDir(), "mcp.lock.json")
	writeFile(t, lock, `{"lockfile": 1, "mcpdrift": "test", "servers": {}}`)
	tests := []struct {
		args  []string
		code  int
		shows []string
	}{
		{[]string{"--log-level", "debug", "check"}, ExitUnreachable,
			[]string{"[REDACTED:env.API_KEY]", "[REDACTED:env.FILE_KEY]", "[REDACTED:servers.other.env.TOKEN]", "[REDACTED:headers.Authorization]"}},
		{[]string{"--log-level", "debug", "--log-format", "json", "check", "--format", "json"}, ExitUnreachable,
			[]string{"[REDACTED:notifiers.siem.secret]", "[REDACTED:url.query]"}},
		// Without a database: the lockfile path reports errors itself.
		{[]string{"check", "--lock", lock}, ExitDrift,
			[]string{"[REDACTED:env.API_KEY]", "[REDACTED:servers.other.env.TOKEN]"}},
		{[]string{"status"}, ExitOK, []string{"[REDACTED:headers.Authorization]"}},
		{[]string{"status", "--format", "json"}, ExitOK, []string{"[REDACTED:headers.Authorization]"}},
		{[]string{"history", "leaky"}, ExitOK, nil},
		{[]string{"config", "check", "--print"}, ExitOK, []string{"api_key=[REDACTED]", "secret: '[REDACTED]'"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, env, tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			out := r.stdout + r.stderr
			leak.Check(t, "the output", out)
			for _, s := range tt.shows {
				if !strings.Contains(out, s) {
					t.Errorf("the output does not show %s, so the leak never reached it:\n%s", s, out)
				}
			}
		})
	}
}
