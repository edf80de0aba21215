package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	local, system := filepath.Join(dir, "mcpdrift.yaml"), filepath.Join(dir, "etc.yaml")
	writeConfig(t, system, 0o600)
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	for _, tt := range []struct {
		name     string
		flag     string
		env      map[string]string
		search   []string
		want     string
		implicit bool
	}{
		{"flag", "/x.yaml", map[string]string{EnvConfig: "/env.yaml"}, []string{local, system}, "/x.yaml", false},
		{"environment", "", map[string]string{EnvConfig: "/env.yaml"}, []string{local, system}, "/env.yaml", false},
		{"first that exists", "", nil, []string{local, system}, system, true},
		{"none exists", "", nil, []string{local}, local, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, implicit := Find(tt.flag, env(tt.env), tt.search)
			if got != tt.want || implicit != tt.implicit {
				t.Errorf("Find = %q, %v; want %q, %v", got, implicit, tt.want, tt.implicit)
			}
		})
	}
}

// A config nobody named is used only when its owner is the invoking user
// or root and nobody else may write it or replace it.
func TestLoadImplicit(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give files to another user")
	}
	const nobody = 65534
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, path string)
		uid   int    // the invoking user
		want  string // "" when accepted, else part of the error
	}{
		{"own file", func(t *testing.T, p string) { writeConfig(t, p, 0o600) }, 0, ""},
		{"root's file, group-readable", func(t *testing.T, p string) { writeConfig(t, p, 0o640) }, 1000, ""},
		{"own file of a plain user", func(t *testing.T, p string) { writeConfig(t, p, 0o644); chown(t, p, nobody) }, nobody, ""},
		{"owned by another user", func(t *testing.T, p string) { writeConfig(t, p, 0o644); chown(t, p, nobody) }, 0,
			"owned by uid 65534, not by you (uid 0) or root"},
		{"owned by another plain user", func(t *testing.T, p string) { writeConfig(t, p, 0o644); chown(t, p, nobody) }, 1000,
			"owned by uid 65534, not by you (uid 1000) or root"},
		{"group-writable", func(t *testing.T, p string) { writeConfig(t, p, 0o660) }, 0, "writable by its group (mode -rw-rw----)"},
		{"world-writable", func(t *testing.T, p string) { writeConfig(t, p, 0o666) }, 0, "writable by its group and everyone (mode -rw-rw-rw-)"},
		{"others-writable only", func(t *testing.T, p string) { writeConfig(t, p, 0o602) }, 0, "writable by everyone"},
		{"in a world-writable directory", func(t *testing.T, p string) { writeConfig(t, p, 0o600); chmod(t, filepath.Dir(p), 0o777) }, 0,
			"is writable by its group and everyone (mode -rwxrwxrwx), so they can replace it"},
		{"in a sticky world-writable directory", func(t *testing.T, p string) {
			writeConfig(t, p, 0o600)
			chmod(t, filepath.Dir(p), 0o777|os.ModeSticky)
		}, 0, ""},
		{"symlink planted by another user", func(t *testing.T, p string) {
			target := filepath.Join(t.TempDir(), "mine.yaml")
			writeConfig(t, target, 0o600)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
		}, 0, "a symlink owned by uid 65534"},
		{"a FIFO", func(t *testing.T, p string) {
			if err := syscall.Mkfifo(p, 0o600); err != nil {
				t.Skip(err)
			}
		}, 0, "not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LocalPath)
			tt.setup(t, path)
			cfg, err := LoadImplicit(path, func(string) (string, bool) { return "", false }, tt.uid)
			if tt.want == "" {
				if err != nil || cfg == nil {
					t.Fatalf("LoadImplicit = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("LoadImplicit error %v, want ErrUnsafe containing %q", err, tt.want)
			}
			// The message states the rule and the way out.
			for _, s := range []string{path, "owned by you or root and writable by nobody else", "safe.directory", "--config"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
		})
	}
}

func writeConfig(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("servers:\n  - {name: files, command: ./server}\n"), mode); err != nil {
		t.Fatal(err)
	}
	chmod(t, path, mode) // whatever the umask
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}
