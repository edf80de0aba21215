package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// What a mount rule makes of a path and everything under it, unless a
// rule on a deeper path says otherwise.
type action int

const (
	showRO action = iota // the host's path, read-only
	showRW               // the host's path, writable
	hide                 // an empty tmpfs (directory) or an unreadable /dev/null (anything else)
)

// Rule strengths: when two rules name the same path the stronger wins. A
// protected path beats a configured one that names it; a configured path
// beats the hiding of the directory around a protected file.
const (
	prioPrivate   = iota // /tmp, /var/tmp, /run: private to the sandbox
	prioHideDir          // the directory holding a protected file
	prioShowRO           // paths the server is configured with
	prioShowRW           // paths in the server's env (caches, data directories)
	prioProtected        // the protected paths themselves
	prioHome             // the server's own HOME
)

// privateDirs are empty and private in every sandbox.
var privateDirs = []string{"/tmp", "/var/tmp", "/run"}

// systemFiles are followed to where they point, so that a resolv.conf
// managed under /run (systemd-resolved) still resolves names.
var systemFiles = []string{"/etc/resolv.conf", "/etc/hosts", "/etc/localtime", "/etc/nsswitch.conf"}

type rule struct {
	path string
	act  action
	prio int
	dir  bool
}

type mounts map[string]rule

func (m mounts) add(path string, act action, prio int) {
	path = filepath.Clean(path)
	if path == "/" || under(path, "/proc") || under(path, "/dev") {
		return // the base and the kernel's file systems are the sandbox's own
	}
	fi, err := os.Stat(path)
	if err != nil {
		return // nothing to show, hide or mount on
	}
	if act != hide && prio < prioHome && m.inProtected(path) {
		return // nothing inside a protected directory is shown, whoever names it
	}
	if act == showRW && m.holdsProtected(path) {
		act = showRO // the server may not replace what hides the daemon's files
	}
	if r, ok := m[path]; ok && r.prio >= prio {
		return
	}
	m[path] = rule{path: path, act: act, prio: prio, dir: fi.IsDir()}
}

// plan lists the mount rules for a server started in dir (absolute).
func plan(c Command, dir string, hidden []string, home string) mounts {
	m := mounts{}
	for _, d := range privateDirs {
		m.add(d, hide, prioPrivate)
	}
	for _, f := range systemFiles {
		if real, err := filepath.EvalSymlinks(f); err == nil && real != f {
			m.add(real, showRO, prioShowRO)
		}
	}
	for _, h := range hidden {
		for _, p := range variants(h, "") {
			m.addProtected(p)
		}
	}
	// What the server is configured with stays readable: its working
	// directory, its executable, and the existing paths among its args.
	m.addShow(dir, showRO)
	m.addShow(resolve(c.Path, dir), showRO)
	for _, a := range c.Args {
		for _, p := range argPaths(a) {
			m.addShow(resolve(p, dir), showRO)
		}
	}
	// A path given in env is typically a cache or data directory the
	// server writes (npm_config_cache); a list (NODE_PATH) is read.
	for _, v := range c.Env {
		switch {
		case filepath.IsAbs(v) && !strings.Contains(v, string(filepath.ListSeparator)):
			m.addShow(v, showRW)
		case strings.Contains(v, string(filepath.ListSeparator)):
			for _, p := range filepath.SplitList(v) {
				if filepath.IsAbs(p) {
					m.addShow(p, showRO)
				}
			}
		}
	}
	for _, p := range variants(home, "") {
		m.add(p, showRW, prioHome)
	}
	return m
}

// inProtected reports whether p is inside a protected directory.
func (m mounts) inProtected(p string) bool {
	for q := filepath.Dir(p); ; q = filepath.Dir(q) {
		if r, ok := m[q]; ok && r.prio == prioProtected && r.dir {
			return true
		}
		if q == "/" || q == "." {
			return false
		}
	}
}

// holdsProtected reports whether a protected path lies inside p.
func (m mounts) holdsProtected(p string) bool {
	for q, r := range m {
		if r.prio == prioProtected && q != p && under(q, p) {
			return true
		}
	}
	return false
}

// addProtected hides p, its backups and neighbours named after it
// (p.lock, p.schema-v1.bak), and the directory holding it.
func (m mounts) addProtected(p string) {
	fi, err := os.Stat(p)
	switch {
	case err == nil && fi.IsDir():
		m.add(p, hide, prioProtected)
		return
	case err == nil:
		m.add(p, hide, prioProtected)
	}
	dir := filepath.Dir(p)
	if entries, err := os.ReadDir(dir); err == nil {
		prefix := filepath.Base(p) + "."
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), prefix) {
				m.add(filepath.Join(dir, e.Name()), hide, prioProtected)
			}
		}
	}
	if !systemDir(dir) {
		m.add(dir, hide, prioHideDir)
	}
}

func (m mounts) addShow(p string, act action) {
	prio := prioShowRO
	if act == showRW {
		prio = prioShowRW
	}
	for _, v := range variants(p, "") {
		m.add(v, act, prio)
	}
}

// variants is p made absolute (against base, or the working directory)
// and, when different, the path it resolves to through symlinks.
func variants(p, base string) []string {
	if p == "" {
		return nil
	}
	if !filepath.IsAbs(p) {
		if base == "" {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil
			}
			p = abs
		} else {
			p = filepath.Join(base, p)
		}
	}
	p = filepath.Clean(p)
	out := []string{p}
	if real, err := filepath.EvalSymlinks(p); err == nil && real != p {
		out = append(out, real)
	}
	return out
}

// resolve makes p absolute against dir.
func resolve(p, dir string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// argPaths are the strings in one argument that may name a path: the
// argument, the value of a --flag=value, a file: package spec.
func argPaths(a string) []string {
	out := []string{a}
	if strings.HasPrefix(a, "-") {
		if _, v, ok := strings.Cut(a, "="); ok {
			out = append(out, v)
		}
	}
	for _, s := range slices.Clone(out) {
		if v, ok := strings.CutPrefix(s, "file:"); ok {
			out = append(out, v)
		}
	}
	return out
}

// systemDir reports a directory too shared to hide whole: a protected file
// there (a config at /etc/mcpdrift.yaml) hides just itself.
func systemDir(dir string) bool {
	dir = filepath.Clean(dir)
	if strings.Count(dir, "/") <= 1 {
		return true // "/", "/etc", "/var", "/home"...
	}
	for _, root := range []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sys", "/dev", "/etc/ssl", "/nix"} {
		if under(dir, root) {
			return true
		}
	}
	return false
}

// under reports whether p is root or inside it.
func under(p, root string) bool {
	return p == root || strings.HasPrefix(p, root+"/")
}

// bwrapArgs turns the rules into bubblewrap options: namespaces, the host
// read-only, then each rule, parents before children, skipping a rule
// that changes nothing (a hidden path under a hidden directory).
func bwrapArgs(m mounts, dir string) []string {
	args := []string{
		// Own user, PID, IPC and cgroup namespaces (the cgroup one hides
		// the daemon's unit name). The network and the host name are the
		// host's: npx needs its registry, HTTP servers their APIs. The
		// systemd unit's RestrictNamespaces= allows exactly these.
		"--unshare-user-try", "--unshare-pid", "--unshare-ipc", "--unshare-cgroup-try",
		// The server and everything it started die with bwrap, which dies
		// with mcpdrift's process group.
		"--die-with-parent",
		// bwrap run by root would otherwise hand the server every
		// capability, enough to unmount what hides the daemon's files.
		"--cap-drop", "ALL",
		"--ro-bind", "/", "/",
		"--dev", "/dev",
		"--proc", "/proc",
	}
	rules := make([]rule, 0, len(m))
	for _, r := range m {
		rules = append(rules, r)
	}
	slices.SortFunc(rules, func(a, b rule) int {
		if d := strings.Count(a.path, "/") - strings.Count(b.path, "/"); d != 0 {
			return d
		}
		return strings.Compare(a.path, b.path)
	})
	kept := map[string]action{"/": showRO}
	for _, r := range rules {
		if effective(kept, r.path) == r.act {
			continue
		}
		kept[r.path] = r.act
		switch {
		case r.act == showRO:
			args = append(args, "--ro-bind", r.path, r.path)
		case r.act == showRW:
			args = append(args, "--bind", r.path, r.path)
		case r.dir:
			args = append(args, "--tmpfs", r.path)
		default:
			// On bwrap's nodev bind, /dev/null cannot even be opened.
			args = append(args, "--ro-bind", "/dev/null", r.path)
		}
	}
	return append(args, "--chdir", dir)
}

// effective is what the nearest kept rule above p makes of it.
func effective(kept map[string]action, p string) action {
	for q := filepath.Dir(p); ; q = filepath.Dir(q) {
		if a, ok := kept[q]; ok {
			return a
		}
		if q == "/" {
			return showRO
		}
	}
}
