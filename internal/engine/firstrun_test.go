package engine_test

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/target"
)

// TestFirstRunTimeout: a server started through npx gets first_run_timeout
// until a snapshot of it is stored (a failed first run gets it again),
// then timeout; a server started directly always gets timeout.
func TestFirstRunTimeout(t *testing.T) {
	srvs := parse(t, `
defaults: {timeout: 20s, first_run_timeout: 7m}
servers:
  - {name: npx, command: npx, args: ["-y", "srv@1"]}
  - {name: uv, command: uv, args: [tool, run, srv]}
  - {name: plain, command: /usr/bin/srv}
`)
	srv := mcptest.NewServer(mcptest.Config{Name: "srv"})
	fail := true
	var deadlines []time.Duration
	eng := engine.New(openDB(t), slog.New(slog.DiscardHandler))
	eng.Probe = func(ctx context.Context, tg probe.Target) (*probe.Result, error) {
		deadlines = append(deadlines, tg.Timeout)
		if fail {
			return nil, errors.New("killed during the install")
		}
		tg.Transport, tg.Custom, tg.Command = probe.TransportCustom, srv.InMemory(t), ""
		return probe.Probe(ctx, tg)
	}
	check := func() {
		t.Helper()
		deadlines = deadlines[:0]
		for _, s := range srvs {
			rs := eng.CheckServer(context.Background(), s)
			if (rs.Status == report.StatusError) != fail {
				t.Fatalf("%s: %+v", s.Name, rs)
			}
		}
	}
	want := func(step string, d ...time.Duration) {
		t.Helper()
		if len(deadlines) != len(d) {
			t.Fatalf("%s: %v", step, deadlines)
		}
		for i := range d {
			if deadlines[i] != d[i] {
				t.Errorf("%s: %s probed with deadline %s, want %s", step, srvs[i].Name, deadlines[i], d[i])
			}
		}
	}
	check()
	want("first run", 7*time.Minute, 7*time.Minute, 20*time.Second)
	check()
	want("after a failed first run", 7*time.Minute, 7*time.Minute, 20*time.Second)
	fail = false
	check()
	check()
	want("with a snapshot stored", 20*time.Second, 20*time.Second, 20*time.Second)

	for _, s := range srvs {
		d := engine.CheckDeadline(s)
		if (s.Name == "plain") != (d == 20*time.Second) {
			t.Errorf("%s: check deadline %s", s.Name, d)
		}
	}
}

// TestStatelessProbeTimeout: without a database (check --lock), an npx
// server gets first_run_timeout until its package is in its npx cache; a
// uvx server, whose cache cannot be read, always does.
func TestStatelessProbeTimeout(t *testing.T) {
	dir := t.TempDir()
	srvs := parse(t, `
storage: {path: `+filepath.Join(dir, "mcpdrift.db")+`}
defaults: {timeout: 20s, first_run_timeout: 7m}
servers:
  - {name: npx, command: npx, args: ["-y", "srv@1"]}
  - {name: uvx, command: uvx, args: [srv]}
`)
	timeout := func(s *config.Server) time.Duration {
		tg, err := target.For(s)
		if err != nil {
			t.Fatal(err)
		}
		return engine.StatelessProbeTimeout(s, tg)
	}
	if d := timeout(srvs[0]); d != 7*time.Minute {
		t.Errorf("npx, nothing installed: %s", d)
	}
	if d := timeout(srvs[1]); d != 7*time.Minute {
		t.Errorf("uvx: %s", d)
	}
	// npx names the entry after the spec: _npx/<16 hex digits of sha512("srv@1")>.
	sum := sha512.Sum512([]byte("srv@1"))
	entry := filepath.Join(dir, "server-homes", "npx", ".npm", "_npx", hex.EncodeToString(sum[:])[:16])
	if err := os.MkdirAll(entry, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(entry, "package.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if d := timeout(srvs[0]); d != 20*time.Second {
		t.Errorf("npx, installed: %s", d)
	}
}
