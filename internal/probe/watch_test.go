package probe_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
)

// TestWatchReportsListChanged holds a watch session over each transport and
// protocol generation and checks that a tool change is reported, that
// nothing but the handshake (and the subscription) was sent, and that a
// stdio server is gone once Watch returns.
func TestWatchReportsListChanged(t *testing.T) {
	obj := map[string]any{"type": "object"}
	tests := []struct {
		name     string
		protocol string
		target   func(t *testing.T, s *mcptest.Server) (probe.Target, func() mcptest.Calls, func() []int)
	}{
		{"streamable 2026", "", streamableTarget},
		{"streamable 2025 (GET stream)", "2025-11-25", streamableTarget},
		{"stdio", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mcptest.Config{Tools: []*mcp.Tool{{Name: "a", InputSchema: obj}}}
			s := mcptest.NewServer(cfg)
			var target probe.Target
			var calls func() mcptest.Calls
			var pids func() []int
			var change func()
			if tt.target != nil {
				target, calls, pids = tt.target(t, s)
				change = func() { s.SetTools(&mcp.Tool{Name: "b", InputSchema: obj}) }
			} else {
				// A stdio child's tools cannot be changed from here: check
				// that the session opens, answers pings and dies with Watch.
				c := mcptest.StdioSDK(t, cfg, mcptest.ChildOptions{})
				target = probe.Target{Name: "stdio", Command: c.Command, Args: c.Args, Env: c.Env, Timeout: testTimeout}
				calls = func() mcptest.Calls { return c.Calls(t) }
				pids = func() []int { return c.PIDs(t) }
			}
			target.ProtocolVersion = tt.protocol
			ctx, cancel := context.WithCancel(context.Background())
			changes := make(chan string, 10)
			ready := make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- probe.Watch(ctx, target, probe.WatchOptions{
					OnChange: func(l string) {
						select {
						case changes <- l:
						default:
						}
					},
					OnReady:      func() { close(ready) },
					PingInterval: 20 * time.Millisecond,
				})
			}()
			select {
			case <-ready:
			case err := <-done:
				t.Fatalf("Watch ended before ready: %v", err)
			case <-time.After(testTimeout):
				t.Fatal("watch session not ready")
			}
			if change != nil {
				change()
				select {
				case l := <-changes:
					if l != "tools" {
						t.Errorf("OnChange(%q), want tools", l)
					}
				case <-time.After(testTimeout):
					t.Fatal("no list_changed reported")
				}
			} else {
				// Several pings must have gone through.
				deadline := time.Now().Add(testTimeout)
				for calls()["ping"] < 2 && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if n := calls()["ping"]; n < 2 {
					t.Errorf("server saw %d pings, want at least 2", n)
				}
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Watch after cancel: %v, want nil", err)
				}
			case <-time.After(testTimeout):
				t.Fatal("Watch did not return after cancel")
			}
			for m := range calls() {
				switch m {
				case "initialize", "notifications/initialized", "server/discover", "ping", "subscriptions/listen", "notifications/cancelled":
				default:
					t.Errorf("watch session sent %q", m)
				}
			}
			if pids != nil {
				if alive := mcptest.WaitGone(pids(), 5*time.Second); len(alive) > 0 {
					t.Errorf("processes %v still alive after Watch returned", alive)
				}
			}
		})
	}
}

func streamableTarget(t *testing.T, s *mcptest.Server) (probe.Target, func() mcptest.Calls, func() []int) {
	url := s.ServeStreamable(t, mcptest.HTTPOptions{})
	return probe.Target{Name: "http", URL: url, Timeout: testTimeout}, s.Calls, nil
}

func TestWatchRefusesServerWithoutListChanged(t *testing.T) {
	r := mcptest.ServeRawHTTP(t, mcptest.Raw{})
	err := probe.Watch(context.Background(), probe.Target{Name: "raw", URL: r.URL, Timeout: testTimeout}, probe.WatchOptions{})
	if !errors.Is(err, probe.ErrNoListChanged) {
		t.Fatalf("Watch: %v, want ErrNoListChanged", err)
	}
}

func TestWatchEndsWhenServerGoes(t *testing.T) {
	obj := map[string]any{"type": "object"}
	c := mcptest.StdioSDK(t, mcptest.Config{Tools: []*mcp.Tool{{Name: "a", InputSchema: obj}}}, mcptest.ChildOptions{})
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- probe.Watch(context.Background(), probe.Target{Name: "stdio", Command: c.Command, Args: c.Args, Env: c.Env, Timeout: testTimeout},
			probe.WatchOptions{OnReady: func() { close(ready) }})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch ended before ready: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("not ready")
	}
	for _, pid := range c.PIDs(t) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		var pe *probe.Error
		if !errors.As(err, &pe) {
			t.Fatalf("Watch after the server died: %v, want a *probe.Error", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Watch did not notice the server died")
	}
}

// TestWatchSessionLists: with OnSession, the watch session lists once when
// it opens and again on request, in the same session: after a tool change
// the session's own list has the new tool, and the session sent only
// what a probe may send.
func TestWatchSessionLists(t *testing.T) {
	obj := map[string]any{"type": "object"}
	s := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{{Name: "a", InputSchema: obj}}})
	target, calls, _ := streamableTarget(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	sessions := make(chan *probe.WatchSession, 1)
	changed := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- probe.Watch(ctx, target, probe.WatchOptions{
			OnSession: func(ws *probe.WatchSession) { sessions <- ws },
			OnChange: func(string) {
				select {
				case changed <- struct{}{}:
				default:
				}
			},
		})
	}()
	var ws *probe.WatchSession
	select {
	case ws = <-sessions:
	case err := <-done:
		t.Fatalf("Watch ended: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("no watch session")
	}
	if n := calls()["tools/list"]; n != 1 {
		t.Errorf("the session's first list: server saw %d tools/list, want 1", n)
	}
	s.SetTools(&mcp.Tool{Name: "b", InputSchema: obj})
	select {
	case <-changed:
	case <-time.After(testTimeout):
		t.Fatal("no list_changed")
	}
	pages, err := ws.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := pages[manifest.KindTool]; len(got) != 1 || !strings.Contains(string(got[0]), `"name":"b"`) || strings.Contains(string(got[0]), `"name":"a"`) {
		t.Errorf("tools listed in the session: %s", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch after cancel: %v", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Watch did not return")
	}
	if _, err := ws.List(context.Background()); err == nil {
		t.Error("List after Watch returned: no error")
	}
	if n := calls().Forbidden(); n != 0 {
		t.Errorf("the watch session sent %d forbidden calls", n)
	}
}
