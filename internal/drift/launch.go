package drift

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// loaderEnv are environment variables that make a runtime load other code,
// or fetch packages from elsewhere: setting or changing one is high.
var loaderEnv = []string{
	"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "NODE_OPTIONS", "NODE_PATH",
	"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONUSERBASE", "PERL5LIB", "PERL5OPT",
	"RUBYOPT", "RUBYLIB", "BASH_ENV", "ENV", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
	"npm_config_registry", "NPM_CONFIG_REGISTRY", "UV_INDEX_URL", "UV_DEFAULT_INDEX",
	"UV_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL",
}

func isLoaderEnv(name string) bool {
	return slices.Contains(loaderEnv, name) || strings.HasPrefix(name, "DYLD_")
}

// identityLaunch compares how a server was configured to start or be
// reached. The package argument of a launcher (spec) is compared by
// identity.package and left out here.
func (d *differ) identityLaunch(a, b *manifest.Launch, specA, specB string) {
	switch {
	case a == nil && b == nil:
		return
	case a == nil:
		// A baseline from before launch identity: shown, never alerted
		// on, until approved (as identity itself was introduced).
		d.idChange(KindIdentityLaunch, "identity.launch", severity.Info, []string{"launch first recorded: " + launchLabel(b)}, nil, b)
		return
	case b == nil:
		d.idChange(KindIdentityLaunch, "identity.launch", severity.Info, []string{"launch not recorded in this snapshot"}, a, nil)
		return
	}
	var ps parts
	d.launchArgs(&ps, a, b, specA, specB)
	if a.Cwd != b.Cwd {
		ps.add(nil, severity.Medium, "working directory changes from %s to %s", cwdLabel(a.Cwd), cwdLabel(b.Cwd))
	}
	launchEnv(&ps, a.Env, b.Env)
	if a.URL != b.URL {
		ps.add(nil, severity.Medium, "configured URL changes from %s to %s", cmp.Or(a.URL, "(none)"), cmp.Or(b.URL, "(none)"))
	}
	if added, removed := stringDiff(a.Headers, b.Headers); len(added)+len(removed) > 0 {
		ps.add(nil, severity.Medium, "headers sent change%s%s", listNote(" adds", added), listNote(" drops", removed))
	}
	if len(ps) == 0 {
		return
	}
	d.emitParts(KindIdentityLaunch, "identity.launch", ps, a, b)
}

func launchLabel(l *manifest.Launch) string {
	if l.URL != "" {
		return l.URL
	}
	return quoteList(l.Args)
}

func cwdLabel(s string) string {
	if s == "" {
		return "(mcpdrift's own)"
	}
	return s
}

// launchPath is a path argument: as written, and as compared (absolute
// against cwd where it can be).
type launchPath struct{ arg, path string }

// launchArgs classifies argument changes: a path argument that widens or
// leaves every approved tree is high (for a filesystem server, the
// directory is the permission); anything else is medium.
func (d *differ) launchArgs(ps *parts, a, b *manifest.Launch, specA, specB string) {
	seqA, seqB := withoutSpec(a.Args, specA), withoutSpec(b.Args, specB)
	same := slices.Equal(seqA, seqB)
	if same && a.Cwd == b.Cwd {
		// With another cwd, the same relative arguments name other paths.
		return
	}
	pa, pb := launchPaths(seqA, a.Cwd), launchPaths(seqB, b.Cwd)
	n := len(*ps)
	related := map[string]bool{}
	var outside []string
	for _, q := range pb {
		if hasPath(pa, q.path) {
			continue
		}
		var inside, around []string
		for _, p := range pa {
			switch {
			case within(q.path, p.path):
				inside = append(inside, p.arg)
				related[p.path] = true
			case within(p.path, q.path):
				around = append(around, p.arg)
				related[p.path] = true
			}
		}
		switch {
		case len(around) > 0:
			ps.add(nil, severity.High, "path argument widens from %s to `%s`", quoteList(around), q.arg)
		case len(inside) > 0:
			ps.add(nil, severity.Medium, "path argument narrows from %s to `%s`", quoteList(inside), q.arg)
		default:
			outside = append(outside, q.arg)
		}
	}
	var dropped []string
	for _, p := range pa {
		if !hasPath(pb, p.path) && !related[p.path] {
			dropped = append(dropped, p.arg)
		}
	}
	switch {
	case len(outside) > 0 && len(dropped) > 0:
		ps.add(nil, severity.High, "path argument moves outside every approved path: %s -> %s", quoteList(dropped), quoteList(outside))
	case len(outside) > 0 && len(pa) == 0:
		ps.add(nil, severity.High, "adds path argument %s", quoteList(outside))
	case len(outside) > 0:
		ps.add(nil, severity.High, "path argument %s is outside every approved path (%s)", quoteList(outside), quoteList(argsOf(pa)))
	case len(dropped) > 0:
		ps.add(nil, severity.Medium, "drops path argument %s", quoteList(dropped))
	}
	oa, ob := nonPaths(seqA, pa), nonPaths(seqB, pb)
	if added, removed := stringDiff(oa, ob); len(added)+len(removed) > 0 {
		ps.add(nil, severity.Medium, "arguments change%s%s", listNote(" adds", added), listNote(" drops", removed))
	} else if len(*ps) == n && !same {
		ps.add(nil, severity.Medium, "arguments change order")
	}
}

// withoutSpec replaces the launcher's package argument (compared by
// identity.package) with a placeholder.
func withoutSpec(args []string, spec string) []string {
	out := slices.Clone(args)
	if spec == "" {
		return out
	}
	for i, a := range out {
		if a == spec || a == "--package="+spec || a == "-p="+spec || a == "--from="+spec || a == "--spec="+spec {
			out[i] = "<package>"
		}
	}
	return out
}

func launchPaths(args []string, cwd string) []launchPath {
	var out []launchPath
	for _, a := range args {
		v := a
		if strings.HasPrefix(a, "-") {
			_, val, ok := strings.Cut(a, "=")
			if !ok {
				continue
			}
			v = val
		}
		if p, ok := pathOf(v, cwd); ok {
			out = append(out, launchPath{arg: a, path: p})
		}
	}
	return out
}

// pathOf tells whether an argument is a file system path, and cleans it:
// absolute, home-relative (~) or explicitly relative (., ..), the last
// made absolute against an absolute cwd.
func pathOf(v, cwd string) (string, bool) {
	switch {
	case strings.HasPrefix(v, "/"), v == "~", strings.HasPrefix(v, "~/"):
		return path.Clean(v), true
	case v == ".", v == "..", strings.HasPrefix(v, "./"), strings.HasPrefix(v, "../"):
		if path.IsAbs(cwd) {
			return path.Join(cwd, v), true
		}
		return path.Clean(v), true
	}
	return "", false
}

// within reports whether p is root or below it.
func within(p, root string) bool {
	switch {
	case p == root:
		return true
	case root == "/":
		return strings.HasPrefix(p, "/")
	case root == ".":
		return !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../") && !strings.HasPrefix(p, "~")
	}
	return strings.HasPrefix(p, root+"/")
}

func hasPath(ps []launchPath, p string) bool {
	return slices.ContainsFunc(ps, func(x launchPath) bool { return x.path == p })
}

func argsOf(ps []launchPath) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.arg
	}
	return out
}

// nonPaths is args without the path arguments.
func nonPaths(all []string, ps []launchPath) []string {
	out := make([]string, 0, len(all))
	for _, a := range all {
		if !slices.ContainsFunc(ps, func(p launchPath) bool { return p.arg == a }) {
			out = append(out, a)
		}
	}
	return out
}

// launchEnv classifies environment changes by name: values are compared
// through their recorded fingerprints only.
func launchEnv(ps *parts, a, b map[string]string) {
	level := func(name string) severity.Level {
		if isLoaderEnv(name) {
			return severity.High
		}
		return severity.Medium
	}
	for _, k := range unionSorted(a, b) {
		x, xok := a[k]
		y, yok := b[k]
		switch {
		case !xok:
			ps.add(nil, level(k), "sets environment variable %s", k)
		case !yok:
			ps.add(nil, severity.Medium, "no longer sets environment variable %s", k)
		case x == y:
		case y == manifest.LaunchEnvExternal:
			ps.add(nil, level(k), "environment variable %s now comes from mcpdrift's environment or a file", k)
		case x == manifest.LaunchEnvExternal:
			ps.add(nil, level(k), "environment variable %s is now written in the config", k)
		default:
			ps.add(nil, level(k), "environment variable %s changes value", k)
		}
	}
}
