package target_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/sandbox"
	"github.com/mcpdrift/mcpdrift/internal/target"
)

// TestFor: secrets are read at use time (inline and *_file), file-backed
// env is marked external, only stdio servers get a sandbox policy, and a
// secret that cannot be read is an error naming the key, not the value.
func TestFor(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("s3cret-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdio := &config.Server{Name: "local", Transport: config.TransportStdio, Command: "srv", Sandbox: config.SandboxStrict,
		Env: map[string]config.Secret{"INLINE": config.NewSecret("inline-value"), "TOKEN": config.NewSecretFile(tokenFile)}}
	tg, err := target.For(stdio)
	if err != nil {
		t.Fatal(err)
	}
	if tg.Name != "local" || tg.Command != "srv" || tg.Env["INLINE"] != "inline-value" || !strings.HasPrefix(tg.Env["TOKEN"], "s3cret-from-file") {
		t.Errorf("stdio target = %+v", tg)
	}
	if !tg.ExternalEnv["TOKEN"] || tg.ExternalEnv["INLINE"] {
		t.Errorf("ExternalEnv = %v, want only TOKEN", tg.ExternalEnv)
	}
	if tg.Sandbox.Mode != sandbox.Mode(config.SandboxStrict) {
		t.Errorf("sandbox mode = %q, want %q", tg.Sandbox.Mode, config.SandboxStrict)
	}

	remote := &config.Server{Name: "api", URL: "https://example.invalid/mcp", Sandbox: config.SandboxStrict,
		Headers: map[string]config.Secret{"Authorization": config.NewSecretFile(filepath.Join(dir, "missing"))}}
	_, err = target.For(remote)
	if err == nil || !strings.Contains(err.Error(), "headers.Authorization") {
		t.Fatalf("missing header secret: err = %v, want one naming headers.Authorization", err)
	}
	remote.Headers = map[string]config.Secret{"Authorization": config.NewSecret("Bearer abc")}
	if tg, err = target.For(remote); err != nil {
		t.Fatal(err)
	}
	if tg.Headers["Authorization"] != "Bearer abc" || tg.Sandbox.Mode != "" {
		t.Errorf("remote target headers = %v, sandbox = %+v", tg.Headers, tg.Sandbox)
	}
}
