package config

import (
	"path/filepath"
	"reflect"
	"slices"
)

// Relist modes: when a probe lists a kind a second time in its session, to
// see what a client that keeps its session sees.
const (
	RelistAlways   = "always"   // every served list, one more list per session
	RelistNotified = "notified" // the lists the server said changed during the session
	RelistNever    = "never"
)

// Sandbox modes for stdio servers (see internal/sandbox).
const (
	SandboxAuto   = "auto"   // sandboxed where bubblewrap works, else unsandboxed with a warning
	SandboxStrict = "strict" // sandboxed, or not started
	SandboxOff    = "off"    // unsandboxed; still the minimal environment
)

// homesDir is the directory under StateDir that holds each stdio server's
// HOME.
const homesDir = "server-homes"

// Private is what the stdio servers mcpdrift starts must not see, and
// where their own files go. Parse fills it from the file: the config file
// itself, storage.path, admin.socket, $CREDENTIALS_DIRECTORY and every
// *_file secret and TLS key. The command that starts servers adds what only
// it knows (UseDatabase for --db, Hide for the admin socket it chose)
// before any probe.
type Private struct {
	// Paths are the files and directories to hide, absolute.
	Paths []string
	// StateDir is the database's directory: each stdio server's HOME is
	// StateDir/server-homes/NAME, persistent (npm and uv caches) but
	// hidden from the other servers.
	StateDir string
}

// Hide adds paths (made absolute) to what servers must not see.
func (p *Private) Hide(paths ...string) {
	for _, path := range paths {
		if path == "" {
			continue
		}
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		if !slices.Contains(p.Paths, path) {
			p.Paths = append(p.Paths, path)
		}
	}
}

// UseDatabase records the database actually used (the --db flag): it is
// hidden, and server HOMEs move next to it.
func (p *Private) UseDatabase(path string) {
	p.Hide(path)
	if abs, err := filepath.Abs(path); err == nil {
		p.StateDir = filepath.Dir(abs)
	}
}

// Hidden is every path to hide, the directory of all server HOMEs
// included (a server sees only its own, Home).
func (p *Private) Hidden() []string {
	if p == nil {
		return nil
	}
	out := slices.Clone(p.Paths)
	if p.StateDir != "" {
		out = append(out, filepath.Join(p.StateDir, homesDir))
	}
	return out
}

// Home is the persistent HOME of the named server, or "" without a state
// directory (the server then gets a temporary one).
func (p *Private) Home(server string) string {
	if p == nil || p.StateDir == "" {
		return ""
	}
	return filepath.Join(p.StateDir, homesDir, server)
}

// private fills c.Private from the parsed file named name, and points
// every server at it.
func (c *Config) private(name string, env func(string) (string, bool)) {
	p := &c.Private
	p.Hide(name)
	p.UseDatabase(c.Storage.Path)
	p.Hide(c.Admin.Socket)
	if dir, ok := env("CREDENTIALS_DIRECTORY"); ok {
		p.Hide(dir)
	}
	walkSecrets(reflect.ValueOf(c).Elem(), func(s Secret) { p.Hide(s.File()) })
	for i := range c.Servers {
		if t := c.Servers[i].TLS; t != nil {
			p.Hide(t.KeyFile)
		}
		c.Servers[i].Private = p
	}
}
