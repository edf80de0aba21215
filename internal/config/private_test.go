package config

import (
	"path/filepath"
	"slices"
	"testing"
)

// TestPrivate checks that every path the file names that a stdio server
// must not see ends up in Private, and where server HOMEs go.
func TestPrivate(t *testing.T) {
	dir := t.TempDir()
	at := func(p string) string { return filepath.Join(dir, p) }
	yaml := `storage: {path: ` + at("state/mcpdrift.db") + `}
admin: {socket: ` + at("run/admin.sock") + `}
servers:
  - name: files
    command: ./server
    env_files: {API_KEY: ` + at("secrets/api-key") + `}
  - name: remote
    url: https://mcp.example.com/mcp
    header_files: {Authorization: ` + at("secrets/auth") + `}
    tls: {cert_file: ` + at("tls/cert.pem") + `, key_file: ` + at("tls/key.pem") + `}
notifiers:
  - {name: hook, type: webhook, url: "https://hooks.example.com/x", secret_file: ` + at("creds/hook-secret") + `}
`
	env := func(k string) (string, bool) {
		if k == "CREDENTIALS_DIRECTORY" {
			return at("creds"), true
		}
		return fixtureEnv(k)
	}
	cfg, err := Parse(at("etc/config.yaml"), []byte(yaml), env)
	if err != nil {
		t.Fatal(err)
	}
	hidden := cfg.Private.Hidden()
	for _, want := range []string{
		at("etc/config.yaml"), at("state/mcpdrift.db"), at("run/admin.sock"), at("creds"),
		at("secrets/api-key"), at("secrets/auth"), at("creds/hook-secret"), at("tls/key.pem"),
		at("state/server-homes"),
	} {
		if !slices.Contains(hidden, want) {
			t.Errorf("Hidden() lacks %s: %v", want, hidden)
		}
	}
	if slices.Contains(hidden, at("tls/cert.pem")) {
		t.Errorf("a certificate is public, but is hidden: %v", hidden)
	}
	for i := range cfg.Servers {
		if cfg.Servers[i].Private != &cfg.Private {
			t.Errorf("server %s does not share the config's Private", cfg.Servers[i].Name)
		}
	}
	if got, want := cfg.Private.Home("files"), at("state/server-homes/files"); got != want {
		t.Errorf("Home = %s, want %s", got, want)
	}

	// --db elsewhere: hidden too, and HOMEs follow the database.
	cfg.Private.UseDatabase(at("other/x.db"))
	if got, want := cfg.Servers[0].Private.Home("files"), at("other/server-homes/files"); got != want {
		t.Errorf("after UseDatabase, Home = %s, want %s", got, want)
	}
	if h := cfg.Private.Hidden(); !slices.Contains(h, at("other/x.db")) || !slices.Contains(h, at("other/server-homes")) {
		t.Errorf("after UseDatabase, Hidden() = %v", h)
	}

	var none *Private
	if none.Hidden() != nil || none.Home("x") != "" {
		t.Error("a nil Private hides nothing and gives no HOME")
	}
}

func TestSandboxDefaults(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // per server
	}{
		{"default", "servers: [{name: a, command: ./a}, {name: b, url: 'https://x.example/mcp'}]\n", []string{SandboxAuto, ""}},
		{"from defaults", "defaults: {sandbox: strict}\nservers: [{name: a, command: ./a}, {name: b, command: ./b, sandbox: off}]\n", []string{SandboxStrict, SandboxOff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustParse(t, tt.yaml)
			for i, want := range tt.want {
				if got := cfg.Servers[i].Sandbox; got != want {
					t.Errorf("server %s: sandbox %q, want %q", cfg.Servers[i].Name, got, want)
				}
			}
		})
	}
}
