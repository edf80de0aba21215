package config

import (
	"errors"
	"strings"
	"testing"
)

// fuzzEnv sets every variable whose name starts with S, to a value that
// would cause trouble if it were expanded again or pasted into YAML.
func fuzzEnv(name string) (string, bool) {
	if strings.HasPrefix(name, "S") {
		return "v: ${S}\n- $$", true
	}
	return "", false
}

// FuzzParse checks that Parse never panics, that failures are *Error values
// with one-line problems, and that an accepted config prints and, when it
// has no inline secrets, parses back to the same printed form.
func FuzzParse(f *testing.F) {
	f.Add([]byte("servers: [{name: a, command: ./a}]\n"))
	f.Add([]byte("servers:\n  - name: a\n    url: https://x/\n    headers: {A: '${S}'}\n    schedule: 'CRON_TZ=UTC 0 * * * *'\n"))
	f.Add([]byte("a: &a {name: x, command: y}\nservers: [*a, {<<: *a, name: z}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, fuzzEnv)
		if err != nil {
			var cerr *Error
			if !errors.As(err, &cerr) || len(cerr.Problems) == 0 {
				t.Fatalf("error %T without problems: %v", err, err)
			}
			for _, p := range cerr.Problems {
				if p.Msg == "" || strings.ContainsAny(p.String(), "\n\r") {
					t.Fatalf("bad problem %q", p.String())
				}
			}
			return
		}
		out, err := cfg.Redacted()
		if err != nil {
			t.Fatalf("Redacted: %v", err)
		}
		if cfg.Hash() == "" {
			t.Fatal("no hash")
		}
		if cfg.InlineSecrets() {
			return
		}
		back, err := Parse("redacted.yaml", out, func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("redacted output does not parse: %v\n%s", err, out)
		}
		again, err := back.Redacted()
		if err != nil || string(again) != string(out) {
			t.Fatalf("redacted output changed on a round trip (%v):\n%s\n---\n%s", err, out, again)
		}
	})
}
