package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/target"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestUserAgentFollowsTheIdentity: probing as another identity sends the
// User-Agent of that identity over the wire; a named identity, which keeps
// the configured name and version, keeps the configured User-Agent too.
func TestUserAgentFollowsTheIdentity(t *testing.T) {
	srv := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{{Name: "t", InputSchema: map[string]any{"type": "object"}}}})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv.SDK }, nil)
	var mu sync.Mutex
	seenUA := map[string]string{} // "name+capability..." of each initialize -> its User-Agent
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var msg struct {
				Method string `json:"method"`
				Params struct {
					ClientInfo   struct{ Name string }      `json:"clientInfo"`
					Capabilities map[string]json.RawMessage `json:"capabilities"`
				} `json:"params"`
			}
			if json.Unmarshal(body, &msg) == nil && msg.Method == "initialize" {
				key := msg.Params.ClientInfo.Name
				for c := range msg.Params.Capabilities {
					key += "+" + c
				}
				mu.Lock()
				seenUA[key] = r.Header.Get("User-Agent")
				mu.Unlock()
			}
		}
		h.ServeHTTP(w, r)
	}))
	defer ts.Close()

	cfg, err := config.Parse("t.yaml", []byte(`servers:
  - name: s
    url: `+ts.URL+`/mcp
    client: {name: claude-code, version: "1.0.43", capabilities: [roots], user_agent: "claude-cli/1.0.43 (external, cli)"}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &cfg.Servers[0]
	tg, err := target.For(s)
	if err != nil {
		t.Fatal(err)
	}
	res, err := probe.Probe(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Build(res.Capture)
	if err != nil {
		t.Fatal(err)
	}
	p := engine.New(nil, slog.New(slog.DiscardHandler))
	if _, err := p.Divergences(context.Background(), s, m, parseAll(t, "bare", "cursor/0.50")); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{
		"claude-code+roots": "claude-cli/1.0.43 (external, cli)", // configured
		"claude-code":       "claude-cli/1.0.43 (external, cli)", // bare: configured name, version and User-Agent
		"cursor":            "cursor/0.50",                       // another client: its own
	}
	keys := slices.Sorted(maps.Keys(seenUA))
	if len(seenUA) != len(want) {
		t.Errorf("initialize requests from %s, want %d identities", strings.Join(keys, ", "), len(want))
	}
	for id, ua := range want {
		if seenUA[id] != ua {
			t.Errorf("probing as %s sent User-Agent %q, want %q", id, seenUA[id], ua)
		}
	}
}
