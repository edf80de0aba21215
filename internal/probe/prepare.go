package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/reaper"
	"github.com/mcpdrift/mcpdrift/internal/sandbox"
)

// Errors of Install.
var (
	// ErrNothingToPrepare reports a target that is no npx or uvx launch
	// (it installs nothing before it starts), or has no HOME to install
	// into.
	ErrNothingToPrepare = errors.New("nothing to prepare")
	// ErrForeignHome reports a server HOME that belongs to another user.
	ErrForeignHome = errors.New("the server's HOME belongs to another user")
)

// installKillWait bounds the wait for an install's process group after
// SIGKILL, once ctx is done.
const installKillWait = 5 * time.Second

// Prepared says what Install did.
type Prepared struct {
	// Launcher is "npx" or "uvx".
	Launcher string
	// Packages are the package specs installed.
	Packages []string
	// Repaired is the broken npx cache entry removed first, or "".
	Repaired string
	// Home is the HOME the install ran with (the server's).
	Home string
	// Sandboxed reports whether the install ran under bubblewrap, as the
	// server does.
	Sandboxed bool
	Duration  time.Duration
}

// installArgs rewrites a launcher command line so that it installs the
// package and runs a no-op instead of the server: for npx, the npm
// options, --yes, every package as --package, and `true` as the command
// (npx then uses the same cache entry as the server, which it names by
// the packages alone); for uvx, the uv options, --from and the package,
// and `python -c ""` from the tool's own environment (uv runs any command
// given --from).
func installArgs(command string, args []string) (out, pkgs []string, ok bool) {
	switch launcherOf(command, args) {
	case launcherNpx:
		pkgs = npxPackages(args)
		if len(pkgs) == 0 {
			return nil, nil, false
		}
		out = append(launcherOptions(args, npxValued, subcommand(command, args, npxValued), "-p", "--package", "-y", "--yes", "--no", "-c", "--call"), "--yes")
		for _, p := range pkgs {
			out = append(out, "--package", p)
		}
		return append(out, "--", "true"), pkgs, true
	case launcherUvx:
		s, ok := parseLauncher(launcherUvx, args)
		if !ok {
			return nil, nil, false
		}
		spec := s.spec
		if len(flagValues(args, uvxValued, "--from")) == 0 && strings.Contains(spec, "@") && !strings.ContainsAny(spec, ":/") {
			// The command@version shorthand is not a requirement --from takes.
			spec = s.name
			if s.requested != "" && s.requested != "latest" {
				spec += "==" + s.requested
			}
		}
		out = append(launcherOptions(args, uvxValued, subcommand(command, args, uvxValued), "--from"), "--from", spec, "python", "-c", "")
		return out, []string{spec}, true
	}
	return nil, nil, false
}

// launcherOptions returns the subcommand words (words, in order: "exec"
// of npm exec, "tool run" of uv tool run) and the launcher's own options
// with their values: everything before the first other positional
// argument, less the options named in drop.
func launcherOptions(args []string, valued map[string]bool, words []string, drop ...string) []string {
	var keep []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return keep
		case len(a) > 1 && a[0] == '-':
			name, _, inline := strings.Cut(a, "=")
			takesNext := !inline && valued[a] && i+1 < len(args)
			if !slices.Contains(drop, name) {
				keep = append(keep, a)
				if takesNext {
					keep = append(keep, args[i+1])
				}
			}
			if takesNext {
				i++
			}
		case len(words) > 0 && a == words[0]:
			keep, words = append(keep, a), words[1:]
		default:
			return keep
		}
	}
	return keep
}

// subcommand returns the words that make command a launcher ("exec" for
// npm exec, "tool run" for uv tool run), or nil for npx and uvx.
func subcommand(command string, args []string, valued map[string]bool) []string {
	switch strings.TrimSuffix(strings.TrimSuffix(filepath.Base(command), ".cmd"), ".exe") {
	case "npm":
		return positional(args, valued, 1)
	case "uv":
		return positional(args, valued, 2)
	}
	return nil
}

// InstallOptions are where Install reports and as whom it runs.
type InstallOptions struct {
	// Out receives the launcher's output as it comes.
	Out io.Writer
	Log *slog.Logger
	// UID is the user Install runs as: the server's HOME must be its own,
	// or the files it installs would not be the daemon's.
	UID int
}

// Install installs the package a launcher-based stdio target (npx, uvx)
// runs, the way a probe starts the server: the same executable,
// environment, working directory, HOME (so the same npm or uv cache) and
// sandbox, but with a no-op in place of the server, so nothing of the
// server runs. A broken npx cache entry for the target (see npxEntryState)
// is removed first. There is no deadline but ctx, whose end kills the
// install's whole process group. A target of another kind gives
// ErrNothingToPrepare.
func Install(ctx context.Context, t Target, o InstallOptions) (*Prepared, error) {
	log, out := o.Log, o.Out
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if out == nil {
		out = io.Discard
	}
	launcher := Launcher(t)
	args, pkgs, ok := installArgs(t.Command, t.Args)
	if !ok {
		if launcher == launcherPipx {
			return nil, fmt.Errorf("%w: pipx run is not supported; run the server once by hand", ErrNothingToPrepare)
		}
		return nil, ErrNothingToPrepare
	}
	if t.Sandbox.Home == "" {
		return nil, fmt.Errorf("%w: the server has no HOME of its own (no storage directory), so every probe installs again", ErrNothingToPrepare)
	}
	if err := checkHomeOwner(t.Sandbox.Home, o.UID); err != nil {
		return nil, err
	}
	exe, err := resolveCommand(t)
	if err != nil {
		return nil, err
	}
	launch, err := sandbox.Prepare(sandbox.Command{Path: exe, Args: args, Env: t.Env, Dir: t.Dir}, t.Sandbox, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := launch.Close(); cerr != nil {
			log.Warn("cleaning up after the install", "error", cerr.Error())
		}
	}()
	if launch.Home != t.Sandbox.Home {
		return nil, fmt.Errorf("cannot create the server's HOME %s: an install elsewhere would not be found by the probe", t.Sandbox.Home)
	}
	res := &Prepared{Launcher: launcher, Packages: pkgs, Home: launch.Home, Sandboxed: launch.Sandboxed}

	if launcher == launcherNpx {
		full := t
		full.Env = map[string]string{"HOME": launch.Home}
		for k, v := range t.Env {
			full.Env[k] = v
		}
		dir := npxEntry(full)
		switch {
		case npxEntryState(dir) == "":
		case npxLockHeld(dir):
			// Another npx (a probe) is installing: npx waits for it.
			fmt.Fprintf(out, "another npx is installing into %s; waiting for it\n", dir)
		default:
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("removing the broken npx cache entry %s: %w", dir, err)
			}
			res.Repaired = dir
			fmt.Fprintf(out, "removed the broken npx cache entry %s\n", dir)
		}
	}

	started := time.Now()
	err = runInstall(ctx, launch, out)
	res.Duration = time.Since(started)
	return res, err
}

// checkHomeOwner refuses a HOME (or, while it does not exist, the
// directory that will hold it) that belongs to another user than uid:
// files installed there as root would not be writable by the daemon's
// user, and its next install would fail.
func checkHomeOwner(home string, uid int) error {
	for p := home; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err == nil {
			st, ok := fi.Sys().(*syscall.Stat_t)
			if ok && int(st.Uid) != uid {
				return fmt.Errorf("%w: %s belongs to uid %d, not to uid %d: run prepare as the user the daemon runs as (for example `sudo -u mcpdrift mcpdrift prepare`)", ErrForeignHome, p, st.Uid, uid)
			}
			return nil
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// runInstall runs a prepared launch in a session of its own, its output
// to out, until it exits or ctx ends (then the whole group is killed).
func runInstall(ctx context.Context, launch *sandbox.Launch, out io.Writer) error {
	cmd := exec.Command(launch.Path, launch.Args...)
	cmd.Dir = launch.Dir
	cmd.Env = launch.Env
	cmd.ExtraFiles = launch.Files
	cmd.Stdout, cmd.Stderr = out, out
	// A process that keeps the output open after the install exits does
	// not hold the command up.
	cmd.WaitDelay = installKillWait
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := reaper.Start(cmd); err != nil {
		return fmt.Errorf("starting the install: %w", err)
	}
	launch.Started()
	pid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() {
		done <- cmd.Wait()
		reaper.Done(pid)
	}()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("the install failed: %w", err)
		}
		return nil
	case <-ctx.Done():
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case err := <-done:
			// Killed: its exit status says only that.
			_ = err
		case <-time.After(installKillWait):
		}
		return fmt.Errorf("install interrupted: %w", ctx.Err())
	}
}
