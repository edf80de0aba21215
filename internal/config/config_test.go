package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/golden"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// canary is a secret value no output may ever contain.
const canary = "ghp_CANARY_9f3b2c1d7e"

// fixtureEnv is the environment every fixture is parsed with.
func fixtureEnv(name string) (string, bool) {
	v, ok := map[string]string{
		"GITHUB_TOKEN": canary,
		"FILES_KEY":    canary + "-files",
		"SLACK_TOKEN":  "xoxb-" + canary,
		"HOOK_SECRET":  canary + "-hook",
		"HOME_DIR":     "/home/drift",
	}[name]
	return v, ok
}

// TestInvalidFixtures parses each testdata/invalid/NAME.yaml and compares the
// error with NAME.err, line for line.
func TestInvalidFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("found %d invalid fixtures, want at least 20", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse(filepath.Base(file), data, fixtureEnv)
			if err == nil {
				t.Fatalf("Parse succeeded, want an error (config %+v)", cfg)
			}
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("error is %T, want *Error: %v", err, err)
			}
			if len(cerr.Problems) == 0 {
				t.Fatal("*Error without problems")
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error reveals a secret:\n%v", err)
			}
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".err", []byte(err.Error()+"\n"))
		})
	}
}

func TestManyProblemsAreAllReported(t *testing.T) {
	data, err := os.ReadFile("testdata/invalid/many-problems.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Parse("many-problems.yaml", data, fixtureEnv)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("want *Error, got %v", err)
	}
	if len(cerr.Problems) < 10 {
		t.Errorf("got %d problems, want every one of the 10+ mistakes:\n%v", len(cerr.Problems), err)
	}
	for i := 1; i < len(cerr.Problems); i++ {
		if cerr.Problems[i].Line < cerr.Problems[i-1].Line {
			t.Errorf("problems out of file order:\n%v", err)
			break
		}
	}
}

// TestValidFixtures parses each testdata/valid/NAME.yaml and compares its
// redacted effective config with NAME.redacted.
func TestValidFixtures(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no valid fixtures")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := Parse(filepath.Base(file), data, fixtureEnv)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			out, err := cfg.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(out), canary) {
				t.Errorf("redacted config reveals a secret:\n%s", out)
			}
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".redacted", out)

			// The printed effective config is itself a config meaning the
			// same thing, unless inline secrets were replaced.
			if cfg.InlineSecrets() {
				return
			}
			back, err := Parse("redacted.yaml", out, fixtureEnv)
			if err != nil {
				t.Fatalf("redacted output does not parse: %v\n%s", err, out)
			}
			again, err := back.Redacted()
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(out) {
				t.Errorf("redacted output changed on a round trip:\n%s\n---\n%s", out, again)
			}
		})
	}
}

func mustParse(t *testing.T, yaml string) *Config {
	t.Helper()
	cfg, err := Parse("test.yaml", []byte(yaml), fixtureEnv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

func TestDefaultsApply(t *testing.T) {
	cfg := mustParse(t, "servers: [{name: a, command: ./a}]\n")
	want := Default()
	want.Servers = cfg.Servers
	want.hash = cfg.hash
	want.lines = map[string]int{"a": 1}
	want.Private = cfg.Private // what the file names, tested in private_test.go
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("config of a minimal file is not Default():\n got %+v\nwant %+v", cfg, want)
	}
	s := cfg.Servers[0]
	if s.Timeout != DefaultTimeout || s.Schedule != DefaultSchedule || s.TrustOnFirstUse != DefaultTrustOnFirstUse {
		t.Errorf("server did not inherit defaults: %+v", s)
	}
	if s.Limits != Default().Defaults.Limits {
		t.Errorf("limits = %+v, want defaults", s.Limits)
	}
	if s.Client.Name != DefaultClientName || s.Client.Version != DefaultClientVersion || s.Client.Capabilities == nil {
		t.Errorf("client = %+v, want the default client", s.Client)
	}
	if s.Transport != TransportStdio || s.IsHTTP() {
		t.Errorf("transport = %q, want stdio", s.Transport)
	}
}

func TestEffectiveServerSettings(t *testing.T) {
	cfg := mustParse(t, `
servers:
  - name: plain
    url: https://a.example.com/mcp
  - name: own
    transport: sse
    url: https://b.example.com/sse
    timeout: 5s
    schedule: "@hourly"
    trust_on_first_use: true
    client: {capabilities: [roots]}
    limits: {max_items: 7, max_stderr_bytes: 1KiB}
defaults:  # after servers on purpose: order in the file does not matter
  timeout: 10s
  schedule: "*/15 * * * *"
  trust_on_first_use: false
  client: {name: probe, version: "9", capabilities: [sampling]}
  limits: {max_pages: 3}
`)
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"plain transport", cfg.Servers[0].Transport, TransportStreamable},
		{"plain timeout", cfg.Servers[0].Timeout, 10 * time.Second},
		{"plain schedule", cfg.Servers[0].Schedule, "*/15 * * * *"},
		{"plain tofu", cfg.Servers[0].TrustOnFirstUse, false},
		{"plain client", cfg.Servers[0].Client, Client{Name: "probe", Version: "9", Capabilities: []string{"sampling"}}},
		{"plain limits", cfg.Servers[0].Limits, Limits{MaxPages: 3, MaxItems: DefaultMaxItems, MaxResponseBytes: DefaultMaxResponseBytes, MaxManifestBytes: DefaultMaxManifestBytes, MaxStderrBytes: DefaultMaxStderrBytes}},
		{"own transport", cfg.Servers[1].Transport, TransportSSE},
		{"own timeout", cfg.Servers[1].Timeout, 5 * time.Second},
		{"own schedule", cfg.Servers[1].Schedule, "@hourly"},
		{"own tofu", cfg.Servers[1].TrustOnFirstUse, true},
		// client replaces defaults.client as a whole: no name "probe" here.
		{"own client", cfg.Servers[1].Client, Client{Name: DefaultClientName, Version: DefaultClientVersion, Capabilities: []string{"roots"}}},
		{"own limits", cfg.Servers[1].Limits, Limits{MaxPages: 3, MaxItems: 7, MaxResponseBytes: DefaultMaxResponseBytes, MaxManifestBytes: DefaultMaxManifestBytes, MaxStderrBytes: KiB}},
		{"defaults untouched", cfg.Defaults.Client.Capabilities, []string{"sampling"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestNotifierDefaults(t *testing.T) {
	cfg := mustParse(t, `
servers: [{name: a, command: ./a}]
notifiers:
  - {name: mail, type: email, smtp: {host: mx, tls: none}, from: a@example.com, to: [b@example.com]}
  - {name: log, type: log}
`)
	mail, ok := cfg.Notifier("mail")
	if !ok || mail.SMTP.Port != 25 || mail.SMTP.TLS != SMTPNone || mail.MinSeverity != DefaultMinSeverity {
		t.Errorf("mail notifier = %+v (smtp %+v), want port 25 and default min severity", mail, mail.SMTP)
	}
	if l, _ := cfg.Notifier("log"); l.MinSeverity != severity.Low {
		t.Errorf("log min severity = %v, want low", l.MinSeverity)
	}
	if _, ok := cfg.Notifier("nope"); ok {
		t.Error("Notifier found a notifier that does not exist")
	}
	if s, ok := cfg.Server("a"); !ok || s.Command != "./a" {
		t.Errorf("Server(a) = %+v, %v", s, ok)
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		name, in string
		want     ByteSize
		wantErr  bool
	}{
		{"plain", "1048576", MiB, false},
		{"kib", "64KiB", 64 * KiB, false},
		{"space", "16 MiB", 16 * MiB, false},
		{"gib", "2GiB", 2 * GiB, false},
		{"decimal unit", "16MB", 0, true},
		{"fraction", "1.5MiB", 0, true},
		{"overflow", "9999999999999GiB", 0, true},
		{"empty", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil {
				back, err := ParseByteSize(got.String())
				if err != nil || back != got {
					t.Errorf("String %q does not parse back: %v, %v", got.String(), back, err)
				}
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct {
		name, spec string
		ok         bool
	}{
		{"five fields", "*/10 * * * *", true},
		{"every", "@every 5m", true},
		{"descriptor", "@daily", true},
		{"time zone", "CRON_TZ=Europe/Paris 0 9 * * 1-5", true},
		{"six fields", "0 */10 * * * *", false},
		{"time zone alone", "CRON_TZ=UTC", false},
		{"every too short", "@every 10ms", false},
		{"every garbage", "@every soon", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSchedule(tt.spec)
			if (err == nil) != tt.ok {
				t.Errorf("ParseSchedule(%q) error = %v, want ok %v", tt.spec, err, tt.ok)
			}
		})
	}
}

func TestConfigPath(t *testing.T) {
	tests := []struct {
		name   string
		flag   string
		env    map[string]string
		exists []string
		want   string
	}{
		{"flag wins even if missing", "/x/c.yaml", map[string]string{EnvConfig: "/env.yaml"}, []string{LocalPath}, "/x/c.yaml"},
		{"env next even if missing", "", map[string]string{EnvConfig: "/env.yaml"}, []string{LocalPath}, "/env.yaml"},
		{"empty env is unset", "", map[string]string{EnvConfig: ""}, []string{SystemPath}, SystemPath},
		{"local before system", "", nil, []string{LocalPath, SystemPath}, LocalPath},
		{"system when local missing", "", nil, []string{SystemPath}, SystemPath},
		{"local when nothing exists", "", nil, nil, LocalPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			exists := func(p string) bool {
				for _, e := range tt.exists {
					if e == p {
						return true
					}
				}
				return false
			}
			if got, _ := find(tt.flag, env, DefaultSearch(), exists); got != tt.want {
				t.Errorf("configPath = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mcpdrift.yaml")
	data := []byte("servers: [{name: a, command: ./a}]\n")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadEnv(path, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hash() != hashBytes(data) || !strings.HasPrefix(cfg.Hash(), "sha256:") || len(cfg.Hash()) != len("sha256:")+64 {
		t.Errorf("Hash = %q", cfg.Hash())
	}
	other := mustParse(t, "servers: [{name: a, command: ./a}] # changed\n")
	if other.Hash() == cfg.Hash() {
		t.Error("different bytes gave the same hash")
	}

	if _, err := LoadEnv(filepath.Join(dir, "missing.yaml"), os.LookupEnv); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v, want ErrNotExist", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("servers:\n  - name: a\n    commnad: ls\n    command: ./a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadEnv(bad, os.LookupEnv)
	if want := bad + ":3: servers[0].commnad: unknown key (did you mean command?)"; err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %q", err, want)
	}
}

func reflectValue(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }
