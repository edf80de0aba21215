package probe

import (
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// What an interrupted npx install leaves in its cache entry
// (~/.npm/_npx/HASH). npx (libnpmexec) creates the entry, installs into
// node_modules under a lock (concurrency.lock, a directory it touches
// every second and others break after 60 s), and writes package.json
// last. Killed in between (a probe deadline during a first install), it
// leaves node_modules without package.json: every later run finds the
// package "installed", skips the install, and fails reading package.json
// with "npm error code ENOENT", until the entry is deleted.
const (
	npxLockName     = "concurrency.lock"
	npxLockStaleAge = 60 // seconds, npm's staleThreshold
)

// npxLockTouch is longer than npm's touch interval of a held lock (1 s)
// under load: a lock whose mtime does not move for that long is stale.
const npxLockTouch = 2500 * time.Millisecond

// npxLockHeld reports whether another npx holds the entry's lock now: it
// touches the lock every second while it does.
func npxLockHeld(dir string) bool {
	lock := filepath.Join(dir, npxLockName)
	before, err := os.Stat(lock)
	if err != nil {
		return false
	}
	time.Sleep(npxLockTouch) // watching a file npm touches on a timer
	after, err := os.Stat(lock)
	return err == nil && !after.ModTime().Equal(before.ModTime())
}

// npxENOENT matches npm's report of the missing package.json of an npx
// cache entry; the group is the entry.
var npxENOENT = regexp.MustCompile(`npm (?:error|ERR!) path (\S*[/\\]_npx[/\\][0-9a-f]{16})[/\\]package\.json`)

// Launcher returns the package launcher a stdio target runs through
// ("npx", "uvx" or "pipx"), or "".
func Launcher(t Target) string {
	if t.Command == "" {
		return ""
	}
	return launcherOf(t.Command, t.Args)
}

// npxPackages returns the package specs npx installs for a command line,
// as libnpmexec lists them: every --package, else the first positional
// argument (after "exec" for npm exec).
func npxPackages(args []string) []string {
	if l := positional(args, npxValued, 1); len(l) == 1 && (l[0] == "exec" || l[0] == "x") {
		if i := slices.Index(args, l[0]); i >= 0 {
			args = args[i+1:]
		}
	}
	if p := flagValues(args, npxValued, "-p", "--package"); len(p) > 0 {
		return p
	}
	return positional(args, npxValued, 1)
}

// npxEntry returns the npx cache entry t's packages are installed into:
// _npx/ and the first 16 hex digits of the SHA-512 of the specs, sorted
// and joined by newlines (libnpmexec). "" when it cannot be told: no npm
// cache known, or a directory spec (npm names those by the resolved
// path).
func npxEntry(t Target) string {
	cache := npmCache(t)
	pkgs := npxPackages(t.Args)
	if cache == "" || len(pkgs) == 0 {
		return ""
	}
	for _, p := range pkgs {
		if strings.HasPrefix(p, ".") || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") {
			return ""
		}
	}
	// npm sorts with localeCompare; for one spec (the usual case) the
	// order does not matter, and specs are rarely told apart by case.
	slices.SortFunc(pkgs, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	sum := sha512.Sum512([]byte(strings.Join(pkgs, "\n")))
	return filepath.Join(cache, "_npx", hex.EncodeToString(sum[:])[:16])
}

// npxEntryState describes an npx cache entry: "" when complete or absent,
// else what is wrong with it.
func npxEntryState(dir string) string {
	if dir == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return "an interrupted install left node_modules without package.json"
	}
	if _, err := os.Stat(filepath.Join(dir, npxLockName)); err == nil {
		return "an interrupted install left its lock (npx waits " + fmt.Sprint(npxLockStaleAge) + " s before breaking it)"
	}
	return ""
}

// npxDiagnosis explains a failed probe of an npx server from what npm
// wrote and what its cache holds, with the fix; nil when there is nothing
// to add. t has the server's whole environment.
func npxDiagnosis(t Target, err error, stderr []byte) error {
	if Launcher(t) != launcherNpx {
		return nil
	}
	if m := npxENOENT.FindSubmatch(stderr); m != nil && strings.Contains(string(stderr), "ENOENT") {
		return fmt.Errorf("%w: the npx cache entry %s is broken (%s), and npx fails on it every time: delete that directory, or run `mcpdrift prepare %s`, which does and installs the package again",
			ErrLauncherCache, m[1], orUnknownState(npxEntryState(string(m[1]))), t.Name)
	}
	if !errors.Is(err, ErrTimeout) {
		return nil
	}
	dir := npxEntry(t)
	if dir == "" {
		return nil
	}
	if npxEntryState(dir) != "" {
		return fmt.Errorf("%w: npx was still installing the package into %s when the deadline hit, and the interrupted install leaves that entry broken for later runs: run `mcpdrift prepare %s` once (no deadline; it repairs the entry), or raise first_run_timeout",
			ErrLauncherCache, dir, t.Name)
	}
	if _, statErr := os.Stat(dir); errors.Is(statErr, os.ErrNotExist) {
		return fmt.Errorf("%w: npx was probably still resolving or downloading the package (no npx cache entry %s yet): run `mcpdrift prepare %s` once (no deadline), or raise first_run_timeout",
			ErrLauncherCache, dir, t.Name)
	}
	return nil
}

func orUnknownState(s string) string {
	if s == "" {
		return "npm could not read its package.json"
	}
	return s
}

// PackageInstalled reports whether the package a launcher-based target
// runs is installed in its cache already (known is false when that cannot
// be told without running the launcher: uvx, pipx, directory specs).
func PackageInstalled(t Target) (installed, known bool) {
	if Launcher(t) != launcherNpx {
		return false, false
	}
	dir := npxEntry(t)
	if dir == "" {
		return false, false
	}
	_, err := os.Stat(filepath.Join(dir, "package.json"))
	return err == nil, true
}
