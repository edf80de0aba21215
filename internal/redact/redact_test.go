package redact_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/redact"
)

const key = "sk-live/42+canary=secret"

func TestReplace(t *testing.T) {
	r := redact.New(
		redact.Secret{Name: "env.API_KEY", Value: key},
		redact.Secret{Name: "env.SHORT", Value: "abc12"}, // below MinLen: kept
		redact.Secret{Name: "env.PART", Value: "canary"}, // inside API_KEY: API_KEY wins where whole
	)
	tests := []struct {
		name, in, want string
	}{
		{"raw", "invalid key " + key + "!", "invalid key [REDACTED:env.API_KEY]!"},
		{"query escaped", "GET /x?k=" + url.QueryEscape(key), "GET /x?k=[REDACTED:env.API_KEY]"},
		{"path escaped", "/keys/" + url.PathEscape(key), "/keys/[REDACTED:env.API_KEY]"},
		{"base64", "Basic " + base64.StdEncoding.EncodeToString([]byte(key)), "Basic [REDACTED:env.API_KEY]"},
		{"base64url", base64.URLEncoding.EncodeToString([]byte(key)), "[REDACTED:env.API_KEY]"},
		{"json escaped", `{"k":"sk-live\/42+canary=secret"}`, `{"k":"[REDACTED:env.API_KEY]"}`},
		{"go quoted", fmt.Sprintf("%q", "x\t"+key), `"x\t[REDACTED:env.API_KEY]"`},
		{"twice", key + key, "[REDACTED:env.API_KEY][REDACTED:env.API_KEY]"},
		{"contained secret alone", "the canary sings", "the [REDACTED:env.PART] sings"},
		{"short value", "pin abc12", "pin abc12"},
		{"nothing", "all clear", "all clear"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.Replace(tt.in); got != tt.want {
				t.Errorf("Replace(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestJSONEscapedForm(t *testing.T) {
	v := `pa"ss<word>\x`
	r := redact.New(redact.Secret{Name: "smtp.password", Value: v})
	in := fmt.Sprintf("%q and json %s", v, `"pa\"ss\u003cword\u003e\\x"`)
	got := r.Replace(in)
	if strings.Contains(got, "ss<word") || strings.Contains(got, `ss\u003cword`) {
		t.Fatalf("an escaped form survived: %q", got)
	}
}

func TestNilAndEmpty(t *testing.T) {
	var r *redact.Redactor
	if r.Replace(key) != key || !r.Empty() || r.Err(nil) != nil {
		t.Fatal("nil redactor changed something")
	}
	if !redact.New(redact.Secret{Name: "x", Value: "tiny"}).Empty() {
		t.Fatal("a redactor of short values only is not empty")
	}
	err := errors.New("boom")
	if got := redact.New(redact.Secret{Name: "x", Value: key}).Err(err); got != err { //nolint:errorlint // the very same error, not one wrapping it
		t.Fatal("an error without secrets was replaced")
	}
}

func TestErrKeepsMatchingButNotText(t *testing.T) {
	r := redact.New(redact.Secret{Name: "headers.X-Api-Key", Value: key})
	inner := &fs.PathError{Op: "open", Path: "/keys/" + key, Err: fs.ErrNotExist}
	err := r.Err(fmt.Errorf("read: %w", inner))
	if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "[REDACTED:headers.X-Api-Key]") {
		t.Fatalf("text: %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is lost the sentinel")
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		t.Error("errors.As lost the typed error")
	}
	if errors.Unwrap(err) != nil {
		t.Error("the redacted error unwraps to the unredacted text")
	}
}

func TestMerge(t *testing.T) {
	a := redact.New(redact.Secret{Name: "env.A", Value: "aaaaaaaa"})
	b := redact.New(redact.Secret{Name: "notifiers.n.token", Value: "bbbbbbbb"})
	got := redact.Merge(a, nil, b).Replace("aaaaaaaa bbbbbbbb")
	if got != "[REDACTED:env.A] [REDACTED:notifiers.n.token]" {
		t.Fatal(got)
	}
}

func TestHeader(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte("alice:hunter22"))
	tests := []struct {
		name, value string
		want        []string
	}{
		{"plain", "tok-123456", []string{"tok-123456"}},
		{"bearer", "Bearer tok-123456", []string{"Bearer tok-123456", "tok-123456"}},
		{"basic", "Basic " + basic, []string{"Basic " + basic, basic, "alice:hunter22", "hunter22"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, s := range redact.Header("headers.Authorization", tt.value) {
				if s.Name != "headers.Authorization" {
					t.Errorf("name %q", s.Name)
				}
				got = append(got, s.Value)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestURLParts(t *testing.T) {
	r := redact.New(redact.URLParts("url", "https://bob:pw-secret-1@mcp.example.com/mcp?api_key=q-secret-22&v=1", false)...)
	got := r.Replace("GET https://mcp.example.com/mcp?v=1&api_key=q-secret-22 as bob:pw-secret-1 (pw-secret-1)")
	want := "GET https://mcp.example.com/mcp?v=1&api_key=[REDACTED:url.query.api_key] as [REDACTED:url.userinfo] ([REDACTED:url.password])"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	hook := "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
	r = redact.New(redact.URLParts("notifiers.slack.webhook_url", hook, true)...)
	if got := r.Replace("post " + hook + ": 404 on /services/T000/B000/XXXXXXXX"); strings.Contains(got, "XXXXXXXX") {
		t.Errorf("whole URL secret: %q", got)
	}
	if got := redact.New(redact.URLParts("url", "https://mcp.example.com/mcp", false)...); !got.Empty() {
		t.Error("a URL without credentials has secrets")
	}
}

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://mcp.example.com/mcp", "https://mcp.example.com/mcp"},
		{"https://mcp.example.com/mcp?api_key=abc&v=2", "https://mcp.example.com/mcp?api_key=[REDACTED]&v=[REDACTED]"},
		{"https://bob:pw@mcp.example.com:8443/a%2Fb?x", "https://bob:[REDACTED]@mcp.example.com:8443/a%2Fb?x=[REDACTED]"},
		{"https://ghp_token@github.example/mcp", "https://[REDACTED]@github.example/mcp"},
		{"http://h/p?k=v#frag", "http://h/p?k=[REDACTED]#frag"},
		{"http://[::1:bad", "[REDACTED]"},
	}
	for _, tt := range tests {
		if got := redact.URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestHandler(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			var inner slog.Handler = slog.NewTextHandler(&buf, nil)
			if format == "json" {
				inner = slog.NewJSONHandler(&buf, nil)
			}
			live := &redact.Live{}
			log := slog.New(redact.NewHandler(inner, live.Load))
			// Attributes given before the secrets are known are redacted
			// once they are.
			derived := log.With("early", "x "+key).WithGroup("g")
			log.Info("before " + key)
			if !strings.Contains(buf.String(), key) {
				t.Fatal("nothing was logged")
			}
			buf.Reset()
			live.Store(redact.New(redact.Secret{Name: "env.API_KEY", Value: key}))
			derived.Warn("stderr: "+key, "error", errors.New("bad key "+key),
				slog.Group("inner", "v", key), "any", stringer{key}, "bytes", []byte(key), "n", 3)
			out := buf.String()
			if strings.Contains(out, key) || strings.Contains(out, strings.ReplaceAll(key, "/", `\/`)) {
				t.Fatalf("secret logged:\n%s", out)
			}
			if c := strings.Count(out, "[REDACTED:env.API_KEY]"); c != 6 {
				t.Errorf("%d placeholders, want 6:\n%s", c, out)
			}
			if !strings.Contains(out, "n=3") && !strings.Contains(out, `"n":3`) {
				t.Errorf("other attributes changed:\n%s", out)
			}
		})
	}
}

func TestHandlerLevel(t *testing.T) {
	var buf bytes.Buffer
	h := redact.NewHandler(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}), nil)
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Fatal("level not kept")
	}
}

func TestEnv(t *testing.T) {
	tests := []struct {
		key, value string
		external   bool
		want       []string // values redacted
	}{
		{"API_KEY", "inline-key-value", false, []string{"inline-key-value"}},
		{"GITHUB_PERSONAL_ACCESS_TOKEN", "ghp_abc", false, []string{"ghp_abc"}},
		{"DB_PASSWORD", "hunter22", false, []string{"hunter22"}},
		{"ANYTHING", "from-a-var", true, []string{"from-a-var"}},
		{"GREETING", "sk1a2b3c4d5e6f7g8h", false, []string{"sk1a2b3c4d5e6f7g8h"}},
		{"DATABASE_URL", "postgres://app:s3cr3t-pw@db/app", false, []string{"s3cr3t-pw"}},
		{"MODE", "production", false, nil},
		{"ROLE", "server", false, nil},
		{"ROOT", "/srv/shared/2026/reports", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			r := redact.New(redact.Env("env."+tt.key, tt.key, tt.value, tt.external)...)
			for _, v := range tt.want {
				if !r.Contains("x " + v + " x") {
					t.Errorf("%s=%q: %q not redacted", tt.key, tt.value, v)
				}
			}
			if tt.want == nil && r.Contains(tt.value) {
				t.Errorf("%s=%q redacted, want it left alone", tt.key, tt.value)
			}
		})
	}
}
