// Package sandbox turns a stdio MCP server's command into the process
// mcpdrift starts: a minimal environment (the server's configured env plus
// PATH, LANG and a HOME of its own, never the daemon's environment) and,
// where the kernel allows, bubblewrap (bwrap) around it: its own PID, IPC,
// cgroup and user namespaces, no capabilities, the file system
// read-only, private /tmp, /var/tmp and /run, and the daemon's private
// paths (database, admin socket, config, credentials, secret files) not
// there at all. Everything the server starts, detached or not, dies with
// it: the PID namespace ends when the server does.
//
// sandbox decides how a process is started; it never starts the server,
// reads no config and keeps no state beyond what the kernel allows, which
// it checks once per process.
package sandbox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// Mode says whether a server runs sandboxed.
type Mode string

// Modes. The zero Mode is Off: callers that build targets from the config
// always set one (the config's default is Auto).
const (
	// Auto sandboxes when bwrap exists and works here, and otherwise runs
	// the server unsandboxed, saying so once per process.
	Auto Mode = "auto"
	// Strict sandboxes or refuses to start the server.
	Strict Mode = "strict"
	// Off runs the server unsandboxed, with the minimal environment.
	Off Mode = "off"
)

// ErrUnavailable reports that bwrap cannot run here: not installed, or
// the kernel (or a seccomp, AppArmor or systemd policy) refuses the
// namespaces it needs.
var ErrUnavailable = errors.New("the sandbox (bubblewrap) is not available")

// Policy is how one server runs.
type Policy struct {
	Mode Mode
	// Hide lists files and directories the server must not see: the
	// daemon's database, admin socket, config file, credentials directory,
	// secret files. A file hides its whole directory (its backups and
	// neighbours with it), unless that directory is a system one such as
	// /etc. A hidden path stays hidden even under a path the server is
	// configured with.
	Hide []string
	// Home is the server's own persistent HOME, created 0700 when missing.
	// Empty (or not creatable) gives the server a temporary HOME, removed by
	// Launch.Close.
	Home string
	// Bwrap is the bubblewrap executable, looked up in PATH when it has no
	// slash; empty means "bwrap".
	Bwrap string
}

// Command is the server as configured.
type Command struct {
	// Path is the executable, resolved (absolute, or relative to Dir when it
	// has a slash).
	Path string
	Args []string
	// Env is the server's configured environment, the only variables it
	// gets besides PATH, LANG and HOME.
	Env map[string]string
	// Dir is the server's working directory; empty inherits the daemon's.
	Dir string
}

// Launch is how to start one server.
type Launch struct {
	// Path and Args are the program to exec and its arguments (without
	// argv[0]).
	Path string
	Args []string
	// Env is the whole environment.
	Env []string
	// Dir is the working directory of the started program.
	Dir string
	// Files are inherited from fd 3 on (exec.Cmd.ExtraFiles); Started
	// closes them.
	Files []*os.File
	// Sandboxed reports whether the server runs under bwrap.
	Sandboxed bool
	// Home is the server's HOME, also in Env.
	Home string

	tempHome string
}

// Prepare works out how to start c under p. With Strict and no working
// bwrap it fails with ErrUnavailable; with Auto it falls back to an
// unsandboxed launch and logs a warning once per process. Call Close on
// the result once the server has stopped.
func Prepare(c Command, p Policy, log *slog.Logger) (*Launch, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mode := p.Mode
	switch mode {
	case "":
		mode = Off
	case Auto, Strict, Off:
	default:
		return nil, fmt.Errorf("unknown sandbox mode %q (use auto, strict or off)", mode)
	}

	var bwrap string
	if mode != Off {
		var err error
		bwrap, err = Available(p.Bwrap)
		if err != nil {
			if mode == Strict {
				return nil, fmt.Errorf("sandbox: strict, but %w", err)
			}
			warnUnsandboxed(log, p.Bwrap, err)
			mode = Off
		}
	}

	l := &Launch{Path: c.Path, Args: c.Args, Dir: c.Dir}
	if err := l.makeHome(p.Home, log); err != nil {
		return nil, err
	}
	l.Env = Environ(c.Env, l.Home, os.LookupEnv)
	if mode == Off {
		return l, nil
	}

	dir := c.Dir
	if dir == "" {
		// Where the server would have started: the daemon's directory.
		wd, err := os.Getwd()
		if err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("sandbox: working directory: %w", err)
		}
		dir = wd
	} else if !filepath.IsAbs(dir) {
		abs, err := filepath.Abs(dir)
		if err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("sandbox: working directory: %w", err)
		}
		dir = abs
	}
	args := bwrapArgs(plan(c, dir, p.Hide, l.Home), dir)
	f, err := argsFile(args)
	if err != nil {
		_ = l.Close()
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	// The options go through a file descriptor, so the sandbox's pid 1
	// shows as "bwrap --args 3 -- COMMAND ARGS..." and the list of hidden
	// paths is not on any command line.
	l.Path = bwrap
	l.Args = append([]string{"--args", "3", "--", c.Path}, c.Args...)
	l.Files = []*os.File{f}
	l.Sandboxed = true
	return l, nil
}

// Started closes the files the started process inherited.
func (l *Launch) Started() {
	for _, f := range l.Files {
		_ = f.Close()
	}
	l.Files = nil
}

// Close releases what Prepare made: the inherited files, if the process
// never started, and a temporary HOME. Call it once the server has
// stopped.
func (l *Launch) Close() error {
	l.Started()
	if l.tempHome == "" {
		return nil
	}
	err := os.RemoveAll(l.tempHome)
	l.tempHome = ""
	if err != nil {
		return fmt.Errorf("removing the server's temporary HOME: %w", err)
	}
	return nil
}

// makeHome creates the server's HOME: home when given and creatable, else
// a temporary directory.
func (l *Launch) makeHome(home string, log *slog.Logger) error {
	if home != "" {
		err := os.MkdirAll(home, 0o700)
		if err == nil {
			l.Home = home
			return nil
		}
		log.Debug("cannot create the server's HOME; using a temporary one", "home", home, "error", err.Error())
	}
	tmp, err := os.MkdirTemp("", "mcpdrift-home-")
	if err != nil {
		return fmt.Errorf("creating a HOME for the server: %w", err)
	}
	l.Home, l.tempHome = tmp, tmp
	return nil
}
