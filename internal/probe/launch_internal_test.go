package probe

import (
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

func TestStdioLaunch(t *testing.T) {
	const token = "ghp_canary0123456789"
	t1 := Target{
		Name: "files", Command: "npx", Dir: "/srv",
		Args:        []string{"-y", "pkg", "/srv/shared-a", "--token=" + token},
		Env:         map[string]string{"TOKEN": token, "READ_ONLY": "true", "EMPTY": ""},
		ExternalEnv: map[string]bool{"TOKEN": true},
	}
	l := stdioLaunch(t1)
	if l.Cwd != "/srv" || strings.Join(l.Args, " ") != "-y pkg /srv/shared-a --token=[REDACTED:env.TOKEN]" {
		t.Errorf("args %q cwd %q", l.Args, l.Cwd)
	}
	if l.Env["TOKEN"] != manifest.LaunchEnvExternal {
		t.Errorf("a credential is recorded as %q, want %q", l.Env["TOKEN"], manifest.LaunchEnvExternal)
	}
	for _, k := range []string{"READ_ONLY", "EMPTY"} {
		if !strings.HasPrefix(l.Env[k], manifest.LaunchEnvHashPrefix) || len(l.Env[k]) != len(manifest.LaunchEnvHashPrefix)+64 {
			t.Errorf("%s recorded as %q, want a keyed hash", k, l.Env[k])
		}
	}
	for _, v := range l.Env {
		if strings.Contains(v, "true") || strings.Contains(v, token) {
			t.Errorf("a value is recorded in clear: %q", v)
		}
	}

	t2 := t1
	t2.Env = map[string]string{"TOKEN": "rotated-credential-value", "READ_ONLY": "true", "EMPTY": ""}
	t2.Args = t1.Args[:3]
	if l2 := stdioLaunch(t2); l2.Env["TOKEN"] != l.Env["TOKEN"] || l2.Env["READ_ONLY"] != l.Env["READ_ONLY"] {
		t.Errorf("a rotated credential changed the record: %v vs %v", l2.Env, l.Env)
	}
	t2.Env = map[string]string{"READ_ONLY": "false"}
	if l2 := stdioLaunch(t2); l2.Env["READ_ONLY"] == l.Env["READ_ONLY"] {
		t.Error("another written value kept its fingerprint")
	}
	t2.Env, t2.Name = t1.Env, "other"
	if l2 := stdioLaunch(t2); l2.Env["READ_ONLY"] == l.Env["READ_ONLY"] {
		t.Error("the same value in another server has the same fingerprint: the key does not cover the server")
	}
	if empty := stdioLaunch(Target{Command: "srv"}); empty == nil || empty.Args != nil || empty.Env != nil {
		t.Errorf("a launch without arguments is recorded as %+v, want an empty object", empty)
	}
}

func TestHTTPLaunch(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"plain", "https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"credentials, query values and fragment", "https://user:pa55word@mcp.example.com/mcp?key=s3cret&b=1&b=2#frag",
			"https://mcp.example.com/mcp?b=REDACTED&key=REDACTED"},
		{"an empty query", "http://127.0.0.1:8080/mcp?", "http://127.0.0.1:8080/mcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := httpLaunch(Target{URL: tt.url, Headers: map[string]string{"x-tenant": "acme", "Authorization": "Bearer s3cret"}})
			if l.URL != tt.want {
				t.Errorf("url %q, want %q", l.URL, tt.want)
			}
			if strings.Join(l.Headers, ",") != "Authorization,X-Tenant" {
				t.Errorf("headers %q", l.Headers)
			}
		})
	}
}
