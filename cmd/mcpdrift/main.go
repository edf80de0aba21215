// Command mcpdrift watches MCP servers for tool-manifest drift.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcpdrift/mcpdrift/internal/cli"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
}
