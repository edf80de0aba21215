package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

const (
	benchServers     = 50
	benchTools       = 20
	benchConcurrency = 16
)

// benchFleet starts n streamable HTTP servers on loopback with realistic
// tools and returns their URLs.
func benchFleet(b *testing.B, n int) []string {
	urls := make([]string, n)
	for i := range urls {
		cfg := mcptest.Config{Name: fmt.Sprintf("bench-%d", i), Instructions: "Benchmark server."}
		for j := range benchTools {
			cfg.Tools = append(cfg.Tools, &mcp.Tool{
				Name:        fmt.Sprintf("tool_%02d", j),
				Description: strings.Repeat("Searches the repository for issues matching a query. ", 3),
				InputSchema: &jsonschema.Schema{Type: "object", Required: []string{"q"}, Properties: map[string]*jsonschema.Schema{
					"q":     {Type: "string", Description: "search terms"},
					"limit": {Type: "integer", Description: "results per page"},
				}},
				Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
			})
		}
		cfg.Prompts = []*mcp.Prompt{{Name: "summarize", Description: "Summarize."}}
		cfg.Resources = []*mcp.Resource{{URI: "bench://readme", Name: "readme"}}
		urls[i] = mcptest.NewServer(cfg).ServeStreamable(b, mcptest.HTTPOptions{})
	}
	return urls
}

// bareList is what an application using go-sdk directly does to list one
// server: connect, list everything, close.
func bareList(ctx context.Context, url string) error {
	c := mcp.NewClient(&mcp.Implementation{Name: "bare", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: url}, nil)
	if err != nil {
		return err
	}
	defer cs.Close()
	for _, err := range cs.Tools(ctx, nil) {
		if err != nil {
			return err
		}
	}
	for _, err := range cs.Prompts(ctx, nil) {
		if err != nil {
			return err
		}
	}
	for _, err := range cs.Resources(ctx, nil) {
		if err != nil {
			return err
		}
	}
	for _, err := range cs.ResourceTemplates(ctx, nil) {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkCycle50 compares one full `mcpdrift check` cycle over 50 local
// servers (probe, canonicalize, store, compare) with bare go-sdk listing of
// the same servers at the same concurrency. scripts/bench.sh reports the
// ratio of the two.
func BenchmarkCycle50(b *testing.B) {
	urls := benchFleet(b, benchServers)
	ctx := context.Background()

	b.Run("gosdk", func(b *testing.B) {
		for b.Loop() {
			var wg sync.WaitGroup
			sem := make(chan struct{}, benchConcurrency)
			errs := make(chan error, len(urls))
			for _, u := range urls {
				wg.Go(func() {
					sem <- struct{}{}
					defer func() { <-sem }()
					if err := bareList(ctx, u); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
		}
	})

	b.Run("mcpdrift", func(b *testing.B) {
		var y strings.Builder
		y.WriteString("servers:\n")
		for i, u := range urls {
			fmt.Fprintf(&y, "  - {name: s%d, url: %q}\n", i, u)
		}
		cfg, err := config.Parse("bench.yaml", []byte(y.String()), nil)
		if err != nil {
			b.Fatal(err)
		}
		srvs := make([]*config.Server, len(cfg.Servers))
		for i := range cfg.Servers {
			srvs[i] = &cfg.Servers[i]
		}
		db := openDB(b)
		eng := engine.New(db, slog.New(slog.DiscardHandler))
		eng.Check(ctx, srvs, benchConcurrency) // baselines: not part of the steady state
		b.ResetTimer()
		for b.Loop() {
			rep := eng.Check(ctx, srvs, benchConcurrency)
			for _, s := range rep.Servers {
				if s.Status != report.StatusOK {
					b.Fatalf("%s: %s %s", s.Server, s.Status, s.Error)
				}
			}
		}
	})
}
