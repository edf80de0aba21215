package probe

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestInstallArgs(t *testing.T) {
	tests := []struct {
		name, command string
		args          []string
		want          []string
		pkgs          []string
	}{
		{"npx -y spec dir", "npx", []string{"-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/srv"},
			[]string{"--yes", "--package", "@modelcontextprotocol/server-filesystem@2026.8.31", "--", "true"},
			[]string{"@modelcontextprotocol/server-filesystem@2026.8.31"}},
		{"npm options are kept", "/usr/bin/npx", []string{"--registry", "https://npm.internal/", "--yes", "srv@1", "--port", "1"},
			[]string{"--registry", "https://npm.internal/", "--yes", "--package", "srv@1", "--", "true"}, []string{"srv@1"}},
		{"every --package", "npx", []string{"-p", "a@1", "--package=b@2", "-y", "cmd", "arg"},
			[]string{"--yes", "--package", "a@1", "--package", "b@2", "--", "true"}, []string{"a@1", "b@2"}},
		{"npm exec", "npm", []string{"exec", "--yes", "--", "srv@1", "/srv"},
			[]string{"exec", "--yes", "--package", "srv@1", "--", "true"}, []string{"srv@1"}},
		{"uvx name", "uvx", []string{"mcp-server-fetch"},
			[]string{"--from", "mcp-server-fetch", "python", "-c", ""}, []string{"mcp-server-fetch"}},
		{"uvx name@version becomes a requirement", "uvx", []string{"--python", "3.12", "mcp-server-git@2025.1.14", "--repository", "/srv"},
			[]string{"--python", "3.12", "--from", "mcp-server-git==2025.1.14", "python", "-c", ""}, []string{"mcp-server-git==2025.1.14"}},
		{"uvx @latest", "uvx", []string{"mcp-server-time@latest"},
			[]string{"--from", "mcp-server-time", "python", "-c", ""}, []string{"mcp-server-time"}},
		{"uvx --from keeps its spec and --with", "uvx", []string{"--with", "extra", "--from", "git+https://example.com/srv", "srv"},
			[]string{"--with", "extra", "--from", "git+https://example.com/srv", "python", "-c", ""}, []string{"git+https://example.com/srv"}},
		{"uv tool run", "uv", []string{"tool", "run", "--offline", "srv==1.0"},
			[]string{"tool", "run", "--offline", "--from", "srv==1.0", "python", "-c", ""}, []string{"srv==1.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pkgs, ok := installArgs(tt.command, tt.args)
			if !ok || !slices.Equal(got, tt.want) || !slices.Equal(pkgs, tt.pkgs) {
				t.Errorf("installArgs = %q %q %v, want %q %q", got, pkgs, ok, tt.want, tt.pkgs)
			}
		})
	}
	for _, c := range [][]string{{"node", "server.js"}, {"pipx", "run", "srv"}, {"npx"}} {
		if _, _, ok := installArgs(c[0], c[1:]); ok {
			t.Errorf("%q: want nothing to install", c)
		}
	}
}

func TestNpxEntry(t *testing.T) {
	home := t.TempDir()
	tg := Target{Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-filesystem@2026.8.31", "/srv"}, Env: map[string]string{"HOME": home}}
	// npx 11 put this server in .npm/_npx/68b53d3fd47bf8db (seen on a
	// real install).
	if got, want := npxEntry(tg), filepath.Join(home, ".npm", "_npx", "68b53d3fd47bf8db"); got != want {
		t.Errorf("npxEntry = %s, want %s", got, want)
	}
	tg.Env["npm_config_cache"] = "/var/cache/npm"
	if got := npxEntry(tg); !strings.HasPrefix(got, "/var/cache/npm/_npx/") {
		t.Errorf("npm_config_cache not followed: %s", got)
	}
	if got := npxEntry(Target{Command: "npx", Args: []string{"-y", "./local"}, Env: map[string]string{"HOME": home}}); got != "" {
		t.Errorf("a directory spec has entry %s; npm names it by the resolved path", got)
	}
}

// npmENOENT is what npm 11 printed, exactly, for a real npx run over the
// entry an interrupted install left (DIR stands for the entry).
const npmENOENT = `npm error code ENOENT
npm error syscall open
npm error path DIR/package.json
npm error errno -2
npm error enoent Could not read package.json: Error: ENOENT: no such file or directory, open 'DIR/package.json'
npm error enoent This is related to npm not being able to find a file.
npm error enoent
npm error A complete log of this run can be found in: /home/mcp/.npm/_logs/2026-12-02T16_15_00_516Z-debug-0.log
`

func TestNpxDiagnosis(t *testing.T) {
	home := t.TempDir()
	tg := Target{Name: "files", Command: "npx", Args: []string{"-y", "srv@1"}, Env: map[string]string{"HOME": home}}
	entry := npxEntry(tg)
	exited := newKindError(ErrProcessExited, "server process exited: exit status 1")
	timeout := newKindError(ErrTimeout, "probe did not finish within 30s (timeout)")
	stderr := func(s string) []byte { return []byte(strings.ReplaceAll(s, "DIR", entry)) }

	tests := []struct {
		name   string
		setup  func(t *testing.T)
		err    error
		stderr []byte
		want   string // "" for no diagnosis
	}{
		{"npm 11 ENOENT on a broken entry", func(t *testing.T) { mkdir(t, entry, "node_modules") }, exited, stderr(npmENOENT),
			"the npx cache entry " + entry + " is broken (an interrupted install left node_modules without package.json), and npx fails on it every time: delete that directory, or run `mcpdrift prepare files`"},
		{"npm 6 spelling", nil, exited, stderr("npm ERR! code ENOENT\nnpm ERR! path DIR/package.json\n"), "the npx cache entry " + entry + " is broken"},
		{"an ENOENT elsewhere is not the cache", nil, exited, []byte("npm error code ENOENT\nnpm error path /srv/data/package.json\n"), ""},
		{"timeout during the install", func(t *testing.T) { mkdir(t, entry, "concurrency.lock") }, timeout, nil,
			"npx was still installing the package into " + entry + " when the deadline hit"},
		{"timeout before the entry exists", nil, timeout, nil, "no npx cache entry " + entry + " yet"},
		{"timeout with the package installed is the server's", func(t *testing.T) {
			mkdir(t, entry, "node_modules")
			if err := os.WriteFile(filepath.Join(entry, "package.json"), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, timeout, nil, ""},
		{"another failure", nil, exited, []byte("Error: EADDRINUSE"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.RemoveAll(filepath.Join(home, ".npm")); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t)
			}
			d := npxDiagnosis(tg, tt.err, tt.stderr)
			switch {
			case tt.want == "" && d != nil:
				t.Errorf("unexpected diagnosis: %v", d)
			case tt.want != "" && (d == nil || !strings.Contains(d.Error(), tt.want) || !errors.Is(d, ErrLauncherCache)):
				t.Errorf("diagnosis %v, want %q", d, tt.want)
			}
		})
	}
	if d := npxDiagnosis(Target{Command: "uvx", Args: []string{"srv"}}, exited, stderr(npmENOENT)); d != nil {
		t.Errorf("a uvx server diagnosed as npx: %v", d)
	}
}

func mkdir(t *testing.T, parts ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(parts...), 0o700); err != nil {
		t.Fatal(err)
	}
}

func TestCheckHomeOwner(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "server-homes", "files")
	if err := checkHomeOwner(home, os.Getuid()); err != nil {
		t.Errorf("a HOME to be made in the user's own directory: %v", err)
	}
	err := checkHomeOwner(home, os.Getuid()+1)
	if !errors.Is(err, ErrForeignHome) || !strings.Contains(err.Error(), dir+" belongs to uid") || !strings.Contains(err.Error(), "sudo -u mcpdrift mcpdrift prepare") {
		t.Errorf("another user's directory: %v", err)
	}
}

func TestNpxLockHeld(t *testing.T) {
	dir := t.TempDir()
	if npxLockHeld(dir) {
		t.Error("no lock is held")
	}
	lock := filepath.Join(dir, npxLockName)
	mkdir(t, lock)
	if npxLockHeld(dir) {
		t.Error("a lock nobody touches is held")
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				_ = os.Chtimes(lock, now, now) // as npm touches a lock it holds
			}
		}
	}()
	held := npxLockHeld(dir)
	close(stop)
	<-done
	if !held {
		t.Error("a lock touched every 200 ms is not held")
	}
}
