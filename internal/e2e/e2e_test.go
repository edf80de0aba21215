// Package e2e holds end-to-end tests against the published reference MCP
// servers (installed from testdata/npm by `make npm`) and the full mcpdrift
// stack: config, probe, manifest, store, drift, engine.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// everything returns the entry point of a pinned server-everything version,
// failing (not skipping) when the npm servers are missing: CI installs them.
func everything(t *testing.T, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test with npm servers skipped in -short mode")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is required for end-to-end tests: %v", err)
	}
	p, err := filepath.Abs(filepath.Join("testdata", "npm", "node_modules", "everything-"+version, "dist", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("server-everything %s is not installed (run `make npm`): %v", version, err)
	}
	return p
}

func parseConfig(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "mcpdrift.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func servers(cfg *config.Config) []*config.Server {
	out := make([]*config.Server, len(cfg.Servers))
	for i := range cfg.Servers {
		out[i] = &cfg.Servers[i]
	}
	return out
}

// startHTTP runs server-everything's streamable HTTP transport on a free
// loopback port and returns its MCP URL. The whole process group is killed
// at cleanup.
func startHTTP(t *testing.T, entry string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("node", entry, "streamableHttp")
	// Only what node needs, and a HOME of the test's own: nothing of the
	// host's environment or home directory reaches the server.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), fmt.Sprintf("PORT=%d", port)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server-everything did not listen on %s: %s", addr, stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling a port with a deadline
	}
	return "http://" + addr + "/mcp"
}

func TestEverythingStdioAndHTTP(t *testing.T) {
	entry := everything(t, "2026.8.31")
	url := startHTTP(t, entry)
	cfg := parseConfig(t, fmt.Sprintf(`
defaults: {timeout: 30s}
servers:
  - name: stdio
    command: node
    args: [%q, stdio]
  - name: http
    url: %s
`, entry, url))
	db := openDB(t)
	eng := engine.New(db, testLogger(t))
	ctx := context.Background()

	eng.Limit = engine.NewLimiter(2)
	first := eng.Check(ctx, servers(cfg), engine.Options{})
	second := eng.Check(ctx, servers(cfg), engine.Options{})
	for i, name := range []string{"stdio", "http"} {
		t.Run(name, func(t *testing.T) {
			a, b := first.Servers[i], second.Servers[i]
			if a.Status != report.StatusBaselined {
				t.Fatalf("first check: status %q (error %q), want baselined", a.Status, a.Error)
			}
			if b.Status != report.StatusOK {
				t.Fatalf("second check: status %q, changes %+v, error %q; want ok", b.Status, b.Changes, b.Error)
			}
			if a.Snapshot.ID != b.Snapshot.ID {
				t.Errorf("two checks of an unchanged server gave two manifests: %s, %s", a.Snapshot.ID, b.Snapshot.ID)
			}
			obs, err := db.Observations(name, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(obs) != 2 || obs[0].SnapshotID != obs[1].SnapshotID {
				t.Fatalf("want 2 observations of one manifest, got %+v", obs)
			}
			doc, err := db.Manifest(a.Snapshot.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"name":"echo"`, `"prompts":[{`, `"resources":[{`, `"resource_templates":[{`, `"serverInfo":{`} {
				if !strings.Contains(string(doc), want) {
					t.Errorf("stored manifest lacks %s", want)
				}
			}
		})
	}
	// Both transports capture the same raw JSON, so the same manifest
	// once the identity (executable vs URL) is set aside.
	var ids [2]string
	for i := range ids {
		doc, err := db.Manifest(first.Servers[i].Snapshot.ID)
		if err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Parse(doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Identity) == 0 {
			t.Errorf("%s: no identity recorded", first.Servers[i].Server)
		}
		m.Identity = nil
		ids[i] = m.ID()
	}
	if ids[0] != ids[1] {
		t.Errorf("stdio and HTTP manifests differ beyond identity: %s vs %s", ids[0], ids[1])
	}
}
