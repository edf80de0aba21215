package mcptest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Behavior is how a raw server misbehaves.
type Behavior string

// Behaviors of a raw server.
const (
	// Normal answers every request from Raw.Pages.
	Normal Behavior = ""
	// Hang never answers anything.
	Hang Behavior = "hang"
	// HangAfterInit answers initialize, then never answers a list.
	HangAfterInit Behavior = "hang-after-init"
	// Garbage answers initialize with a line that is not JSON.
	Garbage Behavior = "garbage"
	// Huge answers tools/list with a single response of Raw.HugeBytes
	// (default 100 MB), streamed, never held in memory.
	Huge Behavior = "huge"
	// EndlessCursor answers every tools/list page with a new cursor.
	EndlessCursor Behavior = "endless-cursor"
	// RepeatCursor answers every tools/list page with the same cursor.
	RepeatCursor Behavior = "repeat-cursor"
	// CrashMidList exits (stdio, status 3) or drops the connection (HTTP)
	// on the second tools/list request.
	CrashMidList Behavior = "crash-mid-list"
	// Slow waits Raw.Delay before answering each list request.
	Slow Behavior = "slow"
	// ChangeAfterList answers each list from Raw.Pages until it was listed
	// to its last page once, then sends notifications/<list>/list_changed
	// (stdio) and answers every later list of the session from Raw.Later:
	// a server that shows a new session one manifest and tells the client
	// it keeps about another.
	ChangeAfterList Behavior = "change-after-list"
	// Flood sends 20000 notifications from initialized on, and 1000 before
	// every answer (stdio), or 1000 before every answer (HTTP with
	// EventStream); it answers normally.
	Flood Behavior = "flood"
)

// DefaultHugeBytes is the size of a Huge answer when Raw.HugeBytes is 0.
const DefaultHugeBytes = 100 << 20

// Raw is a hand-rolled JSON-RPC server: it sends the exact JSON it is given,
// including fields the go-sdk would drop or rewrite.
type Raw struct {
	// Init is the initialize result. Default: the client's protocol version
	// echoed, capabilities for every list in Pages (and tools), serverInfo
	// {"name":"mcptest-raw","version":"1.0.0"}.
	Init json.RawMessage `json:"init,omitempty"`
	// Pages holds the raw result pages per list method ("tools/list"...).
	// Page i is served for cursor "" (i = 0) or "page-<i>"; a page without
	// nextCursor gets "page-<i+1>" when another page follows.
	Pages map[string][]json.RawMessage `json:"pages,omitempty"`
	// Later holds the pages ChangeAfterList serves after the first
	// listing; a method without them keeps its Pages.
	Later map[string][]json.RawMessage `json:"later,omitempty"`
	// Behavior is the misbehaviour; Delay and HugeBytes tune it.
	Behavior  Behavior      `json:"behavior,omitempty"`
	Delay     time.Duration `json:"delay,omitempty"`
	HugeBytes int64         `json:"hugeBytes,omitempty"`
	// EventStream makes the HTTP server answer POSTs with
	// text/event-stream instead of application/json.
	EventStream bool `json:"eventStream,omitempty"`
	// Authorization, if set, is the Authorization header HTTP requests must
	// carry.
	Authorization string `json:"authorization,omitempty"`
}

// action is what to do instead of, or besides, sending an answer.
type action int

const (
	actAnswer action = iota
	actAnswerThenNotify
	actNone
	actHang
	actGarbage
	actHuge
	actCrash
)

type inbound struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
}

func (m inbound) isCall() bool { return len(m.ID) > 0 && string(m.ID) != "null" }

// rawCore is the protocol logic shared by the stdio and HTTP raw servers.
type rawCore struct {
	r      Raw
	onCall func(method string)

	mu     sync.Mutex
	calls  Calls
	listed map[string]bool // methods listed to their last page (ChangeAfterList)
}

func newRawCore(r Raw, onCall func(string)) *rawCore {
	return &rawCore{r: r, onCall: onCall, calls: Calls{}, listed: map[string]bool{}}
}

// Calls returns a copy of the method counts so far.
func (c *rawCore) Calls() Calls {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := Calls{}
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// handle decides the answer to one message. For actAnswer, the returned
// bytes are the whole JSON-RPC response.
func (c *rawCore) handle(m inbound) ([]byte, action) {
	c.mu.Lock()
	c.calls[m.Method]++
	n := c.calls[m.Method]
	c.mu.Unlock()
	if c.onCall != nil {
		c.onCall(m.Method)
	}
	if !m.isCall() {
		return nil, actNone
	}
	if c.r.Behavior == Hang {
		return nil, actHang
	}
	switch m.Method {
	case "server/discover":
		return errorResponse(m.ID, -32601, "method not found"), actAnswer
	case "initialize":
		if c.r.Behavior == Garbage {
			return nil, actGarbage
		}
		return resultResponse(m.ID, c.initResult(m.Params)), actAnswer
	case "ping":
		return resultResponse(m.ID, json.RawMessage("{}")), actAnswer
	case "tools/list", "prompts/list", "resources/list", "resources/templates/list":
		return c.list(m, n)
	}
	return errorResponse(m.ID, -32601, "method not found"), actAnswer
}

func (c *rawCore) list(m inbound, n int) ([]byte, action) {
	switch c.r.Behavior {
	case HangAfterInit:
		return nil, actHang
	case Slow:
		time.Sleep(c.r.Delay)
	}
	if m.Method == "tools/list" {
		switch c.r.Behavior {
		case Huge:
			return nil, actHuge
		case CrashMidList:
			if n >= 2 {
				return nil, actCrash
			}
			return resultResponse(m.ID, json.RawMessage(
				`{"tools":[{"name":"first","inputSchema":{"type":"object"}}],"nextCursor":"second"}`)), actAnswer
		case EndlessCursor:
			return resultResponse(m.ID, json.RawMessage(fmt.Sprintf(
				`{"tools":[{"name":"t%d","inputSchema":{"type":"object"}}],"nextCursor":"c%d"}`, n, n))), actAnswer
		case RepeatCursor:
			return resultResponse(m.ID, json.RawMessage(fmt.Sprintf(
				`{"tools":[{"name":"t%d","inputSchema":{"type":"object"}}],"nextCursor":"again"}`, n))), actAnswer
		}
	}
	pages, ok := c.r.Pages[m.Method]
	c.mu.Lock()
	later := c.r.Behavior == ChangeAfterList && c.listed[m.Method]
	c.mu.Unlock()
	if p, has := c.r.Later[m.Method]; later && has {
		pages, ok = p, true
	}
	if !ok {
		if m.Method == "tools/list" {
			return resultResponse(m.ID, json.RawMessage(`{"tools":[]}`)), actAnswer
		}
		return errorResponse(m.ID, -32601, "method not found"), actAnswer
	}
	var p struct {
		Cursor string `json:"cursor"`
	}
	_ = json.Unmarshal(m.Params, &p)
	i := 0
	if p.Cursor != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(p.Cursor, "page-"))
		if err != nil || !strings.HasPrefix(p.Cursor, "page-") || v < 1 || v >= len(pages) {
			return errorResponse(m.ID, -32602, "invalid cursor"), actAnswer
		}
		i = v
	}
	page := pages[i]
	if i+1 < len(pages) {
		page = withCursor(page, fmt.Sprintf("page-%d", i+1))
	}
	if c.r.Behavior == ChangeAfterList && !later && i+1 == len(pages) {
		c.mu.Lock()
		c.listed[m.Method] = true
		c.mu.Unlock()
		return resultResponse(m.ID, page), actAnswerThenNotify
	}
	return resultResponse(m.ID, page), actAnswer
}

// listChanged is the list_changed notification for a list method.
func listChanged(method string) []byte {
	list, _, _ := strings.Cut(method, "/")
	if method == "resources/templates/list" {
		list = "resources"
	}
	return []byte(`{"jsonrpc":"2.0","method":"notifications/` + list + `/list_changed"}`)
}

// withCursor adds nextCursor to a raw page that has none. Only the top
// level is re-encoded: every entity keeps its exact bytes.
func withCursor(page json.RawMessage, cursor string) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(page, &obj) != nil {
		return page
	}
	if _, ok := obj["nextCursor"]; ok {
		return page
	}
	c, _ := json.Marshal(cursor)
	obj["nextCursor"] = c
	out, err := json.Marshal(obj)
	if err != nil {
		return page
	}
	return out
}

func (c *rawCore) initResult(params json.RawMessage) json.RawMessage {
	if len(c.r.Init) > 0 {
		return c.r.Init
	}
	var p struct {
		ProtocolVersion string `json:"protocolVersion"`
	}
	_ = json.Unmarshal(params, &p)
	if p.ProtocolVersion == "" {
		p.ProtocolVersion = "2025-11-25"
	}
	caps := map[string]any{"tools": map[string]any{}}
	for m := range c.r.Pages {
		switch m {
		case "prompts/list":
			caps["prompts"] = map[string]any{}
		case "resources/list", "resources/templates/list":
			caps["resources"] = map[string]any{}
		}
	}
	out, _ := json.Marshal(map[string]any{
		"protocolVersion": p.ProtocolVersion,
		"capabilities":    caps,
		"serverInfo":      map[string]string{"name": "mcptest-raw", "version": "1.0.0"},
	})
	return out
}

func resultResponse(id, result json.RawMessage) []byte {
	return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":%s}`, id, result))
}

func errorResponse(id json.RawMessage, code int, msg string) []byte {
	m, _ := json.Marshal(msg)
	return []byte(fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"error":{"code":%d,"message":%s}}`, id, code, m))
}

// writeHuge streams one tools/list response of about size bytes, in
// chunks from one small buffer.
func writeHuge(w io.Writer, id json.RawMessage, size int64, flush func()) error {
	head := fmt.Sprintf(`{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"huge","inputSchema":{"type":"object"},"description":"`, id)
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte("A"), 64<<10)
	for written := int64(0); written < size; written += int64(len(chunk)) {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		if flush != nil {
			flush()
		}
	}
	_, err := io.WriteString(w, `"}]}}`)
	return err
}

// A flood is bounded so that a test's work is: floodTotal notifications
// from the background, floodPerAnswer more before each answer.
const (
	floodTotal     = 20000
	floodPerAnswer = 1000
)

const garbageLine = "this is not JSON-RPC, it is garbage\x1b[31m in red\x1b[0m"

var floodNotifications = []string{
	`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
	`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"flood"}}`,
}

// serveRawStdio runs a raw server over in and out until in ends.
func serveRawStdio(core *rawCore, in io.Reader, out io.Writer) {
	var wmu sync.Mutex
	write := func(b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		_, err := out.Write(append(b, '\n'))
		return err
	}
	stop := make(chan struct{})
	defer close(stop)
	flood := func(n int) {
		for i := 0; i < n; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if write([]byte(floodNotifications[i%2])) != nil {
				return
			}
		}
	}
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var m inbound
			if json.Unmarshal(line, &m) == nil {
				if m.Method == "notifications/initialized" && core.r.Behavior == Flood {
					go flood(floodTotal)
				}
				resp, act := core.handle(m)
				if core.r.Behavior == Flood && act == actAnswer {
					flood(floodPerAnswer)
				}
				switch act {
				case actAnswer:
					if write(resp) != nil {
						return
					}
				case actAnswerThenNotify:
					if write(resp) != nil || write(listChanged(m.Method)) != nil {
						return
					}
				case actGarbage:
					_ = write([]byte(garbageLine))
				case actHuge:
					size := core.r.HugeBytes
					if size <= 0 {
						size = DefaultHugeBytes
					}
					wmu.Lock()
					err := writeHuge(out, m.ID, size, nil)
					wmu.Unlock()
					if err != nil {
						return
					}
				case actCrash:
					fmt.Fprintln(os.Stderr, "mcptest: crashing in the middle of tools/list")
					os.Exit(3)
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// RawHTTP is a raw server on streamable HTTP.
type RawHTTP struct {
	// URL is the endpoint.
	URL  string
	core *rawCore
}

// Calls returns the method counts so far.
func (s *RawHTTP) Calls() Calls { return s.core.Calls() }

// ServeRawHTTP serves r as a minimal streamable HTTP server on 127.0.0.1:
// POSTs are answered with one JSON response (or an event stream), GET is
// 405, DELETE is accepted. It stops when the test ends.
func ServeRawHTTP(t testing.TB, r Raw) *RawHTTP {
	t.Helper()
	s := &RawHTTP{core: newRawCore(r, nil)}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.serveHTTP(w, req, stop)
	})
	s.URL = serve(t, requireAuth(r.Authorization, h)) + "/mcp"
	return s
}

func (s *RawHTTP) serveHTTP(w http.ResponseWriter, req *http.Request, stop <-chan struct{}) {
	switch req.Method {
	case http.MethodPost:
	case http.MethodDelete:
		w.WriteHeader(http.StatusOK)
		return
	default:
		w.Header().Set("Allow", "POST, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	var m inbound
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	r := s.core.r
	resp, act := s.core.handle(m)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	switch act {
	case actNone:
		w.WriteHeader(http.StatusAccepted)
	case actHang:
		select {
		case <-req.Context().Done():
		case <-stop:
		}
	case actGarbage:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, garbageLine)
	case actCrash:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case actHuge:
		size := r.HugeBytes
		if size <= 0 {
			size = DefaultHugeBytes
		}
		if r.EventStream {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = io.WriteString(w, "event: message\ndata: ")
			if writeHuge(w, m.ID, size, flush) == nil {
				_, _ = io.WriteString(w, "\n\n")
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = writeHuge(w, m.ID, size, flush)
	case actAnswer, actAnswerThenNotify:
		if !r.EventStream {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(resp)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		if act == actAnswerThenNotify {
			// On the answer's own stream, which a probe reads (it opens
			// no standalone one), and before the answer, after which
			// the client stops reading it.
			fmt.Fprintf(w, "event: message\ndata: %s\n\n", listChanged(m.Method))
		}
		if r.Behavior == Flood {
			for i := 0; i < floodPerAnswer; i++ {
				fmt.Fprintf(w, "event: message\ndata: %s\n\n", floodNotifications[i%2])
			}
			flush()
		}
		fmt.Fprintf(w, "event: message\ndata: %s\n\n", resp)
		flush()
	}
}
