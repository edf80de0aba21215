package e2e

import (
	"context"
	"fmt"
	"io"
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
	return fleetConfig(fmt.Sprintf("scale-%d", i), fmt.Sprintf("s%d_tool_%%03d", i), tools)
}

// fleetConfig is a benchmark server named name with tools tools named by
// toolFormat (given the tool's index), a prompt and a resource: every list
// the bare client asks for is advertised, so both sides make the same
// calls.
func fleetConfig(name, toolFormat string, tools int) mcptest.Config {
	cfg := mcptest.Config{Name: name, Instructions: "Benchmark server."}
	for j := range tools {
		cfg.Tools = append(cfg.Tools, &mcp.Tool{
			Name:        fmt.Sprintf(toolFormat, j),
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
			ids := make([]string, len(children))
			for i := range children {
				ids[i] = strconv.Itoa(i)
			}
			return fanOut(ids, func(id string) error {
				i, _ := strconv.Atoi(id)
				c := children[i]
				cmd := exec.Command(c.Command, c.Args...)
				for k, v := range c.Env {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				return bareListTransport(ctx, &mcp.CommandTransport{Command: cmd})
			})
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

// TestScaleFarm serves SCALE_SERVERS streamable HTTP servers × SCALE_TOOLS
// tools for a separate `mcpdrift check` process to measure (its own peak
// RSS, without the servers): it writes their config to SCALE_FARM_CONFIG
// (storage in SCALE_FARM_DB) and serves until its stdin closes. Only
// scripts/bench.sh runs it.
func TestScaleFarm(t *testing.T) {
	cfgPath := os.Getenv("SCALE_FARM_CONFIG")
	if cfgPath == "" {
		t.Skip("run by scripts/bench.sh scale")
	}
	n, tools := envInt("SCALE_SERVERS", 1000), envInt("SCALE_TOOLS", 100)
	var y strings.Builder
	// The admin socket is the farm's own: the CLI must not find a host
	// daemon's.
	db := os.Getenv("SCALE_FARM_DB")
	fmt.Fprintf(&y, "concurrency: %d\nstorage:\n  path: %q\nadmin:\n  socket: %q\nservers:\n", benchConcurrency, db, db+".sock")
	for i := range n {
		u := mcptest.NewServer(scaleConfig(i, tools)).ServeStreamable(t, mcptest.HTTPOptions{})
		fmt.Fprintf(&y, "  - {name: s%d, url: %q, trust_on_first_use: true}\n", i, u)
	}
	if err := os.WriteFile(cfgPath+".tmp", []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cfgPath+".tmp", cfgPath); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}
