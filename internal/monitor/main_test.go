package monitor_test

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/cli"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
)

// envDaemon makes the test binary, re-executed, run the mcpdrift CLI with
// its arguments, the way cmd/mcpdrift does: the daemon as a subprocess
// without building a separate binary.
const envDaemon = "MCPDRIFT_TEST_DAEMON"

func TestMain(m *testing.M) {
	if stage := os.Getenv(envSelfApprove); stage != "" {
		selfApprove(stage)
	}
	mcptest.MaybeRunChild()
	if n := os.Getenv(envFleet); n != "" {
		os.Exit(serveFleet(n))
	}
	if os.Getenv(envDaemon) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		// The environment startDaemon gives; the system runtime directory
		// and the implicit config files under the test's own HOME.
		home := os.Getenv("HOME")
		code := cli.RunHost(ctx, os.Args[1:], os.Stdout, os.Stderr, cli.Host{
			Env: os.LookupEnv, UID: os.Getuid(), RunDir: filepath.Join(home, "run"),
			ConfigSearch: []string{filepath.Join(home, "mcpdrift.yaml")},
		})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
