// Package redact hides configured secret values in text that people or
// storage will see: errors, a stdio server's stderr, log records, failure
// records, notifications.
//
// A Redactor is built once from named secret values (config.Config builds
// one for the whole configuration, probe one per target) and applied at the
// boundaries where server output or errors leave mcpdrift: the probe's
// exit, the engine before it stores or reports a failure, and the log
// handler every logger writes through. It replaces each value, and its
// URL-, base64- and JSON-encoded forms, by [REDACTED:name], where name says
// which configured key held it (env.API_KEY, headers.Authorization, ...)
// and never the value.
//
// Values shorter than MinLen are not redacted: a value that short is no
// secret worth the name, and replacing it everywhere would mangle ordinary
// text ("true", "8080", "info"). redact knows nothing of the config; it
// owns the matching and replacing only.
package redact

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// MinLen is the shortest value redacted, in bytes.
const MinLen = 6

// Secret is one configured secret value and the name of the key that holds
// it, shown in its place.
type Secret struct {
	Name  string
	Value string
}

// Redactor replaces secret values in text. The zero value and nil redact
// nothing. It is immutable and safe for concurrent use.
type Redactor struct {
	secrets []Secret
	r       *strings.Replacer
}

// New returns a Redactor for secrets. Values shorter than MinLen are
// ignored; a value listed twice is shown under its first name.
func New(secrets ...Secret) *Redactor {
	type pattern struct{ old, name string }
	var (
		kept     []Secret
		patterns []pattern
		seen     = map[string]bool{}
	)
	for _, s := range secrets {
		if len(s.Value) < MinLen {
			continue
		}
		kept = append(kept, s)
		for _, form := range forms(s.Value) {
			if !seen[form] {
				seen[form] = true
				patterns = append(patterns, pattern{form, s.Name})
			}
		}
	}
	if len(patterns) == 0 {
		return &Redactor{}
	}
	// strings.Replacer tries the old strings in argument order at each
	// position: longest first, so a secret containing another is
	// replaced whole.
	slices.SortStableFunc(patterns, func(a, b pattern) int { return cmp.Compare(len(b.old), len(a.old)) })
	args := make([]string, 0, 2*len(patterns))
	for _, p := range patterns {
		args = append(args, p.old, Placeholder(p.name))
	}
	return &Redactor{secrets: kept, r: strings.NewReplacer(args...)}
}

// Placeholder is what a secret configured under name is replaced with.
func Placeholder(name string) string { return "[REDACTED:" + name + "]" }

// forms lists the spellings of a value worth looking for: as is, URL-
// (query and path) escaped, base64 (standard and URL alphabets, without
// padding, so it matches padded and unpadded text) and quoted.
// Servers print credentials in these forms when they echo a request or
// a config back; a server set on hiding a secret can always encode it
// some other way, which is for the sandbox to prevent, not for redaction.
func forms(v string) []string {
	out := []string{v}
	add := func(f string) {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	add(url.QueryEscape(v))
	add(url.PathEscape(v))
	add(strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(v)), "="))
	add(strings.TrimRight(base64.URLEncoding.EncodeToString([]byte(v)), "="))
	// Quoted by JSON encoders (with and without HTML escaping, with and
	// without escaping "/") and by Go's %q, which error messages use.
	for _, html := range []bool{true, false} {
		j := jsonString(v, html)
		add(j)
		add(strings.ReplaceAll(j, "/", `\/`))
	}
	q := strconv.Quote(v)
	add(q[1 : len(q)-1])
	return out
}

// jsonString is v JSON-encoded, without the quotes.
func jsonString(v string, escapeHTML bool) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if enc.Encode(v) != nil {
		return ""
	}
	s := strings.TrimSuffix(b.String(), "\n")
	return s[1 : len(s)-1]
}

// Merge returns a Redactor for the secrets of all of rs (nil ones
// included, as empty).
func Merge(rs ...*Redactor) *Redactor {
	var all []Secret
	for _, r := range rs {
		if r != nil {
			all = append(all, r.secrets...)
		}
	}
	return New(all...)
}

// Empty reports whether r redacts nothing.
func (r *Redactor) Empty() bool { return r == nil || r.r == nil }

// Replace returns s with every secret replaced by its placeholder.
func (r *Redactor) Replace(s string) string {
	if r.Empty() {
		return s
	}
	return r.r.Replace(s)
}

// Contains reports whether s holds any secret of r, in any form.
func (r *Redactor) Contains(s string) bool { return r.Replace(s) != s }

// Err returns err with every secret in its text replaced, or err itself
// when its text holds none. The redacted error still matches what err
// matches with errors.Is and errors.As, but does not unwrap: a caller
// printing errors.Unwrap of it would print the secret again.
func (r *Redactor) Err(err error) error {
	if err == nil || r.Empty() {
		return err
	}
	msg := err.Error()
	clean := r.r.Replace(msg)
	if clean == msg {
		return err
	}
	return &redacted{msg: clean, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string        { return e.msg }
func (e *redacted) Is(target error) bool { return errors.Is(e.err, target) }
func (e *redacted) As(target any) bool   { return errors.As(e.err, target) }

// Header lists the secrets of one header value: the value, and for an
// authorization scheme ("Bearer TOKEN", "Basic BASE64") its credentials,
// decoded for Basic, which servers print on their own.
func Header(name, value string) []Secret {
	out := []Secret{{name, value}}
	scheme, cred, ok := strings.Cut(strings.TrimSpace(value), " ")
	if !ok {
		return out
	}
	cred = strings.TrimSpace(cred)
	out = append(out, Secret{name, cred})
	if strings.EqualFold(scheme, "basic") {
		if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
			out = append(out, Secret{name, string(dec)})
			if _, pw, ok := strings.Cut(string(dec), ":"); ok {
				out = append(out, Secret{name, pw})
			}
		}
	}
	return out
}

// URLParts lists the secrets a URL may carry: user info (the password, or
// the user name when it stands alone, as tokens do), the whole query and
// each query value. With whole set (a URL that is itself a credential,
// such as a Slack webhook), the URL, its path and the path's last segment
// are secrets too. An
// unparsable URL is a secret whole.
func URLParts(name, raw string, whole bool) []Secret {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return []Secret{{name, raw}}
	}
	var out []Secret
	if whole {
		out = append(out, Secret{name, raw}, Secret{name, u.EscapedPath()}, Secret{name, u.Path})
		// The token of a webhook URL is its last path segment
		// (hooks.slack.com/services/T…/B…/TOKEN), printed on its own by
		// whoever splits the path.
		if i := strings.LastIndexByte(u.Path, '/'); i >= 0 {
			out = append(out, Secret{name, u.Path[i+1:]})
		}
	}
	if u.User != nil {
		out = append(out, Secret{name + ".userinfo", u.User.String()})
		if pw, ok := u.User.Password(); ok {
			out = append(out, Secret{name + ".password", pw})
		} else {
			out = append(out, Secret{name + ".userinfo", u.User.Username()})
		}
	}
	if u.RawQuery != "" {
		out = append(out, Secret{name + ".query", u.RawQuery})
		q := u.Query()
		for _, k := range slices.Sorted(maps.Keys(q)) {
			for _, v := range q[k] {
				out = append(out, Secret{name + ".query." + k, v})
			}
		}
	}
	return out
}

// URL returns raw for display with its secrets hidden: the password (or a
// lone user name) and every query value replaced by [REDACTED], the rest
// kept so a reader still sees where it points:
// https://user:[REDACTED]@host/mcp?api_key=[REDACTED]. An unparsable URL
// is hidden whole.
func URL(raw string) string {
	const hidden = "[REDACTED]"
	u, err := url.Parse(raw)
	if err != nil {
		return hidden
	}
	if u.User == nil && u.RawQuery == "" {
		return raw
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme + ":")
	}
	if u.Host != "" || u.User != nil {
		b.WriteString("//")
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			b.WriteString(url.PathEscape(u.User.Username()) + ":" + hidden + "@")
		} else {
			b.WriteString(hidden + "@")
		}
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" {
		b.WriteByte('?')
		for i, kv := range strings.Split(u.RawQuery, "&") {
			if i > 0 {
				b.WriteByte('&')
			}
			k, _, _ := strings.Cut(kv, "=")
			b.WriteString(k + "=" + hidden)
		}
	}
	if u.Fragment != "" {
		b.WriteString("#" + u.EscapedFragment())
	}
	return b.String()
}

// secretNameParts are the words a variable name holds when its value is a
// credential (API_KEY, GITHUB_PERSONAL_ACCESS_TOKEN, DB_PASSWORD...).
var secretNameParts = []string{"KEY", "TOKEN", "SECRET", "PASS", "PWD", "AUTH", "CREDENTIAL", "COOKIE", "SESSION", "PRIVATE", "SIGNATURE", "BEARER", "CERT"}

// Env lists the secrets of an environment variable a server is given.
// Redacting every value would garble every message that happens to hold
// one ("server", "production", a path), so a value counts as a secret when
// it comes from outside the config file (external: ${VAR} or env_files,
// where credentials belong), when its name says it is a credential, or
// when it looks like a token (16+ characters, letters and digits, no
// spaces or slashes). The user info and query of a URL value are secrets
// whatever its name (DATABASE_URL=postgres://user:pass@host).
func Env(name, key, value string, external bool) []Secret {
	out := []Secret{}
	upper := strings.ToUpper(key)
	if external || slices.ContainsFunc(secretNameParts, func(p string) bool { return strings.Contains(upper, p) }) || tokenLike(value) {
		out = append(out, Secret{name, value})
	}
	if strings.Contains(value, "://") {
		out = append(out, URLParts(name, value, false)...)
	}
	return out
}

// tokenLike reports whether v looks like a generated credential.
func tokenLike(v string) bool {
	if len(v) < 16 || strings.ContainsAny(v, " \t\n/") {
		return false
	}
	letter := strings.ContainsFunc(v, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' })
	digit := strings.ContainsFunc(v, func(r rune) bool { return r >= '0' && r <= '9' })
	return letter && digit
}
