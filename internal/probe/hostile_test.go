package probe_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// hostileTimeout is the probe deadline in hostile tests; slack is how much
// longer than it a probe may take to return (teardown, reaping).
const (
	hostileTimeout = 2 * time.Second
	slack          = 2 * time.Second
)

type via int

const (
	viaStdio via = iota
	viaHTTP
	viaHTTPStream // streamable HTTP answering with text/event-stream
)

func (v via) String() string {
	return [...]string{"stdio", "http-json", "http-event-stream"}[v]
}

// hostile returns a target for a raw server and, for stdio, its child.
func hostile(t *testing.T, name string, v via, raw mcptest.Raw, opts mcptest.ChildOptions) (probe.Target, *mcptest.Child) {
	t.Helper()
	target := probe.Target{Name: name, Timeout: hostileTimeout}
	switch v {
	case viaStdio:
		c := mcptest.StdioRaw(t, raw, opts)
		target.Command, target.Args, target.Env = c.Command, c.Args, c.Env
		return target, c
	case viaHTTPStream:
		raw.EventStream = true
	}
	target.URL = mcptest.ServeRawHTTP(t, raw).URL
	return target, nil
}

// assertChildGone fails if the stdio child or anything it wrote a pid for
// still runs.
func assertChildGone(t *testing.T, c *mcptest.Child) {
	t.Helper()
	if c == nil {
		return
	}
	pids := c.PIDs(t)
	if len(pids) == 0 {
		t.Fatal("child wrote no pid")
	}
	if alive := mcptest.WaitGone(pids, 3*time.Second); len(alive) > 0 {
		t.Errorf("processes still running after the probe: %v", alive)
	}
}

func TestHostileServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		via       []via
		raw       mcptest.Raw
		limits    probe.Limits
		timeout   time.Duration
		wantErr   error
		wantPhase string
		wantText  []string
	}{
		{
			name: "never answers", via: []via{viaStdio, viaHTTP},
			raw:     mcptest.Raw{Behavior: mcptest.Hang},
			wantErr: probe.ErrTimeout, wantPhase: "initialize", wantText: []string{"within 2s (timeout)"},
		},
		{
			name: "hangs after initialize", via: []via{viaStdio, viaHTTP},
			raw:     mcptest.Raw{Behavior: mcptest.HangAfterInit},
			wantErr: probe.ErrTimeout, wantPhase: "tools/list", wantText: []string{"within 2s (timeout)"},
		},
		{
			name: "garbage", via: []via{viaStdio, viaHTTP},
			raw:     mcptest.Raw{Behavior: mcptest.Garbage},
			wantErr: probe.ErrProtocol, wantPhase: "initialize",
			wantText: []string{"not JSON-RPC", "this is not JSON-RPC, it is garbage<U+001B>"},
		},
		{
			name: "100 MB answer", via: []via{viaStdio, viaHTTP, viaHTTPStream},
			raw:     mcptest.Raw{Behavior: mcptest.Huge},
			wantErr: probe.ErrTooLarge, wantPhase: "tools/list",
			wantText: []string{"response of more than 16 MiB exceeds max_response_bytes"},
		},
		{
			name: "endless new cursors", via: []via{viaStdio, viaHTTP},
			raw:     mcptest.Raw{Behavior: mcptest.EndlessCursor},
			wantErr: probe.ErrTooManyPages, wantPhase: "tools/list",
			wantText: []string{"more than 100 pages exceeds max_pages"},
		},
		{
			name: "repeated cursor", via: []via{viaStdio, viaHTTP},
			raw:     mcptest.Raw{Behavior: mcptest.RepeatCursor},
			wantErr: probe.ErrRepeatedCursor, wantPhase: "tools/list",
			wantText: []string{`repeated cursor "again"`},
		},
		{
			name: "crash mid-list", via: []via{viaStdio},
			raw:     mcptest.Raw{Behavior: mcptest.CrashMidList},
			wantErr: probe.ErrProcessExited, wantPhase: "tools/list",
			wantText: []string{"exit status 3", "(stderr: mcptest: crashing in the middle of tools/list)"},
		},
		{
			name: "connection dropped mid-list", via: []via{viaHTTP},
			raw:       mcptest.Raw{Behavior: mcptest.CrashMidList},
			wantPhase: "tools/list", wantText: []string{"tools/list"},
		},
		{
			name: "slow pages", via: []via{viaStdio, viaHTTP},
			raw: mcptest.Raw{Behavior: mcptest.Slow, Delay: 300 * time.Millisecond, Pages: map[string][]json.RawMessage{
				"tools/list": repeatPage(10),
			}},
			wantErr: probe.ErrTimeout, wantPhase: "tools/list", wantText: []string{"within 2s (timeout)"},
		},
		{
			name: "too many items", via: []via{viaStdio, viaHTTP},
			raw:     mcptest.Raw{Pages: map[string][]json.RawMessage{"tools/list": repeatPage(3)}},
			limits:  probe.Limits{MaxItems: 2},
			wantErr: probe.ErrTooManyItems, wantPhase: "tools/list",
			wantText: []string{"more than 2 items exceeds max_items"},
		},
		{
			name: "manifest too large", via: []via{viaStdio, viaHTTP},
			raw:     mcptest.Raw{Pages: map[string][]json.RawMessage{"tools/list": repeatPage(20)}},
			limits:  probe.Limits{MaxManifestBytes: 1000},
			wantErr: probe.ErrTooLarge, wantPhase: "tools/list",
			wantText: []string{"manifest of more than 1000 bytes exceeds max_manifest_bytes"},
		},
	}
	for _, tc := range tests {
		for _, v := range tc.via {
			t.Run(tc.name+"/"+v.String(), func(t *testing.T) {
				t.Parallel()
				target, child := hostile(t, "evil", v, tc.raw, mcptest.ChildOptions{})
				target.Limits = tc.limits
				start := time.Now()
				_, err := probe.Probe(context.Background(), target)
				elapsed := time.Since(start)
				if err == nil {
					t.Fatal("Probe succeeded against a hostile server")
				}
				t.Logf("error: %v", err)
				if elapsed > hostileTimeout+slack {
					t.Errorf("Probe took %v, deadline was %v", elapsed, hostileTimeout)
				}
				var pe *probe.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err is %T, want *probe.Error", err)
				}
				if pe.Server != "evil" || !strings.HasPrefix(err.Error(), `server "evil": `) {
					t.Errorf("error does not name the server: %q", err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("errors.Is(err, %v) is false", tc.wantErr)
				}
				if pe.Phase != tc.wantPhase {
					t.Errorf("phase %q, want %q", pe.Phase, tc.wantPhase)
				}
				for _, want := range tc.wantText {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not contain %q", err, want)
					}
				}
				assertChildGone(t, child)
			})
		}
	}
}

// repeatPage returns n tools/list pages of one tool each.
func repeatPage(n int) []json.RawMessage {
	pages := make([]json.RawMessage, n)
	for i := range pages {
		pages[i] = json.RawMessage(fmt.Sprintf(`{"tools":[{"name":"tool%02d","description":"%s","inputSchema":{"type":"object"}}]}`,
			i, strings.Repeat("d", 40)))
	}
	return pages
}

func TestSlowButWithinDeadlineSucceeds(t *testing.T) {
	t.Parallel()
	for _, v := range []via{viaStdio, viaHTTP} {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			raw := mcptest.Raw{Behavior: mcptest.Slow, Delay: 100 * time.Millisecond,
				Pages: map[string][]json.RawMessage{"tools/list": repeatPage(3)}}
			target, child := hostile(t, "slow", v, raw, mcptest.ChildOptions{})
			target.Timeout = 5 * time.Second
			res, err := probe.Probe(context.Background(), target)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			if n := len(res.Capture.Pages[manifest.KindTool]); n != 3 {
				t.Errorf("%d pages, want 3", n)
			}
			assertChildGone(t, child)
		})
	}
}

func TestNotificationFloodIgnored(t *testing.T) {
	t.Parallel()
	for _, v := range []via{viaStdio, viaHTTPStream} {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			raw := mcptest.Raw{Behavior: mcptest.Flood, Pages: map[string][]json.RawMessage{"tools/list": repeatPage(3)}}
			target, child := hostile(t, "flood", v, raw, mcptest.ChildOptions{})
			target.Timeout = 10 * time.Second
			res, err := probe.Probe(context.Background(), target)
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			m, err := manifest.Build(res.Capture)
			if err != nil {
				t.Fatal(err)
			}
			if n := m.Count(manifest.KindTool); n != 3 {
				t.Errorf("%d tools, want 3", n)
			}
			assertChildGone(t, child)
		})
	}
}

func TestProcessGroupKilled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     mcptest.Raw
		wantErr error
	}{
		{"after success", mcptest.Raw{Pages: map[string][]json.RawMessage{"tools/list": repeatPage(1)}}, nil},
		{"after timeout", mcptest.Raw{Behavior: mcptest.HangAfterInit}, probe.ErrTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Server and grandchild ignore SIGTERM: only the group SIGKILL
			// ends them.
			target, child := hostile(t, "group", viaStdio, tc.raw,
				mcptest.ChildOptions{Grandchild: true, IgnoreSIGTERM: true})
			start := time.Now()
			_, err := probe.Probe(context.Background(), target)
			if !errors.Is(err, tc.wantErr) && !(err == nil && tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if elapsed := time.Since(start); elapsed > hostileTimeout+slack {
				t.Errorf("Probe took %v", elapsed)
			}
			if pids := child.PIDs(t); len(pids) != 2 {
				t.Fatalf("pids %v, want server and grandchild", pids)
			}
			assertChildGone(t, child)
		})
	}
}

func TestProcessExitsBeforeAnswering(t *testing.T) {
	t.Parallel()
	child := mcptest.StdioRaw(t, mcptest.Raw{}, mcptest.ChildOptions{Stderr: "\x1b[31mfatal:\x1b[0m bad\u200bconfig"})
	child.Env[mcptest.EnvRole] = "no-such-role" // the child exits with status 2
	_, err := probe.Probe(context.Background(), probe.Target{
		Name: "quitter", Command: child.Command, Args: child.Args, Env: child.Env, Timeout: hostileTimeout,
	})
	var pe *probe.Error
	if !errors.As(err, &pe) || !errors.Is(err, probe.ErrProcessExited) {
		t.Fatalf("err = %v, want ErrProcessExited", err)
	}
	if !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("error %q lacks the exit status", err)
	}
	// The child quotes its env value: a plain word under a name that is
	// no credential's, which redaction leaves alone (internal/redact.Env).
	if !strings.Contains(pe.Stderr, `unknown role "no-such-role"`) {
		t.Errorf("stderr tail %q lacks the child's message, redacted", pe.Stderr)
	}
	if strings.ContainsRune(pe.Stderr, 0x1b) || !strings.Contains(pe.Stderr, "fatal: bad<U+200B>config") {
		t.Errorf("stderr tail %q: want ANSI removed and zero-width escaped", pe.Stderr)
	}
	assertChildGone(t, child)
}

// panicTransport panics when the probe connects through it.
type panicTransport struct{}

func (panicTransport) Connect(context.Context) (mcp.Connection, error) { panic("transport exploded") }

func TestProbeAllIsolatesFailures(t *testing.T) {
	t.Parallel()
	hang, hangChild := hostile(t, "hang", viaStdio, mcptest.Raw{Behavior: mcptest.Hang}, mcptest.ChildOptions{})
	huge, _ := hostile(t, "huge", viaHTTP, mcptest.Raw{Behavior: mcptest.Huge}, mcptest.ChildOptions{})
	cursor, _ := hostile(t, "cursor", viaHTTP, mcptest.Raw{Behavior: mcptest.RepeatCursor}, mcptest.ChildOptions{})
	healthy := mcptest.NewServer(fixture())
	healthyChild := mcptest.StdioSDK(t, fixture(), mcptest.ChildOptions{})
	targets := []probe.Target{
		hang,
		{Name: "healthy-http", URL: healthy.ServeStreamable(t, mcptest.HTTPOptions{}), Timeout: testTimeout},
		huge,
		{Name: "panics", Custom: panicTransport{}, Timeout: testTimeout},
		{Name: "healthy-stdio", Command: healthyChild.Command, Args: healthyChild.Args, Env: healthyChild.Env, Timeout: testTimeout},
		cursor,
	}
	start := time.Now()
	out := probe.All(context.Background(), targets, 4)
	if elapsed := time.Since(start); elapsed > hostileTimeout+slack {
		t.Errorf("All took %v", elapsed)
	}
	if len(out) != len(targets) {
		t.Fatalf("%d outcomes for %d targets", len(out), len(targets))
	}
	for i, o := range out {
		if o.Target != targets[i].Name {
			t.Errorf("outcome %d is %q, want %q (input order)", i, o.Target, targets[i].Name)
		}
		healthy := strings.HasPrefix(o.Target, "healthy")
		if healthy && (o.Err != nil || o.Result == nil) {
			t.Errorf("%s: err %v, want success", o.Target, o.Err)
		}
		if !healthy && o.Err == nil {
			t.Errorf("%s: succeeded, want an error", o.Target)
		}
	}
	if !errors.Is(out[3].Err, probe.ErrPanic) || !strings.Contains(out[3].Err.Error(), "transport exploded") {
		t.Errorf("panicking target: %v, want ErrPanic", out[3].Err)
	}
	if healthy.Calls().Forbidden() != 0 || healthyChild.Calls(t).Forbidden() != 0 {
		t.Error("healthy servers received forbidden calls")
	}
	assertChildGone(t, hangChild)
	assertChildGone(t, healthyChild)
}

// TestHugeAnswerMemoryBounded is not parallel: it measures the heap.
func TestHugeAnswerMemoryBounded(t *testing.T) {
	for _, v := range []via{viaStdio, viaHTTP, viaHTTPStream} {
		t.Run(v.String(), func(t *testing.T) {
			target, child := hostile(t, "huge", v, mcptest.Raw{Behavior: mcptest.Huge}, mcptest.ChildOptions{})
			target.Timeout = 10 * time.Second
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapInuse

			var peak uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					var ms runtime.MemStats
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
					select {
					case <-stop:
						return
					case <-tick.C:
					}
				}
			}()
			_, err := probe.Probe(context.Background(), target)
			close(stop)
			wg.Wait()
			if !errors.Is(err, probe.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			growth := int64(peak) - int64(base)
			t.Logf("heap in use grew by %.1f MiB at peak", float64(growth)/(1<<20))
			if growth > 40<<20 {
				t.Errorf("heap grew by %d MiB while refusing a 100 MB answer", growth>>20)
			}
			assertChildGone(t, child)
		})
	}
}

// TestNoGoroutineLeak is not parallel: it counts goroutines. A daemon
// probes forever, so whatever a hostile probe leaves behind would pile up.
func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("probes", func(t *testing.T) {
		cases := []struct {
			v   via
			raw mcptest.Raw
		}{
			{viaStdio, mcptest.Raw{Behavior: mcptest.Hang}},
			{viaHTTP, mcptest.Raw{Behavior: mcptest.HangAfterInit}},
			{viaHTTPStream, mcptest.Raw{Behavior: mcptest.Huge, HugeBytes: 2 << 20}},
			{viaStdio, mcptest.Raw{Behavior: mcptest.CrashMidList}},
			{viaHTTP, mcptest.Raw{Behavior: mcptest.Garbage}},
		}
		var targets []probe.Target
		for _, c := range cases {
			target, _ := hostile(t, "leak", c.v, c.raw, mcptest.ChildOptions{})
			target.Timeout = time.Second
			target.Limits.MaxResponseBytes = 1 << 20
			targets = append(targets, target)
		}
		s := mcptest.NewServer(fixture())
		targets = append(targets,
			probe.Target{Name: "ok-sse", Transport: probe.TransportSSE, URL: s.ServeSSE(t, mcptest.HTTPOptions{}), Timeout: testTimeout},
			probe.Target{Name: "ok-http", URL: s.ServeStreamable(t, mcptest.HTTPOptions{}), Timeout: testTimeout})
		for _, o := range probe.All(context.Background(), targets, len(targets)) {
			if strings.HasPrefix(o.Target, "ok") != (o.Err == nil) {
				t.Errorf("%s: unexpected outcome %v", o.Target, o.Err)
			}
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left behind (%d before):\n%s", n-base, base, buf[:runtime.Stack(buf, true)])
	}
}
