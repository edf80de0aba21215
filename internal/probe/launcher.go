package probe

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/procfs"
)

// Bounds on what identity capture reads from the local system.
const (
	maxExecutableBytes = 512 << 20 // hashed; a larger file is recorded unhashed
	maxGroupMembers    = 64        // processes of one server's group looked at
	maxProcFile        = 64 << 10  // /proc/PID/cmdline and stat
	maxPackageFile     = 1 << 20   // package.json, .package-lock.json, METADATA
	maxNpxCacheEntries = 2000      // npx cache directories looked at
	maxWalkUp          = 16        // directory levels searched above a path
)

// Launchers whose package identity is recorded.
const (
	launcherNpx  = "npx"
	launcherUvx  = "uvx"
	launcherPipx = "pipx"
)

// Methods that found a package version (manifest.Package.Method).
const (
	methodProcess  = "process"
	methodNpxCache = "npx-cache"
)

// resolveCommand returns the path of the executable a stdio target runs:
// Command itself when it contains a slash, else the first match on the
// target's PATH (from Env when it sets PATH, else mcpdrift's own, which
// the server also gets), which is also what startProcess runs.
func resolveCommand(t Target) (string, error) {
	if strings.Contains(t.Command, "/") {
		return t.Command, nil
	}
	path, ok := t.Env["PATH"]
	if !ok {
		return exec.LookPath(t.Command)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" || !filepath.IsAbs(dir) {
			// Relative PATH entries depend on the working directory: the
			// same rule as exec.LookPath (ErrDot), refused.
			continue
		}
		p := filepath.Join(dir, t.Command)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q not found in the target's PATH", exec.ErrNotFound, t.Command)
}

// executableIdentity resolves and hashes the executable a stdio server
// was started from (path as given to exec, relative to the target's
// working directory).
func executableIdentity(t Target, path string) *manifest.Executable {
	e := &manifest.Executable{Command: t.Command, Launcher: launcherOf(t.Command, t.Args)}
	if path == "" {
		e.Error = "command not resolved"
		return e
	}
	if !filepath.IsAbs(path) {
		dir := t.Dir
		if dir == "" {
			dir, _ = os.Getwd()
		}
		path = filepath.Join(dir, path)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		e.Error = "cannot resolve the executable's symlinks"
		return e
	}
	e.Path = real
	sum, err := hashFile(real, maxExecutableBytes)
	if err != nil {
		e.Error = err.Error()
		return e
	}
	e.SHA256 = sum
	return e
}

// fileHashKey identifies a file's content without reading it (hashKeyOf).
type fileHashKey struct {
	dev, ino           uint64
	size, mtime, ctime int64
}

// fileHashes remembers executables' digests by path, each with the
// fileHashKey it was read under: a hundred stdio servers started through
// the same node or a daemon probing the same server every minute hash each
// executable once, not at every probe (reading an 18 MB executable per
// probe was a tenth of a check of 100 stdio servers). It holds one entry
// per executable path; a replaced executable replaces its entry.
var fileHashes sync.Map // path -> fileHash

type fileHash struct {
	key fileHashKey
	sum string
}

// hashFile returns "sha256:" and the hex digest of a regular file of at
// most limit bytes.
func hashFile(path string, limit int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", errors.New("cannot open the executable")
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", errors.New("the executable is not a regular file")
	}
	key, cacheable := hashKeyOf(fi)
	if v, ok := fileHashes.Load(path); cacheable && ok && v.(fileHash).key == key {
		return v.(fileHash).sum, nil
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, limit+1))
	if err != nil {
		return "", errors.New("cannot read the executable")
	}
	if n > limit {
		return "", fmt.Errorf("the executable is larger than %d MiB: not hashed", limit>>20)
	}
	sum := "sha256:" + hex.EncodeToString(h.Sum(nil))
	// Kept only if the file did not change while it was read.
	if after, err := f.Stat(); cacheable && err == nil {
		if k, ok := hashKeyOf(after); ok && k == key {
			fileHashes.Store(path, fileHash{key, sum})
		}
	}
	return sum, nil
}

// launcherOf names the package launcher a command is, or "".
func launcherOf(command string, args []string) string {
	base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(command), ".cmd"), ".exe")
	sub := func() []string { return positional(args, nil, 2) }
	switch base {
	case "npx":
		return launcherNpx
	case "uvx":
		return launcherUvx
	case "npm":
		if s := sub(); len(s) > 0 && (s[0] == "exec" || s[0] == "x") {
			return launcherNpx
		}
	case "uv":
		if s := sub(); len(s) == 2 && s[0] == "tool" && s[1] == "run" {
			return launcherUvx
		}
	case "pipx":
		if s := sub(); len(s) > 0 && s[0] == "run" {
			return launcherPipx
		}
	}
	return ""
}

// positional returns the first n positional arguments, skipping flags
// and the values of the flags in valued.
func positional(args []string, valued map[string]bool, n int) []string {
	var out []string
	for i := 0; i < len(args) && len(out) < n; i++ {
		a := args[i]
		switch {
		case a == "--":
			for _, r := range args[i+1:] {
				if len(out) < n {
					out = append(out, r)
				}
			}
			return out
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if !strings.Contains(a, "=") && valued[a] {
				i++
			}
		default:
			out = append(out, a)
		}
	}
	return out
}

// flagValues returns the values of the named flags, in order, in both
// "--flag value" and "--flag=value" forms, up to the first positional
// argument (after which flags belong to the server).
func flagValues(args []string, valued map[string]bool, names ...string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || len(a) == 1 {
			return out
		}
		name, value, hasValue := strings.Cut(a, "=")
		if !hasValue && valued[a] && i+1 < len(args) {
			value, hasValue = args[i+1], true
			i++
		}
		if hasValue && slices.Contains(names, name) {
			out = append(out, value)
		}
	}
	return out
}

var (
	npxValued = map[string]bool{"-p": true, "--package": true, "-c": true, "--call": true,
		"--registry": true, "--cache": true, "--userconfig": true, "--prefix": true,
		"-w": true, "--workspace": true, "--loglevel": true, "--node-options": true, "--script-shell": true}
	uvxValued = map[string]bool{"--from": true, "--with": true, "--with-editable": true,
		"--with-requirements": true, "-p": true, "--python": true, "--index": true,
		"--default-index": true, "-i": true, "--index-url": true, "--extra-index-url": true,
		"-f": true, "--find-links": true, "-c": true, "--constraints": true, "--overrides": true,
		"-b": true, "--build-constraints": true, "--cache-dir": true, "--directory": true,
		"--project": true, "--config-file": true, "--env-file": true, "--color": true,
		"--python-preference": true, "-P": true, "--upgrade-package": true,
		"--reinstall-package": true, "--refresh-package": true, "--resolution": true,
		"--prerelease": true, "--exclude-newer": true, "--keyring-provider": true,
		"--index-strategy": true, "--link-mode": true}
	pipxValued = map[string]bool{"--spec": true, "--python": true, "-i": true, "--index-url": true,
		"--pip-args": true, "--backend": true}
)

// pkgSpec is the package a launcher command line asks for.
type pkgSpec struct {
	spec, name, requested string
	python                bool
}

// parseLauncher finds the package argument of a launcher command line.
func parseLauncher(launcher string, args []string) (pkgSpec, bool) {
	// Skip the subcommand words of "npm exec", "uv tool run", "pipx run".
	skip := func(words ...string) []string {
		rest := args
		for _, w := range words {
			i := slices.Index(rest, w)
			if i < 0 {
				return rest
			}
			rest = rest[i+1:]
		}
		return rest
	}
	var s pkgSpec
	switch launcher {
	case launcherNpx:
		if l := positional(args, npxValued, 1); len(l) == 1 && (l[0] == "exec" || l[0] == "x") {
			args = skip(l[0])
		}
		if p := flagValues(args, npxValued, "-p", "--package"); len(p) > 0 {
			s.spec = p[0]
		} else if l := positional(args, npxValued, 1); len(l) == 1 {
			s.spec = l[0]
		}
		s.name, s.requested = npmName(s.spec)
	case launcherUvx, launcherPipx:
		valued, from := uvxValued, "--from"
		if launcher == launcherPipx {
			valued, from = pipxValued, "--spec"
			args = skip("run")
		} else if l := positional(args, uvxValued, 2); len(l) == 2 && l[0] == "tool" && l[1] == "run" {
			args = skip("tool", "run")
		}
		if f := flagValues(args, valued, from); len(f) > 0 {
			s.spec = f[0]
		} else if l := positional(args, valued, 1); len(l) == 1 {
			s.spec = l[0]
		}
		s.name, s.requested = pythonName(s.spec)
		s.python = true
	}
	return s, s.spec != ""
}

// npmName splits an npm package spec into name and requested version,
// range or tag. Specs that are not registry names (file:, git, URLs,
// paths, user/repo) have no name until one is found installed.
func npmName(spec string) (name, requested string) {
	if rest, ok := strings.CutPrefix(spec, "@"); ok {
		if i := strings.IndexByte(rest, '@'); i >= 0 {
			return spec[:i+1], rest[i+1:]
		}
		return spec, ""
	}
	if strings.ContainsAny(spec, ":/\\") || strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "~") {
		// What is asked for is the location itself, whose content may move.
		return "", spec
	}
	name, requested, _ = strings.Cut(spec, "@")
	return name, requested
}

// pythonName splits a Python requirement ("pkg==1.2", "pkg@1.2" in uvx,
// "pkg[extra]>=1") into name and requested version or specifier.
func pythonName(spec string) (name, requested string) {
	if strings.ContainsAny(spec, ":/\\") || strings.HasPrefix(spec, ".") {
		return "", spec
	}
	i := strings.IndexFunc(spec, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
	})
	if i < 0 {
		return spec, ""
	}
	name, rest := spec[:i], spec[i:]
	if strings.HasPrefix(rest, "[") {
		if j := strings.IndexByte(rest, ']'); j >= 0 {
			rest = rest[j+1:]
		}
	}
	rest = strings.TrimSpace(rest)
	switch {
	case strings.HasPrefix(rest, "=="):
		rest = rest[2:]
	case strings.HasPrefix(rest, "@"):
		rest = rest[1:]
	}
	return name, strings.TrimSpace(rest)
}

// normPython normalizes a Python distribution name the way dist-info
// directory names spell it (PEP 503, with underscores).
func normPython(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(s) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// launcherPackage finds the package version a launcher actually ran:
// first in the server's own process group (the paths of the running
// processes lead to the installed package), then, for npx, in the npx
// cache entry for the spec. It never runs a package manager and makes no
// network request.
func launcherPackage(t Target, launcher string, pgid int, log *slog.Logger) *manifest.Package {
	s, ok := parseLauncher(launcher, t.Args)
	if !ok {
		return &manifest.Package{Launcher: launcher, Error: "no package argument found"}
	}
	pkg := &manifest.Package{Launcher: launcher, Spec: clip(s.spec), Name: s.name, Requested: clip(s.requested)}
	paths := groupPaths(pgid)
	for _, p := range paths {
		var found bool
		if s.python {
			found = pythonPackageAt(p, s.name, pkg)
		} else {
			found = npmPackageAt(p, s.name, pkg)
		}
		if found {
			pkg.Method = methodProcess
			return pkg
		}
	}
	if !s.python && npxCache(t, s.spec, s.name, pkg) {
		pkg.Method = methodNpxCache
		return pkg
	}
	pkg.Error = "version not found in the server's processes"
	if !s.python {
		pkg.Error += " or the npx cache"
	}
	logIdentityProblem(log, "package", pkg.Error)
	return pkg
}

// groupPaths lists the absolute paths in the command lines (and the
// executables) of the processes in a process group, read from /proc. It
// returns nothing where /proc does not exist.
func groupPaths(pgid int) []string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	members := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || processGroup(pid) != pgid {
			continue
		}
		if members++; members > maxGroupMembers {
			break
		}
		dir := filepath.Join("/proc", e.Name())
		if b, err := readCapped(filepath.Join(dir, "cmdline"), maxProcFile); err == nil {
			for _, a := range bytes.Split(b, []byte{0}) {
				if len(a) > 1 && a[0] == '/' {
					out = append(out, string(a))
				}
			}
		}
		if exe, err := os.Readlink(filepath.Join(dir, "exe")); err == nil {
			out = append(out, exe)
		}
	}
	return out
}

// processGroup reads a process's group id from /proc/PID/stat, or -1.
func processGroup(pid int) int {
	st, err := procfs.ReadStat(pid)
	if err != nil {
		return -1
	}
	return st.PGID
}

func readCapped(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func readPackageJSON(path string) (packageJSON, bool) {
	var pj packageJSON
	b, err := readCapped(path, maxPackageFile)
	if err != nil || json.Unmarshal(b, &pj) != nil || pj.Name == "" {
		return pj, false
	}
	return pj, true
}

// npmPackageAt walks up from a path (and from its symlink target) to the
// nearest package directory inside a node_modules directory whose name is
// want; or, when want is unknown (a file: or git spec), to any package
// inside the npx cache other than npm itself.
func npmPackageAt(path, want string, pkg *manifest.Package) bool {
	starts := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		starts = append(starts, real)
	}
	for _, start := range starts {
		dir := filepath.Dir(start)
		for range maxWalkUp {
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			root := ""
			switch {
			case filepath.Base(parent) == "node_modules":
				root = parent
			case strings.HasPrefix(filepath.Base(parent), "@") && filepath.Base(filepath.Dir(parent)) == "node_modules":
				root = filepath.Dir(parent)
			}
			if root != "" {
				if pj, ok := readPackageJSON(filepath.Join(dir, "package.json")); ok &&
					(pj.Name == want || want == "" && pj.Name != "npm" && strings.Contains(dir, string(filepath.Separator)+"_npx"+string(filepath.Separator))) {
					pkg.Name, pkg.Version = clip(pj.Name), clip(pj.Version)
					pkg.Integrity = lockIntegrity(root, pj.Name)
					return true
				}
			}
			dir = parent
		}
	}
	return false
}

// lockIntegrity reads the integrity npm recorded for a top-level package
// of a node_modules directory, or "".
func lockIntegrity(nodeModules, name string) string {
	b, err := readCapped(filepath.Join(nodeModules, ".package-lock.json"), maxPackageFile)
	if err != nil {
		return ""
	}
	var lock struct {
		Packages map[string]struct {
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	if json.Unmarshal(b, &lock) != nil {
		return ""
	}
	return clip(lock.Packages["node_modules/"+name].Integrity)
}

// npmCache is the npm cache a target's npx uses: npm_config_cache from its
// environment, else .npm in its HOME (its environment's, or the one the
// sandbox gives it); "" when neither is known.
func npmCache(t Target) string {
	cache := envOf(t, "npm_config_cache")
	if cache == "" {
		cache = envOf(t, "NPM_CONFIG_CACHE")
	}
	if cache != "" {
		return cache
	}
	home := envOf(t, "HOME")
	if home == "" {
		home = t.Sandbox.Home
	}
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".npm")
}

// npxCache finds the npx cache entry (~/.npm/_npx/HASH) that npx made for
// spec: its package.json lists the specs it was made for. Of several, the
// most recently installed wins.
func npxCache(t Target, spec, want string, pkg *manifest.Package) bool {
	cache := npmCache(t)
	if cache == "" {
		return false
	}
	entries, err := os.ReadDir(filepath.Join(cache, "_npx"))
	if err != nil {
		return false
	}
	var best time.Time
	found := false
	for i, e := range entries {
		if i >= maxNpxCacheEntries {
			break
		}
		dir := filepath.Join(cache, "_npx", e.Name())
		b, err := readCapped(filepath.Join(dir, "package.json"), maxPackageFile)
		if err != nil {
			continue
		}
		var entry struct {
			Dependencies map[string]string `json:"dependencies"`
			Npx          struct {
				Packages []string `json:"packages"`
			} `json:"_npx"`
		}
		if json.Unmarshal(b, &entry) != nil || !slices.Contains(entry.Npx.Packages, spec) {
			continue
		}
		name := want
		if name == "" && len(entry.Dependencies) == 1 {
			for k := range entry.Dependencies {
				name = k
			}
		}
		if name == "" || strings.Contains(name, "..") {
			continue
		}
		pjPath := filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json")
		pj, ok := readPackageJSON(pjPath)
		fi, err := os.Stat(pjPath)
		if !ok || err != nil || pj.Name != name || (found && !fi.ModTime().After(best)) {
			continue
		}
		found, best = true, fi.ModTime()
		pkg.Name, pkg.Version = clip(pj.Name), clip(pj.Version)
		pkg.Integrity = lockIntegrity(filepath.Join(dir, "node_modules"), pj.Name)
	}
	return found
}

// pythonPackageAt walks up from a path to the virtual environment holding
// it (the directory with pyvenv.cfg: uvx and pipx run servers from one)
// and reads the installed version of want from its dist-info directory.
func pythonPackageAt(path, want string, pkg *manifest.Package) bool {
	if want == "" {
		return false
	}
	dir := filepath.Dir(path)
	venv := ""
	for range maxWalkUp {
		if _, err := os.Stat(filepath.Join(dir, "pyvenv.cfg")); err == nil {
			venv = dir
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
	if venv == "" {
		return false
	}
	infos, _ := filepath.Glob(filepath.Join(venv, "lib", "python*", "site-packages", "*.dist-info"))
	for _, info := range infos {
		name, version, ok := strings.Cut(strings.TrimSuffix(filepath.Base(info), ".dist-info"), "-")
		if ok && normPython(name) == normPython(want) {
			pkg.Version = clip(version)
			return true
		}
	}
	return false
}

// envOf reads a variable from the server's environment, which is all it
// has (process.target): nothing comes from mcpdrift's own.
func envOf(t Target, key string) string {
	return t.Env[key]
}
