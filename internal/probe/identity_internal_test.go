package probe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

func TestParseLauncher(t *testing.T) {
	tests := []struct {
		name, command string
		args          []string
		launcher      string
		want          pkgSpec
	}{
		{"npx positional", "npx", []string{"-y", "@modelcontextprotocol/server-filesystem@latest", "/srv"},
			"npx", pkgSpec{spec: "@modelcontextprotocol/server-filesystem@latest", name: "@modelcontextprotocol/server-filesystem", requested: "latest"}},
		{"npx unpinned", "/usr/bin/npx", []string{"--yes", "mcp-server-git"},
			"npx", pkgSpec{spec: "mcp-server-git", name: "mcp-server-git"}},
		{"npx --package", "npx", []string{"--yes", "--package", "left-pad@1.3.0", "mcp-bin", "--port", "1"},
			"npx", pkgSpec{spec: "left-pad@1.3.0", name: "left-pad", requested: "1.3.0"}},
		{"npx --package=", "npx", []string{"--package=@s/p@^2", "bin"},
			"npx", pkgSpec{spec: "@s/p@^2", name: "@s/p", requested: "^2"}},
		{"npx file spec", "npx", []string{"-y", "-p", "file:/tmp/x.tgz", "bin"},
			"npx", pkgSpec{spec: "file:/tmp/x.tgz", requested: "file:/tmp/x.tgz"}},
		{"npm exec", "npm", []string{"exec", "--yes", "--", "pkg@2.0.0"},
			"npx", pkgSpec{spec: "pkg@2.0.0", name: "pkg", requested: "2.0.0"}},
		{"uvx pinned", "uvx", []string{"mcp-server-fetch==2025.1.1"},
			"uvx", pkgSpec{spec: "mcp-server-fetch==2025.1.1", name: "mcp-server-fetch", requested: "2025.1.1", python: true}},
		{"uvx at", "uvx", []string{"--python", "3.12", "mcp-server-time@latest", "--local-timezone", "UTC"},
			"uvx", pkgSpec{spec: "mcp-server-time@latest", name: "mcp-server-time", requested: "latest", python: true}},
		{"uvx --from", "uvx", []string{"--from", "my_pkg[cli]>=1.2", "my-cmd"},
			"uvx", pkgSpec{spec: "my_pkg[cli]>=1.2", name: "my_pkg", requested: ">=1.2", python: true}},
		{"uv tool run", "uv", []string{"tool", "run", "mcp-server-git"},
			"uvx", pkgSpec{spec: "mcp-server-git", name: "mcp-server-git", python: true}},
		{"pipx run --spec", "pipx", []string{"run", "--spec", "mcp-proxy==0.3", "mcp-proxy"},
			"pipx", pkgSpec{spec: "mcp-proxy==0.3", name: "mcp-proxy", requested: "0.3", python: true}},
		{"pipx run", "pipx", []string{"run", "mcp-proxy"},
			"pipx", pkgSpec{spec: "mcp-proxy", name: "mcp-proxy", python: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := launcherOf(tt.command, tt.args)
			if l != tt.launcher {
				t.Fatalf("launcher %q, want %q", l, tt.launcher)
			}
			got, ok := parseLauncher(l, tt.args)
			if !ok || got != tt.want {
				t.Errorf("got %+v (%v), want %+v", got, ok, tt.want)
			}
		})
	}
}

func TestNotALauncher(t *testing.T) {
	tests := []struct {
		name, command string
		args          []string
	}{
		{"node", "node", []string{"server.js"}},
		{"npm without exec", "npm", []string{"start"}},
		{"uv run is not a tool run", "uv", []string{"run", "server.py"}},
		{"pipx install", "pipx", []string{"install", "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if l := launcherOf(tt.command, tt.args); l != "" {
				t.Errorf("launcher %q, want none", l)
			}
		})
	}
}

func TestResourceMetadataHint(t *testing.T) {
	tests := []struct{ name, header, want string }{
		{"quoted", `Bearer resource_metadata="https://a.example/.well-known/oauth-protected-resource", error="invalid_token"`, "https://a.example/.well-known/oauth-protected-resource"},
		{"token", `Bearer realm="x", resource_metadata=https://a.example/m, scope="a"`, "https://a.example/m"},
		{"none", `Bearer realm="x"`, ""},
		{"unterminated", `Bearer resource_metadata="https://a`, ""},
		{"no value", `Bearer resource_metadata`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := resourceMetadataHint(tt.header); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o755); err != nil {
		t.Fatal(err)
	}
}

// npxLayout builds what npx leaves in its cache for spec: a package.json
// naming the spec, the installed package, its bin link and npm's lock.
func npxLayout(t *testing.T, cache, hash, spec, name, version string) string {
	t.Helper()
	root := filepath.Join(cache, "_npx", hash)
	write(t, filepath.Join(root, "package.json"), `{"dependencies":{"`+name+`":"x"},"_npx":{"packages":["`+spec+`"]}}`)
	pkg := filepath.Join(root, "node_modules", filepath.FromSlash(name))
	write(t, filepath.Join(pkg, "package.json"), `{"name":"`+name+`","version":"`+version+`"}`)
	write(t, filepath.Join(pkg, "bin", "cli.js"), "#!/usr/bin/env node\n")
	write(t, filepath.Join(root, "node_modules", ".package-lock.json"),
		`{"packages":{"node_modules/`+name+`":{"version":"`+version+`","integrity":"sha512-`+version+`"}}}`)
	bin := filepath.Join(root, "node_modules", ".bin", "cli")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(pkg, "bin", "cli.js"), bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestNpmPackageAt(t *testing.T) {
	d := t.TempDir()
	bin := npxLayout(t, filepath.Join(d, "cache"), "0123abcd", "@scope/srv@latest", "@scope/srv", "2.1.0")
	npm := filepath.Join(d, "lib", "node_modules", "npm", "bin", "npx-cli.js")
	write(t, filepath.Join(d, "lib", "node_modules", "npm", "package.json"), `{"name":"npm","version":"11.0.0"}`)
	write(t, npm, "")
	tests := []struct {
		name, path, want string
		found            bool
		version          string
	}{
		{"bin link, known name", bin, "@scope/srv", true, "2.1.0"},
		{"bin link, name unknown (file: spec) inside the npx cache", bin, "", true, "2.1.0"},
		{"another package", bin, "other", false, ""},
		{"npm itself is never the package", npm, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p manifest.Package
			if got := npmPackageAt(tt.path, tt.want, &p); got != tt.found || p.Version != tt.version {
				t.Fatalf("found %v %+v, want %v %s", got, p, tt.found, tt.version)
			}
			if tt.found && (p.Name != "@scope/srv" || p.Integrity != "sha512-2.1.0") {
				t.Errorf("package %+v", p)
			}
		})
	}
}

func TestNpxCacheNewestMatchWins(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	npxLayout(t, cache, "aaaa", "srv@latest", "srv", "1.0.0")
	npxLayout(t, cache, "bbbb", "srv@latest", "srv", "1.2.0")
	npxLayout(t, cache, "cccc", "other@latest", "srv", "9.9.9")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(filepath.Join(cache, "_npx", "aaaa", "node_modules", "srv", "package.json"), old, old); err != nil {
		t.Fatal(err)
	}
	tg := Target{Env: map[string]string{"npm_config_cache": cache}}
	var p manifest.Package
	if !npxCache(tg, "srv@latest", "srv", &p) || p.Version != "1.2.0" || p.Integrity != "sha512-1.2.0" {
		t.Fatalf("npx cache: %+v", p)
	}
	if npxCache(tg, "missing@1", "missing", &manifest.Package{}) {
		t.Error("found a package no cache entry was made for")
	}
}

func TestPythonPackageAt(t *testing.T) {
	venv := filepath.Join(t.TempDir(), "archive-v0", "Xyz")
	write(t, filepath.Join(venv, "pyvenv.cfg"), "home = /usr/bin\n")
	write(t, filepath.Join(venv, "bin", "mcp-server-fetch"), "#!python\n")
	write(t, filepath.Join(venv, "lib", "python3.12", "site-packages", "mcp_server_fetch-2025.4.7.dist-info", "METADATA"), "Name: mcp-server-fetch\n")
	write(t, filepath.Join(venv, "lib", "python3.12", "site-packages", "httpx-0.28.1.dist-info", "METADATA"), "Name: httpx\n")
	var p manifest.Package
	if !pythonPackageAt(filepath.Join(venv, "bin", "mcp-server-fetch"), "MCP.Server_fetch", &p) || p.Version != "2025.4.7" {
		t.Fatalf("venv package: %+v", p)
	}
	if pythonPackageAt(filepath.Join(venv, "bin", "mcp-server-fetch"), "requests", &manifest.Package{}) {
		t.Error("found a package that is not installed")
	}
	if pythonPackageAt("/usr/bin/python3", "mcp-server-fetch", &manifest.Package{}) {
		t.Error("found a package outside any virtual environment")
	}
}

func TestResolveCommandUsesTargetPATH(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "mcpdrift-fake-server"), "#!/bin/sh\n")
	got, err := resolveCommand(Target{Command: "mcpdrift-fake-server", Env: map[string]string{"PATH": "relative:" + dir}})
	if err != nil || got != filepath.Join(dir, "mcpdrift-fake-server") {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := resolveCommand(Target{Command: "mcpdrift-fake-server", Env: map[string]string{"PATH": "/nonexistent"}}); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("missing command: %v", err)
	}
}

func TestExecutableIdentity(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real-server")
	write(t, real, "#!/bin/sh\necho hi\n")
	link := filepath.Join(dir, "npx")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("#!/bin/sh\necho hi\n"))
	e := executableIdentity(Target{Command: "npx", Args: []string{"-y", "x"}, Dir: dir}, "npx")
	want := &manifest.Executable{Command: "npx", Path: real, SHA256: "sha256:" + hex.EncodeToString(sum[:]), Launcher: "npx"}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v, want %+v", e, want)
	}
	if e := executableIdentity(Target{Command: "gone"}, filepath.Join(dir, "gone")); e.Error == "" || e.Path != "" {
		t.Errorf("missing executable: %+v", e)
	}
}

// oauthProber returns a prober over srv's transport, as a probe of
// srv/mcp would have.
func oauthProber(t *testing.T, raw string) *prober {
	t.Helper()
	return discoveryProber(t, raw, nil)
}

func TestDiscoverOAuth(t *testing.T) {
	type route struct {
		status int
		body   string
	}
	var asURL string
	tests := []struct {
		name   string
		routes map[string]route
		hint   string
		check  func(t *testing.T, o *manifest.OAuth)
	}{
		{"nothing published", nil, "", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthAbsent {
				t.Errorf("%+v", o)
			}
		}},
		{"catch-all HTML page is not metadata", map[string]route{wellKnownResource + "/mcp": {200, "<html>hi</html>"}}, "", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthAbsent {
				t.Errorf("%+v", o)
			}
		}},
		{"server error is recorded", map[string]route{wellKnownResource + "/mcp": {500, "{}"}}, "", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthError || !strings.Contains(o.Error, "status 500") {
				t.Errorf("%+v", o)
			}
		}},
		{"oversized metadata is refused", map[string]route{wellKnownResource: {200, `{"x":"` + strings.Repeat("a", oauthMaxBody) + `"}`}}, "", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthError || !strings.Contains(o.Error, "larger than") {
				t.Errorf("%+v", o)
			}
		}},
		{"malformed field types", map[string]route{wellKnownResource: {200, `{"scopes_supported":"all"}`}}, "", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthError || !strings.Contains(o.Error, "malformed") {
				t.Errorf("%+v", o)
			}
		}},
		{"same-origin hint is followed", map[string]route{"/meta": {200, `{"resource":"r","scopes_supported":["a","b"]}`}}, "/meta", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthPresent || !strings.HasSuffix(o.Resource.MetadataURL, "/meta") || len(o.Resource.ScopesSupported) != 2 {
				t.Errorf("%+v %+v", o, o.Resource)
			}
		}},
		{"hint to another origin is not followed", map[string]route{"/meta": {200, `{"resource":"r"}`}}, "http://127.0.0.1:1/meta", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthAbsent {
				t.Errorf("%+v", o)
			}
		}},
		{"authorization server by OpenID discovery, with a path", map[string]route{
			wellKnownResource + "/mcp":               {200, `{"resource":"r","authorization_servers":["AS/tenant"]}`},
			wellKnownOIDC + "/tenant":                {404, ""},
			"/tenant" + wellKnownOIDC:                {200, `{"issuer":"AS/tenant","token_endpoint":"AS/tenant/token","scopes_supported":["openid"]}`},
			wellKnownAS + "/tenant":                  {404, ""},
			"/tenant/.well-known/unrelated-catchall": {200, "{}"},
		}, "", func(t *testing.T, o *manifest.OAuth) {
			if o.Status != manifest.OAuthPresent || len(o.AuthorizationServers) != 1 {
				t.Fatalf("%+v", o)
			}
			as := o.AuthorizationServers[0]
			if as.Error != "" || as.TokenEndpoint != asURL+"/tenant/token" || !strings.HasSuffix(as.MetadataURL, "/tenant"+wellKnownOIDC) {
				t.Errorf("%+v", as)
			}
		}},
		{"issuer mismatch is flagged", map[string]route{
			wellKnownResource: {200, `{"resource":"r","authorization_servers":["AS"]}`},
			wellKnownAS:       {200, `{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`},
		}, "", func(t *testing.T, o *manifest.OAuth) {
			if len(o.AuthorizationServers) != 1 || !strings.Contains(o.AuthorizationServers[0].Error, "evil.example") {
				t.Errorf("%+v", o)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var posts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" {
					posts.Add(1)
				}
				rt, ok := tt.routes[r.URL.Path]
				if !ok {
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(rt.status)
				_, _ = w.Write([]byte(strings.ReplaceAll(rt.body, "AS", asURL)))
			}))
			defer srv.Close()
			asURL = srv.URL
			hint := tt.hint
			if strings.HasPrefix(hint, "/") {
				hint = srv.URL + hint
			}
			p := oauthProber(t, srv.URL+"/mcp")
			final, _ := url.Parse(srv.URL + "/mcp")
			o := p.discoverOAuth(context.Background(), final, hint)
			tt.check(t, o)
			if n := posts.Load(); n != 0 {
				t.Errorf("%d requests that were not plain GETs", n)
			}
			if _, err := json.Marshal(o); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMetadataClientOnlyGets(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	p := oauthProber(t, srv.URL+"/mcp")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/token", strings.NewReader("grant_type=client_credentials"))
	resp, err := p.metadataClient().Do(req)
	if err == nil {
		resp.Body.Close()
	}
	if !errors.Is(err, ErrForbiddenMethod) || hits.Load() != 0 {
		t.Fatalf("POST through the metadata client: err %v, %d requests reached the server", err, hits.Load())
	}
}
