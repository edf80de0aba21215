package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedactorNamesEverySecret puts a different canary in every kind of
// secret, inline, from the environment and from files, and checks that the
// configuration's redactor hides each under the key that holds it.
func TestRedactorNamesEverySecret(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	y := `
servers:
  - name: remote
    url: https://mcp.example.com/mcp?api_key=canary-url-query&v=1
    headers: {Authorization: "Bearer canary-bearer-token"}
    header_files: {X-Api-Key: ` + file("hdr", "canary-header-file") + `}
  - name: local
    command: ./server
    env: {API_KEY: "${GITHUB_TOKEN}"}
    env_files: {FILE_KEY: ` + file("env", "canary-env-file") + `}
notifiers:
  - {name: chat, type: slack, token: canary-slack-token, channel: "#sec"}
  - {name: hook, type: slack, webhook_url_file: ` + file("hook", "https://hooks.slack.com/services/canary-slack-path") + `}
  - name: mail
    type: email
    smtp: {host: smtp.example.com, username: u, password: canary-smtp-password}
    from: a@example.com
    to: [b@example.com]
  - {name: siem, type: webhook, url: "https://siem.example.com/hook?key=canary-hook-query", secret: canary-hmac-secret}
`
	r := mustParse(t, y).Redactor()
	tests := []struct{ value, name string }{
		{"canary-url-query", "servers.remote.url.query.api_key"},
		{"canary-bearer-token", "servers.remote.headers.Authorization"},
		{"canary-header-file", "servers.remote.headers.X-Api-Key"},
		{canary, "servers.local.env.API_KEY"},
		{"canary-env-file", "servers.local.env.FILE_KEY"},
		{"canary-slack-token", "notifiers.chat.token"},
		{"canary-slack-path", "notifiers.hook.webhook_url"},
		{"canary-smtp-password", "notifiers.mail.smtp.password"},
		{"canary-hook-query", "notifiers.siem.url.query.key"},
		{"canary-hmac-secret", "notifiers.siem.secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Replace("stderr: " + tt.value + ".")
			if want := "stderr: [REDACTED:" + tt.name + "]."; got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	if got := r.Replace("https://mcp.example.com/mcp?v=1"); got != "https://mcp.example.com/mcp?v=1" {
		t.Errorf("text without secrets changed: %q", got)
	}
}

func TestRedactorSkipsUnreadableFiles(t *testing.T) {
	cfg := mustParse(t, `
servers:
  - name: local
    command: ./server
    env: {INLINE_TOKEN: canary-inline-value, MODE: production}
    env_files: {GONE: /nonexistent/secret}
`)
	if got := cfg.Redactor().Replace("canary-inline-value"); got != "[REDACTED:servers.local.env.INLINE_TOKEN]" {
		t.Fatalf("got %q", got)
	}
	// An inline value under a name that is no credential's is left alone:
	// redacting it would garble every message holding the word.
	if got := cfg.Redactor().Replace("production"); got != "production" {
		t.Fatalf("got %q", got)
	}
}

func TestRedactedHidesURLQuery(t *testing.T) {
	cfg := mustParse(t, `
servers:
  - name: remote
    url: "https://mcp.example.com/mcp?api_key=`+canary+`&region=eu"
`)
	out, err := cfg.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), canary) {
		t.Fatalf("--print shows a URL credential:\n%s", out)
	}
	want := "url: https://mcp.example.com/mcp?api_key=[REDACTED]&region=[REDACTED]"
	if !strings.Contains(string(out), want) {
		t.Fatalf("want %q in:\n%s", want, out)
	}
}
