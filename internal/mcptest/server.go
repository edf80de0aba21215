// Package mcptest provides MCP servers for tests of packages that talk to
// MCP servers: go-sdk servers with configurable tools, prompts, resources
// and templates (in memory, streamable HTTP, legacy SSE and stdio), and
// hand-rolled raw servers that send exactly the bytes a test wants,
// including hostile ones (hangs, garbage, 100 MB answers, cursor loops,
// crashes, floods).
//
// Stdio servers run as a re-execution of the test binary itself: a test
// package that uses them must call MaybeRunChild first thing in TestMain.
//
// mcptest is for tests only; nothing outside _test.go files may import it.
package mcptest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ForbiddenMethods are the methods a manifest probe must never send: they
// run or read something on the server.
var ForbiddenMethods = []string{
	"tools/call", "prompts/get", "resources/read", "resources/subscribe", "completion/complete",
}

// Calls counts the requests and notifications a server received, by method.
type Calls map[string]int

// Forbidden returns how many of the calls were ForbiddenMethods.
func (c Calls) Forbidden() int {
	n := 0
	for _, m := range ForbiddenMethods {
		n += c[m]
	}
	return n
}

// Config is the content of a go-sdk test server. It is JSON-serializable,
// so that a stdio child can be given the same content.
type Config struct {
	Name         string                  `json:"name,omitempty"`
	Version      string                  `json:"version,omitempty"`
	Instructions string                  `json:"instructions,omitempty"`
	Tools        []*mcp.Tool             `json:"tools,omitempty"`
	Prompts      []*mcp.Prompt           `json:"prompts,omitempty"`
	Resources    []*mcp.Resource         `json:"resources,omitempty"`
	Templates    []*mcp.ResourceTemplate `json:"templates,omitempty"`
	// PageSize is the go-sdk page size; 0 means the SDK default (1000).
	PageSize int `json:"pageSize,omitempty"`
}

// Server is a go-sdk MCP server with the content of a Config, which counts
// every method it receives.
type Server struct {
	SDK *mcp.Server

	mu        sync.Mutex
	calls     Calls
	toolNames []string
	onCall    func(method string)
}

// NewServer builds a go-sdk server from cfg.
func NewServer(cfg Config) *Server {
	return newServer(cfg, nil)
}

func newServer(cfg Config, onCall func(string)) *Server {
	name, version := cfg.Name, cfg.Version
	if name == "" {
		name = "mcptest"
	}
	if version == "" {
		version = "1.0.0"
	}
	s := &Server{calls: Calls{}, onCall: onCall}
	s.SDK = mcp.NewServer(&mcp.Implementation{Name: name, Version: version}, &mcp.ServerOptions{
		Instructions: cfg.Instructions,
		PageSize:     cfg.PageSize,
	})
	s.SDK.AddReceivingMiddleware(s.count)
	for _, p := range cfg.Prompts {
		s.SDK.AddPrompt(p, promptHandler)
	}
	for _, r := range cfg.Resources {
		s.SDK.AddResource(r, resourceHandler)
	}
	for _, r := range cfg.Templates {
		s.SDK.AddResourceTemplate(r, resourceHandler)
	}
	s.SetTools(cfg.Tools...)
	return s
}

func (s *Server) count(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		s.mu.Lock()
		s.calls[method]++
		onCall := s.onCall
		s.mu.Unlock()
		if onCall != nil {
			onCall(method)
		}
		return next(ctx, method, req)
	}
}

// Calls returns a copy of the method counts so far.
func (s *Server) Calls() Calls {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Calls{}
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// SetTools replaces the whole tool set. Connected sessions get
// notifications/tools/list_changed from the SDK.
func (s *Server) SetTools(tools ...*mcp.Tool) {
	s.mu.Lock()
	old := s.toolNames
	s.toolNames = nil
	for _, t := range tools {
		s.toolNames = append(s.toolNames, t.Name)
	}
	s.mu.Unlock()
	if len(old) > 0 {
		s.SDK.RemoveTools(old...)
	}
	for _, t := range tools {
		s.SDK.AddTool(t, toolHandler)
	}
}

func toolHandler(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "mcptest: tool was called"}}}, nil
}

func promptHandler(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{
		{Role: "user", Content: &mcp.TextContent{Text: "mcptest: prompt was read"}},
	}}, nil
}

func resourceHandler(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{
		{URI: req.Params.URI, Text: "mcptest: resource was read"},
	}}, nil
}

// InMemory connects the server to a new in-memory transport and returns
// the client side. The session is closed when the test ends.
func (s *Server) InMemory(t testing.TB) mcp.Transport {
	t.Helper()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := s.SDK.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatalf("mcptest: connecting in-memory server: %v", err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	return ct
}

// HTTPOptions configures an HTTP test server.
type HTTPOptions struct {
	// Authorization, if set, is the exact Authorization header every
	// request must carry; others get 401.
	Authorization string
	// JSONResponse makes a streamable server answer POSTs with
	// application/json instead of text/event-stream.
	JSONResponse bool
	// Stateless makes a streamable server sessionless.
	Stateless bool
}

// ServeStreamable serves the server over streamable HTTP on 127.0.0.1 and
// returns its URL. The server stops when the test ends.
func (s *Server) ServeStreamable(t testing.TB, opts HTTPOptions) string {
	t.Helper()
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.SDK },
		&mcp.StreamableHTTPOptions{JSONResponse: opts.JSONResponse, Stateless: opts.Stateless})
	return serve(t, requireAuth(opts.Authorization, h)) + "/mcp"
}

// ServeSSE serves the server over the legacy HTTP+SSE transport on
// 127.0.0.1 and returns its URL. The server stops when the test ends.
func (s *Server) ServeSSE(t testing.TB, opts HTTPOptions) string {
	t.Helper()
	h := mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return s.SDK }, nil)
	return serve(t, requireAuth(opts.Authorization, h)) + "/sse"
}

func requireAuth(want string, h http.Handler) http.Handler {
	if want == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serve starts an httptest server whose hanging handlers are released (by
// closing client connections) before it is closed, so cleanup never blocks.
func serve(t testing.TB, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}
