package probe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/redact"
)

// launchEnvKey keys the hash of an environment value written in the
// config. It is fixed, not per database: a lockfile exported on one
// machine must compare equal on a CI runner that has no database. A keyed
// hash over the server and variable names keeps precomputed tables and
// cross-variable equality out; it cannot stop guessing a weak value,
// which is why values that are credentials (from ${VAR} or env_files)
// are never hashed at all (manifest.LaunchEnvExternal).
var launchEnvKey = []byte("mcpdrift launch identity env v1")

// redactedQueryValue replaces every query value of a recorded URL.
const redactedQueryValue = "REDACTED"

// httpLaunch records how an HTTP target was configured to be reached:
// see manifest.Launch.
func httpLaunch(t Target) *manifest.Launch {
	return &manifest.Launch{URL: launchURL(t.URL), Headers: headerNames(t.Headers)}
}

// stdioLaunch records how a stdio target was configured to start: see
// manifest.Launch.
func stdioLaunch(t Target) *manifest.Launch {
	l := &manifest.Launch{Cwd: t.Dir}
	// Credentials reach args through ${VAR} as easily as env: any value of
	// a credential variable found in an argument is redacted.
	// Sorted, so that two variables sharing a value always redact under
	// the same name and the record stays the same.
	var secrets []redact.Secret
	for _, k := range slices.Sorted(maps.Keys(t.Env)) {
		if t.ExternalEnv[k] {
			secrets = append(secrets, redact.Secret{Name: "env." + k, Value: t.Env[k]})
		}
	}
	r := redact.New(secrets...)
	for _, a := range t.Args {
		l.Args = append(l.Args, clip(r.Replace(a)))
	}
	if len(t.Env) > 0 {
		l.Env = make(map[string]string, len(t.Env))
		for k, v := range t.Env {
			if t.ExternalEnv[k] {
				l.Env[k] = manifest.LaunchEnvExternal
				continue
			}
			l.Env[k] = launchEnvHash(t.Name, k, v)
		}
	}
	return l
}

// launchEnvHash is the recorded fingerprint of a configured value.
func launchEnvHash(server, name, value string) string {
	m := hmac.New(sha256.New, launchEnvKey)
	for _, s := range []string{server, name, value} {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return manifest.LaunchEnvHashPrefix + hex.EncodeToString(m.Sum(nil))
}

// launchURL is a configured URL as recorded: no userinfo or fragment, query
// keys kept (sorted) with every value replaced, since query values are
// often API keys. An unparsable URL records only that.
func launchURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+redactedQueryValue)
	}
	u.RawQuery = strings.Join(parts, "&")
	u.ForceQuery = false
	return clip(u.String())
}

// headerNames returns the canonical, sorted names of the configured
// headers.
func headerNames(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, textproto.CanonicalMIMEHeaderKey(k))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
