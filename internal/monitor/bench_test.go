package monitor_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/monitor"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// envFleet makes the re-executed test binary serve that many MCP servers
// (20 tools each) on one loopback HTTP server, at /mcp/0, /mcp/1, ...; it
// prints the base URL and serves until its stdin closes. Serving from
// another process keeps the server's CPU and memory out of the daemon's
// measurements.
const envFleet = "MCPDRIFT_TEST_FLEET"

func serveFleet(count string) int {
	n, err := strconv.Atoi(count)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad fleet size:", err)
		return 2
	}
	mux := http.NewServeMux()
	for i := range n {
		cfg := mcptest.Config{Name: fmt.Sprintf("fleet-%d", i)}
		for j := range 20 {
			cfg.Tools = append(cfg.Tools, tool(fmt.Sprintf("tool_%02d", j),
				strings.Repeat("Searches the repository for issues matching a query. ", 3)))
		}
		s := mcptest.NewServer(cfg)
		mux.Handle(fmt.Sprintf("/mcp/%d", i), mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.SDK }, nil))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Printf("http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// startFleet runs serveFleet in a child process and returns its base URL.
func startFleet(b *testing.B, n int) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", envFleet, n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("fleet: %v", err)
	}
	return strings.TrimSpace(line)
}

func rusage(b *testing.B) (cpu time.Duration, maxRSSKiB int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Maxrss
}

// BenchmarkFullCycle500 measures one full cycle of the daemon over 500
// servers (20 tools each) served by one loopback HTTP server in another
// process, with concurrency 32: wall time until every server has been
// snapshotted and baselined, the daemon process's CPU time, and its peak
// RSS (which includes the test binary itself).
//
//	go test ./internal/monitor -run '^$' -bench FullCycle500 -benchtime 1x
func BenchmarkFullCycle500(b *testing.B) {
	const servers = 500
	base := startFleet(b, servers)
	for range b.N {
		b.StopTimer()
		var y strings.Builder
		fmt.Fprintf(&y, "storage: {path: /unused}\nconcurrency: 32\nservers:\n")
		for i := range servers {
			fmt.Fprintf(&y, "  - {name: s%03d, url: \"%s/mcp/%d\", schedule: \"@every 24h\", timeout: 30s}\n", i, base, i)
		}
		cfg, err := config.Parse("bench.yaml", []byte(y.String()), nil)
		if err != nil {
			b.Fatal(err)
		}
		db, err := store.Open(filepath.Join(b.TempDir(), "db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		app, err := monitor.New(monitor.Options{Config: cfg, Store: db, Logger: slog.New(slog.DiscardHandler), Stagger: -1, MaxJitter: -1, PruneInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		cpu0, _ := rusage(b)
		start := time.Now()
		b.StartTimer()
		go func() { done <- app.Run(ctx) }()
		for app.Ready() != nil {
			time.Sleep(5 * time.Millisecond)
		}
		b.StopTimer()
		wall := time.Since(start)
		cpu1, rss := rusage(b)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		st, err := app.Service().Status(context.Background(), nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range st {
			if s.Status != report.StatusOK {
				b.Fatalf("%s: %s %s", s.Server, s.Status, s.Error)
			}
		}
		db.Close()
		b.ReportMetric(wall.Seconds(), "cycle-s")
		b.ReportMetric((cpu1 - cpu0).Seconds(), "cpu-s")
		b.ReportMetric(float64(rss)/1024, "peak-rss-MiB")
	}
}

// BenchmarkListChangedLatency measures the time from a tool change on a
// watched server to the drift being recorded by the alert lifecycle, with
// the default debounce (200ms) and no rate limit, and reports p50 and p99.
//
//	go test ./internal/monitor -run '^$' -bench ListChangedLatency -benchtime 50x
func BenchmarkListChangedLatency(b *testing.B) {
	srv := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("t", "v0")}})
	url := srv.ServeStreamable(b, mcptest.HTTPOptions{})
	cfg, err := config.Parse("bench.yaml", []byte(fmt.Sprintf(
		"storage: {path: /unused}\nservers:\n  - {name: live, url: %q, schedule: \"@every 1h\", watch: true}\n", url)), nil)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(filepath.Join(b.TempDir(), "db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	reg := monitor.Options{Config: cfg, Store: db, Logger: slog.New(slog.DiscardHandler), Stagger: -1, WatchMinInterval: -1, PruneInterval: -1}
	app, err := monitor.New(reg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	driftSnapshot := func() string {
		st, err := db.AlertState("live")
		if err != nil || st.Drift == nil {
			return ""
		}
		return st.Drift.SnapshotID
	}
	// Wait for the baseline and the watch session.
	for app.Ready() != nil || !strings.Contains(gather(b, app), `mcpdrift_watch_connected{server="live"} 1`) {
		time.Sleep(5 * time.Millisecond)
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		prev := driftSnapshot()
		start := time.Now()
		srv.SetTools(tool("t", fmt.Sprint("v", i+1)))
		for driftSnapshot() == prev {
			if time.Since(start) > 10*time.Second {
				b.Fatalf("change %d not detected within 10s", i+1)
			}
			time.Sleep(time.Millisecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Milliseconds()), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// gather renders the app's metrics in the text format.
func gather(b *testing.B, app *monitor.App) string {
	mfs, err := app.Registry().Gather()
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			sb.WriteString(mf.GetName() + "{")
			for _, l := range m.GetLabel() {
				fmt.Fprintf(&sb, "%s=%q", l.GetName(), l.GetValue())
			}
			fmt.Fprintf(&sb, "} %v\n", m.GetGauge().GetValue())
		}
	}
	return sb.String()
}
