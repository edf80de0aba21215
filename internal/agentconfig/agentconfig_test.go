package agentconfig

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/golden"
)

// canaries are the secret values written in the fixtures: none may reach
// the output.
var canaries = []string{"ghp_CANARYdesktop", "BSA-CANARY", "CANARY-claude-code", "CANARY-vscode", "Q0FOQVJZLWJhc2lj", "debug"}

func importFiles(t *testing.T, ctx Context, paths ...string) Result {
	t.Helper()
	im := NewImporter(ctx)
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Detect(p, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := im.Add(p, f, data); err != nil {
			t.Fatal(err)
		}
	}
	return im.Result()
}

// checkImport renders r against its golden file, and checks that the
// output holds no secret and is a valid mcpdrift config once its
// variables are set.
func checkImport(t *testing.T, r Result, goldenName string) {
	t.Helper()
	out, err := Render(r)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", goldenName), out)
	for _, c := range canaries {
		if strings.Contains(string(out), c) {
			t.Errorf("secret %q copied into the output", c)
		}
	}
	set := map[string]bool{}
	for _, v := range r.Vars {
		set[v.Name] = true
	}
	env := func(k string) (string, bool) {
		if set[k] {
			return "value-of-" + k, true
		}
		return "", false
	}
	if _, err := config.Parse("imported.yaml", out, env); err != nil {
		t.Errorf("the imported servers are not a valid config: %v", err)
	}
	if len(r.Servers) > 0 {
		// Unset, every listed variable is missing: the list is complete.
		if _, err := config.Parse("imported.yaml", out, func(string) (string, bool) { return "", false }); err == nil && len(r.Vars) > 0 {
			t.Error("the config parses without the variables it lists")
		}
	}
}

func TestImport(t *testing.T) {
	ctx := Context{Home: "/home/dana"}
	tests := []struct {
		name, path string
		format     Format
		servers    []string
		vars       []string
		notes      []string
	}{
		{"claude desktop", "testdata/claude-desktop/claude_desktop_config.json", ClaudeDesktop,
			[]string{"brave-search", "filesystem", "github"},
			[]string{"BRAVE_SEARCH_BRAVE_API_KEY", "BRAVE_SEARCH_LOG_LEVEL", "GITHUB_PERSONAL_ACCESS_TOKEN"},
			[]string{"brave search: imported as brave-search"}},
		{"claude code", "testdata/claude-code/.mcp.json", ClaudeCode,
			[]string{"db", "linear", "sentry"},
			[]string{"HOME", "DB_DSN", "LOG_LEVEL", "CACHE_DIR", "DB_PASSWORD", "SENTRY_TOKEN"},
			[]string{"chat: not imported: transport \"websocket\"", "the default of ${LOG_LEVEL:-...} is not carried over"}},
		{"vs code", "testdata/vscode/.vscode/mcp.json", VSCode,
			[]string{"internal-api", "perplexity", "repo-files"},
			[]string{"INTERNAL_API_AUTHORIZATION", "INTERNAL_API_X_API_KEY", "PERPLEXITY_API_KEY"},
			[]string{"asks for input \"perplexity-key\"", "envFile ${workspaceFolder}/.env not imported", "its url has a query"}},
		{"cursor", "testdata/cursor/.cursor/mcp.json", Cursor,
			[]string{"filesystem", "github", "notes"},
			[]string{"GITHUB_TOKEN"},
			[]string{"notes: disabled in Cursor: imported with disabled: true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if f, err := Detect(tt.path, data); err != nil || f != tt.format {
				t.Fatalf("Detect = %s, %v; want %s", f, err, tt.format)
			}
			r := importFiles(t, ctx, tt.path)
			var names, vars []string
			for _, s := range r.Servers {
				names = append(names, s.Name)
			}
			for _, v := range r.Vars {
				vars = append(vars, v.Name)
			}
			if !slices.Equal(names, tt.servers) {
				t.Errorf("servers %q, want %q", names, tt.servers)
			}
			slices.Sort(vars)
			want := slices.Sorted(slices.Values(tt.vars))
			if !slices.Equal(vars, want) {
				t.Errorf("variables %q, want %q", vars, want)
			}
			var notes []string
			for _, n := range r.Notes {
				notes = append(notes, n.String())
			}
			for _, w := range tt.notes {
				if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, w) }) {
					t.Errorf("no note says %q: %q", w, notes)
				}
			}
			checkImport(t, r, strings.ReplaceAll(tt.name, " ", "-")+".golden")
		})
	}
}

// TestImportSeveralFiles: the same server in two agents' files is kept
// once; another one of the same name is renamed, and both are said.
func TestImportSeveralFiles(t *testing.T) {
	r := importFiles(t, Context{Home: "/home/dana"},
		"testdata/claude-desktop/claude_desktop_config.json", "testdata/cursor/.cursor/mcp.json")
	var names []string
	for _, s := range r.Servers {
		names = append(names, s.Name)
	}
	if want := []string{"brave-search", "filesystem", "github", "github-2", "notes"}; !slices.Equal(names, want) {
		t.Errorf("servers %q, want %q", names, want)
	}
	checkImport(t, r, "several.golden")
}

func TestImportWorkspaceFolder(t *testing.T) {
	r := importFiles(t, Context{Home: "/home/dana"}, "testdata/vscode/.vscode/mcp.json")
	for _, s := range r.Servers {
		if s.Name == "repo-files" && s.Args[2] != "testdata/vscode/docs" {
			t.Errorf("${workspaceFolder} resolved to %q, want the folder holding .vscode", s.Args[2])
		}
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		path, data string
		want       Format
	}{
		{"/x/claude_desktop_config.json", `{}`, ClaudeDesktop},
		{"/x/.mcp.json", `{}`, ClaudeCode},
		{"/home/u/.claude.json", `{}`, ClaudeCode},
		{"/x/.vscode/mcp.json", `{}`, VSCode},
		{"/home/u/.config/Code/User/mcp.json", `{}`, VSCode},
		{"/x/.cursor/mcp.json", `{}`, Cursor},
		{"/x/servers.json", `// comment` + "\n" + `{"servers": {},}`, VSCode},
		{"/x/agent.json", `{"mcpServers": {}}`, ClaudeDesktop},
	}
	for _, tt := range tests {
		if got, err := Detect(tt.path, []byte(tt.data)); err != nil || got != tt.want {
			t.Errorf("Detect(%s) = %s, %v; want %s", tt.path, got, err, tt.want)
		}
	}
	if _, err := Detect("/x/other.json", []byte(`{"a": 1}`)); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("an unknown file: %v", err)
	}
}

func TestLocations(t *testing.T) {
	env := func(k string) (string, bool) {
		v, ok := map[string]string{"APPDATA": `C:\Users\dana\AppData\Roaming`}[k]
		return v, ok
	}
	tests := []struct {
		goos string
		want []string
	}{
		{"linux", []string{"/home/dana/.config/Claude/claude_desktop_config.json", "/home/dana/.claude.json",
			"/home/dana/.config/Code/User/mcp.json", "/home/dana/.cursor/mcp.json",
			"/srv/app/.mcp.json", "/srv/app/.vscode/mcp.json", "/srv/app/.cursor/mcp.json"}},
		{"darwin", []string{"/home/dana/Library/Application Support/Claude/claude_desktop_config.json", "/home/dana/.claude.json",
			"/home/dana/Library/Application Support/Code/User/mcp.json", "/home/dana/.cursor/mcp.json",
			"/srv/app/.mcp.json", "/srv/app/.vscode/mcp.json", "/srv/app/.cursor/mcp.json"}},
	}
	for _, tt := range tests {
		var got []string
		for _, l := range Locations(tt.goos, "/home/dana", "/srv/app", env) {
			got = append(got, l.Path)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q\nwant %q", tt.goos, got, tt.want)
		}
	}
	win := Locations("windows", "/home/dana", "", env)
	if len(win) != 4 || !strings.HasPrefix(win[0].Path, `C:\Users\dana\AppData\Roaming`) {
		t.Errorf("windows: %+v", win)
	}
}

func TestStripJSONC(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": 1,}`, `{"a": 1}`},
		{"{\"a\": [1, 2,\n],\n}", "{\"a\": [1, 2\n]\n}"},
		{`{"u": "http://x//y", /* c */ "b": "/* not a comment */"}`, `{"u": "http://x//y",  "b": "/* not a comment */"}`},
		{"// head\n{\"s\": \"a\\\"//b\"} // tail", "\n{\"s\": \"a\\\"//b\"} "},
	}
	for _, tt := range tests {
		if got := string(stripJSONC([]byte(tt.in))); got != tt.want {
			t.Errorf("stripJSONC(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestVarName(t *testing.T) {
	tests := []struct{ server, key, want string }{
		{"github", "GITHUB_TOKEN", "GITHUB_TOKEN"},
		{"github", "Authorization", "GITHUB_AUTHORIZATION"},
		{"brave-search", "BRAVE_API_KEY", "BRAVE_SEARCH_BRAVE_API_KEY"},
		{"internal-api", "X-API-Key", "INTERNAL_API_X_API_KEY"},
		{"1password", "token", "MCP_1PASSWORD_TOKEN"},
	}
	for _, tt := range tests {
		if got := varName(tt.server, tt.key); got != tt.want {
			t.Errorf("varName(%q, %q) = %q, want %q", tt.server, tt.key, got, tt.want)
		}
	}
}
