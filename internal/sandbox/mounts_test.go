package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/sandbox"
)

// tree creates files (with their directories) under root, each holding its
// own relative path, and directories for names ending in "/".
func tree(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(root, n)
		if strings.HasSuffix(n, "/") {
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(n), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// inSandbox runs the check role under p with c's args, dir and env, asks it
// about paths and returns what it could do with each.
func inSandbox(t *testing.T, p sandbox.Policy, c sandbox.Command, paths []string) map[string]access {
	t.Helper()
	c.Path = os.Args[0]
	if c.Env == nil {
		c.Env = map[string]string{}
	}
	c.Env[envRole] = roleCheck
	l, err := sandbox.Prepare(c, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.Sandboxed {
		t.Fatal("Prepare did not sandbox a strict policy")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, l.Path, l.Args...)
	cmd.Env, cmd.Dir, cmd.ExtraFiles = l.Env, l.Dir, l.Files
	cmd.Stdin = strings.NewReader(strings.Join(paths, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l.Started()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sandboxed check: %v\n%s", err, stderr.String())
	}
	got := map[string]access{}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("sandboxed check printed %q: %v\n%s", stdout.String(), err, stderr.String())
	}
	return got
}

// TestMounts checks what a sandboxed server sees of a tree that holds the
// daemon's private files among the server's own.
func TestMounts(t *testing.T) {
	bwrapOrSkip(t)
	root := t.TempDir()
	tree(t, root,
		"work/visible.txt",
		"work/etc/config.yaml", "work/etc/config.yaml.bak", "work/etc/servers/run.sh",
		"state/mcpdrift.db", "state/mcpdrift.db.schema-v1.bak", "state/other.txt",
		"state/server-homes/other/token",
		"creds/slack-webhook",
		"secrets/api-key",
		"cache/",
		"data/file.txt",
		"unlisted.txt",
	)
	at := func(p string) string { return filepath.Join(root, p) }
	home := at("state/server-homes/own")
	p := sandbox.Policy{
		Mode: sandbox.Strict,
		Hide: []string{at("work/etc/config.yaml"), at("state/mcpdrift.db"), at("creds"), at("secrets/api-key"), at("state/server-homes")},
		Home: home,
	}
	c := sandbox.Command{
		Args: []string{"-test.run=^$", at("work/etc/servers/run.sh"), "--root=" + at("data")},
		Env:  map[string]string{"npm_config_cache": at("cache"), "WEBHOOK_FILE": at("creds/slack-webhook"), "DATA": at("work/etc")},
		Dir:  at("work"),
	}
	paths := []string{
		at("work/visible.txt"), at("work/etc"), at("work/etc/config.yaml"), at("work/etc/config.yaml.bak"), at("work/etc/servers/run.sh"),
		at("state/mcpdrift.db"), at("state/mcpdrift.db.schema-v1.bak"), at("state/other.txt"),
		at("state/server-homes/other/token"), home,
		at("creds/slack-webhook"), at("secrets/api-key"), at("cache"), at("data/file.txt"), at("unlisted.txt"),
	}
	got := inSandbox(t, p, c, paths)

	const (
		ok     = "ok"
		absent = "no such file or directory"
		ro     = "read-only file system"
		perm   = "permission denied" // /dev/null on a nodev mount
	)
	tests := []struct {
		path, read, write, why string
	}{
		{"work/visible.txt", ok, ro, "the working directory is readable, not writable"},
		{"work/etc/config.yaml", perm, perm, "the config is hidden in its directory, which env names"},
		{"work/etc/config.yaml.bak", perm, perm, "its neighbours too"},
		{"work/etc/servers/run.sh", ok, ro, "a path in the server's args is readable"},
		{"work/etc", ok, ro, "a directory holding a protected file is read-only, even named in env"},
		{"state/mcpdrift.db.schema-v1.bak", absent, absent, "the database's backups are hidden"},
		{"state/mcpdrift.db", absent, absent, "the database is hidden"},
		{"state/other.txt", absent, absent, "the state directory is hidden"},
		{"state/server-homes/other/token", absent, absent, "another server's HOME is hidden"},
		{"state/server-homes/own", ok, ok, "its own HOME is writable"},
		{"creds/slack-webhook", absent, absent, "the credentials directory is hidden, even where env names a file in it"},
		{"secrets/api-key", absent, absent, "a secret file's directory is hidden"},
		{"cache", ok, ok, "a path in env is writable"},
		{"data/file.txt", ok, ro, "a --flag=PATH arg is readable"},
	}
	for _, tt := range tests {
		a := got[at(tt.path)]
		if a.Read != tt.read || a.Write != tt.write {
			t.Errorf("%s: read %q write %q, want read %q write %q (%s)", tt.path, a.Read, a.Write, tt.read, tt.write, tt.why)
		}
		if tt.read == ok && strings.HasSuffix(tt.path, ".txt") && a.Data != tt.path {
			t.Errorf("%s: read %q", tt.path, a.Data)
		}
	}
	if under(root, os.TempDir()) && under(os.TempDir(), "/tmp") {
		if a := got[at("unlisted.txt")]; a.Read != absent {
			t.Errorf("unlisted.txt under /tmp: read %q, want %q: /tmp is private", a.Read, absent)
		}
	}
	// What the sandbox wrote in the server's HOME is on the host.
	if _, err := os.Stat(filepath.Join(home, "written-by-sandbox-test")); err != nil {
		t.Errorf("the server's HOME is not the host's %s: %v", home, err)
	}
}

// TestMountsConfigInWorkingDirectory is `mcpdrift check` run in a project
// holding mcpdrift.yaml, with a server started there: the directory stays
// readable, the config and its neighbours do not.
func TestMountsConfigInWorkingDirectory(t *testing.T) {
	bwrapOrSkip(t)
	root := t.TempDir()
	tree(t, root, "project/mcpdrift.yaml", "project/mcpdrift.yaml.orig", "project/server.js", "project/.mcpdrift/db", "project/.mcpdrift/db.lock")
	at := func(p string) string { return filepath.Join(root, p) }
	p := sandbox.Policy{Mode: sandbox.Strict, Hide: []string{at("project/mcpdrift.yaml"), at("project/.mcpdrift/db")}}
	got := inSandbox(t, p, sandbox.Command{Args: []string{"-test.run=^$", "server.js"}, Dir: at("project")},
		[]string{at("project/server.js"), at("project/mcpdrift.yaml"), at("project/mcpdrift.yaml.orig"), at("project/.mcpdrift/db.lock"), at("project")})

	if a := got[at("project/server.js")]; a.Read != "ok" || a.Data != "project/server.js" {
		t.Errorf("server.js: %+v, want readable", a)
	}
	for _, name := range []string{"project/mcpdrift.yaml", "project/mcpdrift.yaml.orig"} {
		if a := got[at(name)]; a.Read == "ok" || a.Data != "" {
			t.Errorf("%s: %+v, want unreadable", name, a)
		}
	}
	if a := got[at("project/.mcpdrift/db.lock")]; a.Read != "no such file or directory" {
		t.Errorf("the database's directory: %+v, want hidden", a)
	}
	if a := got[at("project")]; a.Read != "ok" || !strings.Contains(a.Data, "server.js") {
		t.Errorf("the working directory: %+v, want listed", a)
	}
}

func TestEnviron(t *testing.T) {
	daemon := map[string]string{
		"PATH": "/opt/bin:/usr/bin", "LANG": "de_DE.UTF-8", "HOME": "/var/lib/mcpdrift",
		"MCPDRIFT_CONFIG": "/etc/mcpdrift/config.yaml", "GITHUB_TOKEN": "ghp_daemon", "NOTIFY_SOCKET": "/run/systemd/notify",
	}
	lookup := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	tests := []struct {
		name       string
		configured map[string]string
		daemon     map[string]string
		want       []string
	}{
		{"daemon's PATH and LANG, own HOME", map[string]string{"API_KEY": "k"}, daemon,
			[]string{"API_KEY=k", "HOME=/home/x", "LANG=de_DE.UTF-8", "PATH=/opt/bin:/usr/bin"}},
		{"defaults without the daemon's", nil, map[string]string{},
			[]string{"HOME=/home/x", "LANG=" + sandbox.DefaultLang, "PATH=" + sandbox.DefaultPath}},
		{"the config wins", map[string]string{"PATH": "/srv/bin", "HOME": "/srv/home", "GITHUB_TOKEN": "ghp_own"}, daemon,
			[]string{"GITHUB_TOKEN=ghp_own", "HOME=/srv/home", "LANG=de_DE.UTF-8", "PATH=/srv/bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sandbox.Environ(tt.configured, "/home/x", lookup(tt.daemon))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Environ = %q, want %q", got, tt.want)
			}
		})
	}
}

func under(p, root string) bool {
	return p == root || strings.HasPrefix(p, strings.TrimSuffix(root, "/")+"/")
}
