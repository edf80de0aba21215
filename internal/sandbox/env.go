package sandbox

import (
	"slices"
)

// Defaults for the variables every server gets when neither its config nor
// the daemon has them.
const (
	DefaultPath = "/usr/local/bin:/usr/bin:/bin"
	DefaultLang = "C.UTF-8"
)

// Environ is a server's whole environment: its configured variables, plus
// PATH and LANG (the daemon's, or the defaults) and HOME (home) where the
// config does not set them. Nothing else of the daemon's environment
// (MCPDRIFT_*, tokens meant for other servers, NOTIFY_SOCKET, the daemon's
// HOME) reaches the server. daemon looks up the daemon's variables.
func Environ(configured map[string]string, home string, daemon func(string) (string, bool)) []string {
	env := make(map[string]string, len(configured)+3)
	inherit := func(key, fallback string) {
		if v, ok := daemon(key); ok && v != "" {
			env[key] = v
		} else {
			env[key] = fallback
		}
	}
	inherit("PATH", DefaultPath)
	inherit("LANG", DefaultLang)
	env["HOME"] = home
	for k, v := range configured {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}
