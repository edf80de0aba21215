package monitor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// TestReconnectTakesSnapshot: an HTTP server under watch restarts on a new
// version that no longer advertises listChanged. The watch reconnects,
// finds nothing to watch, and takes a snapshot at once: the drift is
// alerted long before the hourly schedule.
func TestReconnectTakesSnapshot(t *testing.T) {
	v1 := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("search", "Search issues.")}})
	v2 := mcp.NewServer(&mcp.Implementation{Name: "mcptest", Version: "2.0.0"}, &mcp.ServerOptions{
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{ListChanged: false}},
	})
	noop := func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{}, nil
	}
	v2.AddTool(tool("search", "Search issues."), noop)
	v2.AddTool(tool("exec", "Run a shell command."), noop)
	// A restarted process knows none of the old sessions: each version
	// has a handler of its own.
	handler := func(s *mcp.Server) http.Handler {
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
	}
	var current atomic.Pointer[http.Handler]
	h1 := handler(v1.SDK)
	current.Store(&h1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*current.Load()).ServeHTTP(w, r) }))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	h, rec := liveHarness(t, fmt.Sprintf(`
storage: {path: /unused}
servers:
  - {name: live, url: %q, schedule: "@every 1h", timeout: 5s, watch: true}
notifiers:
  - {name: rec, type: log}
`, srv.URL+"/mcp"), Options{WatchMinInterval: 10 * time.Millisecond, ReconnectMin: 20 * time.Millisecond, ReconnectMax: time.Hour})
	h.waitRuns("live", 1)
	eventually(t, "the watch session", func() bool {
		return h.metric("mcpdrift_watch_connected", "server", "live") == 1
	})
	// The restart: new sessions get the new version, the old one's
	// connections drop.
	h2 := handler(v2)
	current.Store(&h2)
	srv.CloseClientConnections()
	got := rec.WaitAlerts(t, 1)
	if got[0].Kind != notifiers.KindDrift || got[0].Server != "live" {
		t.Fatalf("alert = %+v, want a drift", got[0])
	}
	var added bool
	for _, c := range got[0].Report.Changes {
		added = added || (c.Kind == "tool.added" && c.Name == "exec")
	}
	if !added {
		t.Errorf("the drift does not add exec: %+v", got[0].Report.Changes)
	}
	if !strings.Contains(h.logs.String(), "not watching") {
		t.Errorf("the reconnect did not find the server unwatchable:\n%s", h.logs.String())
	}
}
