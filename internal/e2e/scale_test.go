package e2e

import (
	"context"
	"encoding/json"
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
	eng.Limit = engine.NewLimiter(benchConcurrency)
	check := func() error {
		rep := eng.Check(ctx, srvs, engine.Options{})
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

// farmTarget is one server of the farm as the bare go-sdk lister reaches
// it: a URL, or a command to start.
type farmTarget struct {
	URL     string            `json:"url,omitempty"`
	Command string            `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
}

// TestScaleFarm serves SCALE_SERVERS servers × SCALE_TOOLS tools for
// separate processes to measure (their own time and peak RSS, without the
// servers'): streamable HTTP servers in this process, or with
// SCALE_TRANSPORT=stdio the commands that start go-sdk stdio servers
// (this binary as mcptest's child, sandbox off). It writes the mcpdrift
// config to SCALE_FARM_CONFIG (storage in SCALE_FARM_DB, an admin socket
// of its own, schedules a day apart so a daemon's only rounds are its
// first and the ones asked for) and the same servers for the bare go-sdk
// lister (TestBareListFarm) to SCALE_FARM_CONFIG.targets.json, then serves
// until its stdin closes. Only scripts/bench.sh runs it.
func TestScaleFarm(t *testing.T) {
	cfgPath := os.Getenv("SCALE_FARM_CONFIG")
	if cfgPath == "" {
		t.Skip("run by scripts/bench.sh real")
	}
	n, tools := envInt("SCALE_SERVERS", 1000), envInt("SCALE_TOOLS", 100)
	stdio := os.Getenv("SCALE_TRANSPORT") == "stdio"
	var y strings.Builder
	// The admin socket is the farm's own: the CLI must not find a host
	// daemon's.
	db := os.Getenv("SCALE_FARM_DB")
	fmt.Fprintf(&y, "concurrency: %d\nstorage:\n  path: %q\nadmin:\n  socket: %q\nservers:\n", benchConcurrency, db, db+".sock")
	targets := make([]farmTarget, n)
	for i := range n {
		if stdio {
			c := mcptest.StdioSDK(t, scaleConfig(i, tools), mcptest.ChildOptions{})
			y.WriteString(c.ConfigEntry(fmt.Sprintf("s%d", i), "    sandbox: off\n    trust_on_first_use: true\n    schedule: \"@every 24h\"\n"))
			targets[i] = farmTarget{Command: c.Command, Args: c.Args, Env: c.Env}
			continue
		}
		u := mcptest.NewServer(scaleConfig(i, tools)).ServeStreamable(t, mcptest.HTTPOptions{})
		fmt.Fprintf(&y, "  - {name: s%d, url: %q, trust_on_first_use: true, schedule: \"@every 24h\"}\n", i, u)
		targets[i] = farmTarget{URL: u}
	}
	tj, err := json.Marshal(targets)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath+".targets.json", tj, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath+".tmp", []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(cfgPath+".tmp", cfgPath); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestBareListFarm is the bare go-sdk side of scripts/bench.sh real, as
// a process of its own: it lists every server of SCALE_FARM_CONFIG's
// farm (connect, list tools, prompts, resources and templates, close) at
// the benchmark's concurrency, as an application using go-sdk directly
// would, and prints the time it took.
func TestBareListFarm(t *testing.T) {
	cfgPath := os.Getenv("SCALE_FARM_CONFIG")
	if cfgPath == "" || os.Getenv("SCALE_BARE_LIST") == "" {
		t.Skip("run by scripts/bench.sh real")
	}
	b, err := os.ReadFile(cfgPath + ".targets.json")
	if err != nil {
		t.Fatal(err)
	}
	var targets []farmTarget
	if err := json.Unmarshal(b, &targets); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(targets))
	for i := range targets {
		ids[i] = strconv.Itoa(i)
	}
	ctx := context.Background()
	hc := &http.Client{Transport: &http.Transport{}}
	start := time.Now()
	err = fanOut(ids, func(id string) error {
		i, _ := strconv.Atoi(id)
		tg := targets[i]
		if tg.URL != "" {
			return bareList(ctx, tg.URL, hc)
		}
		cmd := exec.Command(tg.Command, tg.Args...)
		for k, v := range tg.Env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return bareListTransport(ctx, &mcp.CommandTransport{Command: cmd})
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("bare go-sdk listing of %d servers: %d ms\n", len(targets), time.Since(start).Milliseconds())
}
