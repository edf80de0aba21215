package sandbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// BenchmarkCheck20 is one check of 20 stdio servers (this test binary
// speaking MCP), 16 at once as by default, with and without the sandbox.
// Run both in one process, interleaved, to compare them:
//
//	go test -run '^$' -bench Check20 -count 5 ./internal/sandbox/
func BenchmarkCheck20(b *testing.B) {
	for _, mode := range []string{config.SandboxOff, config.SandboxStrict} {
		b.Run(mode, func(b *testing.B) {
			if mode == config.SandboxStrict {
				if _, err := os.Stat("/proc/self/ns/user"); err != nil {
					b.Skip("no user namespaces")
				}
			}
			dir := b.TempDir()
			var y strings.Builder
			fmt.Fprintf(&y, "storage: {path: %q}\ndefaults: {sandbox: %s, timeout: 60s}\nservers:\n", filepath.Join(dir, "state", "db"), mode)
			for i := range 20 {
				fmt.Fprintf(&y, "  - {name: s%02d, command: %q, args: [\"-test.run=^$\"], env: {%s: %s}, protocol_version: \"2025-06-18\"}\n",
					i, os.Args[0], envRole, roleMCP)
			}
			cfg, err := config.Parse(filepath.Join(dir, "config.yaml"), []byte(y.String()), nil)
			if err != nil {
				b.Fatal(err)
			}
			db, err := store.Open(cfg.Storage.Path, store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			e := engine.New(db, slog.New(slog.DiscardHandler))
			e.Limit = engine.NewLimiter(cfg.Concurrency)
			servers := make([]*config.Server, len(cfg.Servers))
			for i := range cfg.Servers {
				servers[i] = &cfg.Servers[i]
			}
			b.ResetTimer()
			for b.Loop() {
				r := e.Check(context.Background(), servers, engine.Options{})
				for _, s := range r.Servers {
					if s.Status == report.StatusError {
						b.Fatalf("%s: %s", s.Server, s.Error)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/check")
		})
	}
}
