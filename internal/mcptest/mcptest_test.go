package mcptest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestMain(m *testing.M) {
	MaybeRunChild()
	os.Exit(m.Run())
}

func TestSetToolsNotifiesListChanged(t *testing.T) {
	obj := map[string]any{"type": "object"}
	s := NewServer(Config{Tools: []*mcp.Tool{{Name: "old", InputSchema: obj}}})
	changed := make(chan struct{}, 10)
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, &mcp.ClientOptions{
		ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) { changed <- struct{}{} },
	})
	// The legacy handshake keeps a stateful session that gets notifications.
	cs, err := c.Connect(context.Background(), s.InMemory(t), &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	s.SetTools(&mcp.Tool{Name: "new1", InputSchema: obj}, &mcp.Tool{Name: "new2", InputSchema: obj})
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no tools/list_changed within 5s")
	}
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	if len(names) != 2 || names[0] != "new1" || names[1] != "new2" {
		t.Errorf("tools after SetTools = %v, want [new1 new2]", names)
	}
}

func TestRawPagination(t *testing.T) {
	pages := []json.RawMessage{
		json.RawMessage(`{"tools":[{"name":"a","x":1}]}`),
		json.RawMessage(`{"tools":[{"name":"b"}]}`),
	}
	core := newRawCore(Raw{Pages: map[string][]json.RawMessage{"tools/list": pages}}, nil)
	tests := []struct {
		name, cursor, want string
	}{
		{"first page gets a cursor", "", `{"jsonrpc":"2.0","id":1,"result":{"nextCursor":"page-1","tools":[{"name":"a","x":1}]}}`},
		{"last page is sent as is", "page-1", `{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"b"}]}}`},
		{"unknown cursor", "nope", `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"invalid cursor"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			params, _ := json.Marshal(map[string]string{"cursor": tc.cursor})
			got, act := core.handle(inbound{ID: json.RawMessage("1"), Method: "tools/list", Params: params})
			if act != actAnswer || string(got) != tc.want {
				t.Errorf("got %s (action %d), want %s", got, act, tc.want)
			}
		})
	}
	if n := core.Calls()["tools/list"]; n != 3 {
		t.Errorf("counted %d tools/list, want 3", n)
	}
}

func TestStdioChildAnswers(t *testing.T) {
	child := StdioSDK(t, Config{Tools: []*mcp.Tool{{Name: "x", InputSchema: map[string]any{"type": "object"}}}}, ChildOptions{})
	cmd := exec.Command(child.Command, child.Args...)
	for k, v := range child.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 1 || res.Tools[0].Name != "x" {
		t.Errorf("tools = %v", res.Tools)
	}
	_ = cs.Close()
	if calls := child.Calls(t); calls["tools/list"] != 1 {
		t.Errorf("child counted %v", calls)
	}
	if pids := child.PIDs(t); len(pids) != 1 {
		t.Errorf("pids = %v, want the child's", pids)
	}
}

func TestProcessGone(t *testing.T) {
	if ProcessGone(os.Getpid()) {
		t.Error("ProcessGone(self) = true")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if !ProcessGone(cmd.Process.Pid) {
		t.Error("ProcessGone(reaped child) = false")
	}
}
