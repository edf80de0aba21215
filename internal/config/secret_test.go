package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// canaryConfig puts the canary in every kind of secret, inline and through
// the environment.
const canaryConfig = `
servers:
  - name: remote
    url: https://mcp.example.com/mcp
    headers: {Authorization: "Bearer ${GITHUB_TOKEN}", X-Inline: ghp_CANARY_9f3b2c1d7e}
  - name: local
    command: ./server
    env: {TOKEN: "${GITHUB_TOKEN}", INLINE: ghp_CANARY_9f3b2c1d7e}
notifiers:
  - {name: chat, type: slack, token: ghp_CANARY_9f3b2c1d7e, channel: "#sec"}
  - {name: hook, type: slack, webhook_url: "https://hooks.slack.com/services/ghp_CANARY_9f3b2c1d7e"}
  - name: mail
    type: email
    smtp: {host: smtp.example.com, username: u, password: "${GITHUB_TOKEN}"}
    from: a@example.com
    to: [b@example.com]
  - name: siem
    type: webhook
    url: "https://siem.example.com/hook?key=ghp_CANARY_9f3b2c1d7e"
    secret: ghp_CANARY_9f3b2c1d7e
    headers: {X-Key: "${GITHUB_TOKEN}"}
`

func TestSecretCanaryInOutput(t *testing.T) {
	cfg := mustParse(t, canaryConfig)

	// The secrets are really there, or the test proves nothing.
	revealed := 0
	walkSecrets(reflectValue(cfg), func(s Secret) {
		if v, err := s.Reveal(); err == nil && strings.Contains(v, canary) {
			revealed++
		}
	})
	if revealed < 10 {
		t.Fatalf("only %d secrets hold the canary, want 10", revealed)
	}

	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("loaded", "config", cfg, "server", cfg.Servers[0])
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("loaded", "config", cfg, "notifier", cfg.Notifiers[3])
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	redacted, err := cfg.Redacted()
	if err != nil {
		t.Fatal(err)
	}
	outputs := []struct {
		name string
		out  string
	}{
		{"fmt of the value", fmt.Sprintf("%v %+v %#v", *cfg, *cfg, *cfg)},
		{"fmt of the pointer", fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg)},
		{"fmt of a server", fmt.Sprintf("%v %+v %#v %s", cfg.Servers[0], cfg.Servers[1], cfg.Servers[0], cfg.Servers[1].Env)},
		{"fmt of notifiers", fmt.Sprintf("%v %+v %#v", cfg.Notifiers, *cfg.Notifiers[2].SMTP, cfg.Notifiers[3])},
		{"other verbs", fmt.Sprintf("%d %x %X %q %s %10.3v", cfg.Notifiers[0].Token, cfg.Notifiers[0].Token, cfg.Notifiers[0].Token, cfg.Notifiers[0].Token, cfg.Notifiers[0].Token, cfg.Notifiers[0].Token)},
		{"json", string(js)},
		{"slog json", jsonLog.String()},
		{"slog text", textLog.String()},
		{"redacted yaml", string(redacted)},
	}
	for _, o := range outputs {
		t.Run(o.name, func(t *testing.T) {
			if strings.Contains(o.out, canary) {
				t.Errorf("output reveals the secret:\n%s", o.out)
			}
			if !strings.Contains(o.out, RedactedText) {
				t.Errorf("output shows no %s marker, so it did not print the secrets at all:\n%s", RedactedText, o.out)
			}
		})
	}
}

func TestSecretCanaryInErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
	}{
		{"problems about the same server", `
servers:
  - name: remote
    url: https://mcp.example.com/mcp
    headers: {Authorization: "Bearer ghp_CANARY_9f3b2c1d7e", "Bad Name": "${GITHUB_TOKEN}"}
    header_files: {Authorization: /run/secrets/x}
    env: {TOKEN: ghp_CANARY_9f3b2c1d7e}
    schedule: nonsense
    commnad: ghp_CANARY_9f3b2c1d7e
`},
		{"secrets on the wrong transport", `
servers:
  - name: local
    command: ./server
    headers: {Authorization: ghp_CANARY_9f3b2c1d7e}
    tls: {ca_file: ghp_CANARY_9f3b2c1d7e}
`},
		{"secret in a non-secret field from the environment", `
concurrency: "${GITHUB_TOKEN}"
defaults: {timeout: "${GITHUB_TOKEN}", schedule: "${GITHUB_TOKEN}", limits: {max_pages: "${GITHUB_TOKEN}"}}
http: {listen: "${GITHUB_TOKEN}"}
servers:
  - name: "${GITHUB_TOKEN}"
    url: "${GITHUB_TOKEN}"
    transport: "${GITHUB_TOKEN}"
    watch: "${GITHUB_TOKEN}"
    protocol_version: "${GITHUB_TOKEN}"
    severity: {tool.added: "${GITHUB_TOKEN}"}
notifiers:
  - {name: n, type: "${GITHUB_TOKEN}", min_severity: "${GITHUB_TOKEN}", servers: ["${GITHUB_TOKEN}"], kinds: ["${GITHUB_TOKEN}"]}
  - name: m
    type: email
    smtp: {host: h, tls: "${GITHUB_TOKEN}"}
    from: "${GITHUB_TOKEN}"
    to: ["${GITHUB_TOKEN}"]
`},
		{"bad secret URLs", `
servers:
  - name: remote
    url: "ftp://ghp_CANARY_9f3b2c1d7e@example.com/x"
notifiers:
  - {name: a, type: slack, webhook_url: "ghp_CANARY_9f3b2c1d7e"}
  - {name: b, type: webhook, url: "gopher://ghp_CANARY_9f3b2c1d7e", secret: ghp_CANARY_9f3b2c1d7e, secret_file: /x}
  - {name: c, type: slack, token: ghp_CANARY_9f3b2c1d7e, webhook_url: "${GITHUB_TOKEN}"}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("canary.yaml", []byte(tt.yaml), fixtureEnv)
			if err == nil {
				t.Fatal("Parse succeeded, want problems")
			}
			if strings.Count(err.Error(), "\n") < 1 {
				t.Errorf("want several problems, got:\n%v", err)
			}
			if strings.Contains(err.Error(), canary) || strings.Contains(fmt.Sprintf("%#v", err), canary) {
				t.Errorf("error reveals the secret:\n%v", err)
			}
		})
	}
}

func TestSecretPrintsEmptyWhenUnset(t *testing.T) {
	var s Secret
	js, _ := json.Marshal(s)
	y, _ := s.MarshalYAML()
	if got := fmt.Sprintf("%v|%s|%#v|%s|%v|%s", s, s, s, js, y, s.LogValue()); got != `|||""||` {
		t.Errorf("unset secret prints %q", got)
	}
	if v, err := s.Reveal(); v != "" || err != nil || s.IsSet() {
		t.Errorf("unset secret: Reveal = %q, %v; IsSet %v", v, err, s.IsSet())
	}
}

func TestSecretFileReadAtUseTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	cfg := mustParse(t, fmt.Sprintf(`
servers:
  - name: remote
    url: https://mcp.example.com/mcp
    header_files: {Authorization: %q}
`, path))
	s := cfg.Servers[0].Headers["Authorization"]
	if s.File() != path || s.Inline() || !s.IsSet() {
		t.Fatalf("secret = file %q inline %v", s.File(), s.Inline())
	}
	if _, err := s.Reveal(); err == nil {
		t.Fatal("Reveal of a missing file succeeded")
	}
	steps := []struct {
		name, content, want string
	}{
		{"first", "Bearer one\n", "Bearer one"},
		{"rotated", "Bearer two", "Bearer two"},
		{"one newline trimmed", "Bearer three\n\n", "Bearer three\n"},
		{"crlf", "Bearer four\r\n", "Bearer four"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(st.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := s.Reveal()
			if err != nil || got != st.want {
				t.Errorf("Reveal = %q, %v; want %q", got, err, st.want)
			}
		})
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), MaxSecretFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reveal(); err == nil {
		t.Error("Reveal of an oversized file succeeded")
	}
}

func TestInlineSecrets(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want bool
	}{
		{"no secrets", "servers: [{name: s, command: ./s}]", false},
		{"inline header", "servers: [{name: s, url: 'https://x/', headers: {A: b}}]", true},
		{"header from env", "servers: [{name: s, url: 'https://x/', headers: {A: '${GITHUB_TOKEN}'}}]", false},
		{"env inside text", "servers: [{name: s, url: 'https://x/', headers: {A: 'Bearer ${GITHUB_TOKEN}'}}]", false},
		{"escaped dollar only", "servers: [{name: s, url: 'https://x/', headers: {A: '$${GITHUB_TOKEN}'}}]", true},
		{"header file", "servers: [{name: s, url: 'https://x/', header_files: {A: /f}}]", false},
		{"inline stdio env", "servers: [{name: s, command: ./s, env: {A: b}}]", true},
		{"smtp password file", "servers: [{name: s, command: ./s}]\nnotifiers: [{name: m, type: email, smtp: {host: h, username: u, password_file: /p}, from: a@b.c, to: [d@e.f]}]", false},
		{"inline webhook url", "servers: [{name: s, command: ./s}]\nnotifiers: [{name: w, type: webhook, url: 'https://x/'}]", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.yaml).InlineSecrets(); got != tt.want {
				t.Errorf("InlineSecrets = %v, want %v", got, tt.want)
			}
		})
	}
}
