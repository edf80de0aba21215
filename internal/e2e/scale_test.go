package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// scaleConfig is one server's content at scale: tools distinct per server.
func scaleConfig(i, tools int) mcptest.Config {
	cfg := mcptest.Config{Name: fmt.Sprintf("scale-%d", i), Instructions: "Benchmark server."}
	for j := range tools {
		cfg.Tools = append(cfg.Tools, &mcp.Tool{
			Name:        fmt.Sprintf("s%d_tool_%03d", i, j),
			Description: strings.Repeat("Searches the repository for issues matching a query. ", 3),
			InputSchema: &jsonschema.Schema{Type: "object", Required: []string{"q"}, Properties: map[string]*jsonschema.Schema{
				"q":     {Type: "string", Description: "search terms"},
				"limit": {Type: "integer", Description: "results per page"},
			}},
			Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true},
		})
	}
	return cfg
}

// BenchmarkScale is issue 15's benchmark at real size: a steady-state
// `mcpdrift check` cycle (engine.Check, as the CLI and a daemon round run
// it) over SCALE_SERVERS servers × SCALE_TOOLS tools against bare go-sdk
// listing of the same servers, interleaved, at concurrency 16. With
// SCALE_TRANSPORT=stdio the servers are processes (mcptest's go-sdk child,
// sandbox off, as the bare client runs them). Reported: the medians (ms),
// ratio = mcpdrift / gosdk, and the whole process's max RSS
// (HTTP servers run in this process, so it is an upper bound for
// mcpdrift's; stdio servers are children and not counted). Run through scripts/bench.sh.
func BenchmarkScale(b *testing.B) {
	n := envInt("SCALE_SERVERS", 250)
	tools := envInt("SCALE_TOOLS", 100)
	stdio := os.Getenv("SCALE_TRANSPORT") == "stdio"
	ctx := context.Background()

	var y strings.Builder
	y.WriteString("servers:\n")
	var urls []string
	var children []*mcptest.Child
	for i := range n {
		if stdio {
			c := mcptest.StdioSDK(b, scaleConfig(i, tools), mcptest.ChildOptions{})
			children = append(children, c)
			y.WriteString(c.ConfigEntry(fmt.Sprintf("s%d", i), "    sandbox: off\n"))
			continue
		}
		u := mcptest.NewServer(scaleConfig(i, tools)).ServeStreamable(b, mcptest.HTTPOptions{})
		urls = append(urls, u)
		fmt.Fprintf(&y, "  - {name: s%d, url: %q}\n", i, u)
	}
	srvs := servers(parseConfig(b, y.String()))
	eng := engine.New(openDB(b), slog.New(slog.DiscardHandler))
	eng.Peers = engine.StorePeers(eng.Store, func() []string {
		names := make([]string, len(srvs))
		for i, s := range srvs {
			names[i] = s.Name
		}
		return names
	}())
	check := func() error {
		rep := eng.Check(ctx, srvs, benchConcurrency)
		for _, s := range rep.Servers {
			if s.Status != report.StatusOK && s.Status != report.StatusBaselined {
				return fmt.Errorf("%s: %s %s", s.Server, s.Status, s.Error)
			}
		}
		return nil
	}
	if err := check(); err != nil { // baselines: not part of the steady state
		b.Fatal(err)
	}

	bare := func() error {
		if stdio {
			sem := make(chan struct{}, benchConcurrency)
			errs := make(chan error, len(children))
			done := make(chan struct{})
			go func() {
				defer close(done)
				for _, c := range children {
					sem <- struct{}{}
					go func() {
						defer func() { <-sem }()
						cmd := exec.Command(c.Command, c.Args...)
						for k, v := range c.Env {
							cmd.Env = append(cmd.Env, k+"="+v)
						}
						errs <- bareListTransport(ctx, &mcp.CommandTransport{Command: cmd})
					}()
				}
				for range cap(sem) {
					sem <- struct{}{}
				}
			}()
			<-done
			close(errs)
			for err := range errs {
				if err != nil {
					return err
				}
			}
			return nil
		}
		cold := &http.Client{Transport: &http.Transport{}}
		defer cold.CloseIdleConnections()
		return fanOut(urls, func(u string) error { return bareList(ctx, u, cold) })
	}
	variants := []struct {
		name string
		run  func() error
	}{{"gosdk", bare}, {"mcpdrift", check}}
	times := make([][]time.Duration, len(variants))
	round := 0
	for b.Loop() {
		for j := range variants {
			k := (round + j) % len(variants)
			start := time.Now()
			if err := variants[k].run(); err != nil {
				b.Fatalf("%s: %v", variants[k].name, err)
			}
			times[k] = append(times[k], time.Since(start))
		}
		round++
	}
	g, m := float64(median(times[0]))/1e6, float64(median(times[1]))/1e6
	b.ReportMetric(g, "gosdk-ms")
	b.ReportMetric(m, "mcpdrift-ms")
	b.ReportMetric(m/g, "ratio")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "process-maxrss-MiB")
	}
}

// bareListTransport is bareList over any transport.
func bareListTransport(ctx context.Context, t mcp.Transport) error {
	c := mcp.NewClient(&mcp.Implementation{Name: "bare", Version: "1"}, nil)
	cs, err := c.Connect(ctx, t, nil)
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
	return nil
}
