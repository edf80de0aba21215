package agentconfig

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// placeholder matches the ${...} references agents expand: Claude Code's
// ${VAR} and ${VAR:-default}, VS Code's and Cursor's ${env:VAR},
// ${input:id}, ${userHome} and ${workspaceFolder}.
var placeholder = regexp.MustCompile(`\$\{([^}]*)\}`)

// envName is a variable name mcpdrift's ${VAR} accepts.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// authSchemes are the Authorization prefixes kept in front of a reference:
// they are not secret, and the variable then holds the credential alone.
var authSchemes = []string{"Bearer ", "Basic ", "Token ", "token ", "bearer "}

// translator translates the servers of one file.
type translator struct {
	im        *Importer
	path      string
	format    Format
	ctx       Context
	inputs    map[string]vscodeInput
	agentName string
	name      string
	failed    bool
}

func (t *translator) note(format string, args ...any) {
	t.im.note(t.path, t.agentName, fmt.Sprintf(format, args...))
}

func (t *translator) server(e entry) (Server, bool) {
	t.name = serverName(t.agentName)
	if t.name != t.agentName {
		t.note("imported as %s (not a valid mcpdrift server name)", t.name)
	}
	s := Server{Name: t.name, Source: t.path, Agent: t.format.Title(), Disabled: e.Disabled}
	switch strings.ToLower(e.Type) {
	case "":
		switch {
		case e.Command != "":
			s.Transport = "stdio"
		case e.URL != "":
			s.Transport = "streamable"
		}
	case "stdio":
		s.Transport = "stdio"
	case "http", "streamable-http", "streamablehttp", "streamable":
		s.Transport = "streamable"
	case "sse":
		s.Transport = "sse"
	default:
		t.note("not imported: transport %q is not one mcpdrift speaks (stdio, http, sse)", e.Type)
		return s, false
	}
	switch {
	case s.Transport == "":
		t.note("not imported: neither a command nor a url")
		return s, false
	case s.Transport == "stdio" && e.Command == "":
		t.note("not imported: a stdio server without a command")
		return s, false
	case s.Transport != "stdio" && e.URL == "":
		t.note("not imported: an HTTP server without a url")
		return s, false
	}
	if s.Transport == "stdio" {
		s.Command = t.text("command", e.Command)
		for i, a := range e.Args {
			s.Args = append(s.Args, t.text(fmt.Sprintf("args[%d]", i), a))
		}
		s.Cwd = t.text("cwd", e.Cwd)
		s.Env = t.secrets("env", e.Env, false)
		if e.EnvFile != "" {
			t.note("envFile %s not imported: list its variables under env (mcpdrift's env_files holds one secret per file)", e.EnvFile)
		}
	} else {
		s.URL = t.text("url", e.URL)
		s.Headers = t.secrets("headers", e.Headers, true)
		if strings.Contains(e.URL, "?") {
			t.note("its url has a query: if it holds a key, move it to a ${VAR} (mcpdrift redacts query values, but the config file holds them)")
		}
	}
	if e.Disabled {
		t.note("disabled in %s: imported with disabled: true", t.format.Title())
	}
	if t.failed {
		return s, false
	}
	return s, true
}

// text translates the placeholders of a value mcpdrift may see in clear
// (command, args, cwd, url): references stay references, the agent's own
// directories are resolved.
func (t *translator) text(field, v string) string {
	return placeholder.ReplaceAllStringFunc(v, func(m string) string {
		inner := m[2 : len(m)-1]
		kind, arg, hasArg := strings.Cut(inner, ":")
		switch {
		case inner == "userHome" || inner == "workspaceFolder":
			dir := t.ctx.Home
			if inner == "workspaceFolder" {
				dir = t.ctx.ProjectDir
			}
			if dir == "" {
				t.note("not imported: %s holds %s, and the directory it stands for is not known here", field, m)
				t.failed = true
				return m
			}
			return dir
		case hasArg && kind == "env" && envName.MatchString(arg):
			t.im.useVar(arg, t.name+" "+field, "the environment")
			return "${" + arg + "}"
		case hasArg && kind == "input":
			// Named after the env or header key it fills, else the input.
			key := arg
			if what, k, ok := strings.Cut(field, "."); ok && (what == "env" || what == "headers") {
				key = k
			}
			name := t.derive(key)
			t.im.useVar(name, t.name+" "+field, t.inputOrigin(arg))
			t.note("%s asks for input %q (%s prompts for it): set %s", field, arg, t.format.Title(), name)
			return "${" + name + "}"
		case envName.MatchString(inner):
			t.im.useVar(inner, t.name+" "+field, "the environment")
			return m
		}
		if name, _, ok := strings.Cut(inner, ":-"); ok && envName.MatchString(name) {
			t.im.useVar(name, t.name+" "+field, "the environment")
			t.note("%s: the default of ${%s:-...} is not carried over (mcpdrift has no defaults): set %s", field, name, name)
			return "${" + name + "}"
		}
		t.note("not imported: %s holds %s, which mcpdrift cannot resolve", field, m)
		t.failed = true
		return m
	})
}

// secrets translates env or headers: values become ${VAR} references,
// never copied.
func (t *translator) secrets(what string, m map[string]string, header bool) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		field := what + "." + k
		if placeholder.MatchString(v) {
			out[k] = t.text(field, v)
			continue
		}
		prefix := ""
		if header {
			for _, p := range authSchemes {
				if strings.HasPrefix(v, p) {
					prefix = p
				}
			}
		}
		name := t.derive(k)
		origin := "written in " + t.format.Title() + "'s config"
		if prefix != "" {
			origin += " (the part after " + strings.TrimSpace(prefix) + ")"
		}
		t.im.useVar(name, t.name+" "+field, origin)
		out[k] = prefix + "${" + name + "}"
	}
	return out
}

// derive returns the variable for a value of this server's key, unique
// among derived variables.
func (t *translator) derive(key string) string {
	use := t.name + "/" + key
	base := varName(t.name, key)
	name := base
	for i := 2; ; i++ {
		prev, taken := t.im.derived[name]
		if !taken || prev == use {
			break
		}
		name = fmt.Sprintf("%s_%d", base, i)
	}
	t.im.derived[name] = use
	return name
}

func (t *translator) inputOrigin(id string) string {
	in, ok := t.inputs[id]
	switch {
	case !ok:
		return fmt.Sprintf("%s input %q (not defined in inputs)", t.format.Title(), id)
	case in.Description != "":
		return fmt.Sprintf("%s input %q: %s", t.format.Title(), id, in.Description)
	}
	return fmt.Sprintf("%s input %q", t.format.Title(), id)
}
