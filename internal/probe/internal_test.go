package probe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

func TestAllowList(t *testing.T) {
	tests := []struct {
		method string
		isCall bool
		want   bool
	}{
		{"initialize", true, true},
		{"server/discover", true, true},
		{"ping", true, true},
		{"tools/list", true, true},
		{"prompts/list", true, true},
		{"resources/list", true, true},
		{"resources/templates/list", true, true},
		{"notifications/initialized", false, true},
		{"notifications/cancelled", false, true},
		{"tools/call", true, false},
		{"prompts/get", true, false},
		{"resources/read", true, false},
		{"resources/subscribe", true, false},
		{"resources/unsubscribe", true, false},
		{"completion/complete", true, false},
		{"logging/setLevel", true, false},
		{"subscriptions/listen", true, false},
		{"tools/list", false, false},
		{"initialize", false, false},
		{"", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			if got := allowedToSend(tc.method, tc.isCall); got != tc.want {
				t.Errorf("allowedToSend(%q, %v) = %v, want %v", tc.method, tc.isCall, got, tc.want)
			}
		})
	}
}

// recordingConn is an mcp.Connection that records what is written to it.
type recordingConn struct{ writes []jsonrpc.Message }

func (c *recordingConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (c *recordingConn) Write(_ context.Context, m jsonrpc.Message) error {
	c.writes = append(c.writes, m)
	return nil
}
func (c *recordingConn) Close() error      { return nil }
func (c *recordingConn) SessionID() string { return "" }

func request(t *testing.T, id int64, method string) *jsonrpc.Request {
	t.Helper()
	jid, err := jsonrpc.MakeID(float64(id))
	if err != nil {
		t.Fatal(err)
	}
	return &jsonrpc.Request{ID: jid, Method: method, Params: []byte(`{}`)}
}

func TestForbiddenRequestNeverReachesConnection(t *testing.T) {
	for _, method := range []string{"tools/call", "prompts/get", "resources/read", "resources/subscribe", "completion/complete"} {
		t.Run(method, func(t *testing.T) {
			inner := &recordingConn{}
			rec := newRecorder(DefaultLimits())
			c := &captureConn{inner: inner, rec: rec}
			err := c.Write(context.Background(), request(t, 1, method))
			if !errors.Is(err, ErrForbiddenMethod) {
				t.Errorf("Write(%s) = %v, want ErrForbiddenMethod", method, err)
			}
			if len(inner.writes) != 0 {
				t.Errorf("%s reached the connection", method)
			}
			if !errors.Is(rec.fatalErr(), ErrForbiddenMethod) {
				t.Error("refusal not recorded as fatal")
			}
		})
	}
	t.Run("allowed passes", func(t *testing.T) {
		inner := &recordingConn{}
		c := &captureConn{inner: inner, rec: newRecorder(DefaultLimits())}
		if err := c.Write(context.Background(), request(t, 1, "tools/list")); err != nil {
			t.Fatal(err)
		}
		if len(inner.writes) != 1 {
			t.Errorf("%d writes, want 1", len(inner.writes))
		}
	})
}

func TestForbiddenRequestNeverReachesHTTPServer(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	ep, err := parseEndpoint(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(DefaultLimits())
	hc := newHTTPCapture(context.Background(), Target{Limits: DefaultLimits(), Timeout: DefaultTimeout}, ep, rec, slog.New(slog.DiscardHandler))
	for _, body := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm"}}`,
		`[{"jsonrpc":"2.0","id":2,"method":"tools/list"},{"jsonrpc":"2.0","id":3,"method":"resources/read"}]`,
		`not json at all`,
	} {
		resp, err := hc.client().Post(srv.URL, "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			t.Errorf("POST %s succeeded", body)
		} else if !errors.Is(err, ErrForbiddenMethod) {
			t.Errorf("POST %s: %v, want ErrForbiddenMethod", body, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server received %d requests, want 0", n)
	}
}

func TestHeadersWithheldFromOtherHosts(t *testing.T) {
	var otherAuth, otherQuery atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherAuth.Store(r.Header.Get("Authorization") + r.Header.Get("X-Key"))
		otherQuery.Store(r.URL.RawQuery)
	}))
	defer other.Close()
	var ownAuth atomic.Value
	own := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ownAuth.Store(r.Header.Get("X-Key") + "|" + r.URL.Query().Get("token"))
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	}))
	defer own.Close()

	ep, err := parseEndpoint(strings.Replace(own.URL, "http://", "http://u:pw@", 1) + "/mcp?token=tok")
	if err != nil {
		t.Fatal(err)
	}
	target := Target{Limits: DefaultLimits(), Timeout: DefaultTimeout, Headers: map[string]string{"X-Key": "k"}}
	hc := newHTTPCapture(context.Background(), target, ep, newRecorder(DefaultLimits()), slog.New(slog.DiscardHandler))
	resp, err := hc.client().Get(ep.public)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := ownAuth.Load(); got != "k|tok" {
		t.Errorf("configured host got %q, want header and query added", got)
	}
	if got := otherAuth.Load(); got != "" {
		t.Errorf("redirect target got credentials %q", got)
	}
	if got := otherQuery.Load(); got != "" {
		t.Errorf("redirect target got query %q", got)
	}
}

func TestReadLineBounded(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		limit   int64
		want    []string
		wantErr error
	}{
		{"lines", "a\nbb\n", 10, []string{"a\n", "bb\n"}, io.EOF},
		{"last line without newline", "a\nbb", 10, []string{"a\n", "bb"}, io.EOF},
		{"exactly the limit", "12345\n", 5, []string{"12345\n"}, io.EOF},
		{"over the limit", "123456\n", 5, nil, ErrTooLarge},
		{"long line over the limit", strings.Repeat("x", 200<<10) + "\n", 100 << 10, nil, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.input), 16)
			var got []string
			var err error
			for {
				var line []byte
				line, err = readLine(br, tc.limit)
				if err != nil {
					break
				}
				got = append(got, string(line))
			}
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("lines %q, want %q", got, tc.want)
			}
		})
	}
}

func newTestSSE(t *testing.T, stream string, limit int64) (*sseBody, *recorder) {
	t.Helper()
	l := DefaultLimits()
	l.MaxResponseBytes = limit
	rec := newRecorder(l)
	if err := rec.send(request(t, 1, "tools/list")); err != nil {
		t.Fatal(err)
	}
	c := &httpCapture{rec: rec, limit: limit}
	rc := io.NopCloser(strings.NewReader(stream))
	return &sseBody{c: c, rc: rc, br: bufio.NewReader(rc), done: func() {}}, rec
}

func TestSSEBody(t *testing.T) {
	stream := ": keep-alive\n\n" +
		"event: endpoint\ndata: /message?sessionid=abc\n\n" +
		"id: 7\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n" +
		"event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\r\ndata: \"result\":{\"tools\":[],\"x\":1}}\r\n\r\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":9,\ndata: \"method\":\"ping\"}"
	body, rec := newTestSSE(t, stream, 1<<20)
	out, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	want := "event: endpoint\ndata: /message?sessionid=abc\n\n" +
		"id: 7\n\n" +
		// The captured list result reaches the SDK stripped; the rest
		// passes unchanged, multi-line data included.
		"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[]}}\n\n" +
		"data: {\"jsonrpc\":\"2.0\",\"id\":9,\ndata: \"method\":\"ping\"}\n\n"
	if string(out) != want {
		t.Errorf("re-emitted stream:\n%q\nwant:\n%q", out, want)
	}
	raw, err := rec.take("tools/list")
	if err != nil || string(raw) != `{"tools":[],"x":1}` {
		t.Errorf("captured %s, %v", raw, err)
	}
	if rec.droppedNotifications() != 1 {
		t.Errorf("dropped %d notifications, want 1", rec.droppedNotifications())
	}
}

func TestSSEBodyFailures(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		wantErr error
	}{
		{"event over the limit", "data: " + strings.Repeat("x", 300) + "\n\n", ErrTooLarge},
		{"many lines over the limit", strings.Repeat("data: xxxxxxxxxx\n", 40) + "\n", ErrTooLarge},
		{"line without a colon", "garbage\n\n", ErrProtocol},
		{"data that is not JSON-RPC", "data: {not json}\n\n", ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, rec := newTestSSE(t, tc.stream, 256)
			_, err := io.ReadAll(body)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !errors.Is(rec.fatalErr(), tc.wantErr) {
				t.Errorf("fatal = %v, want %v", rec.fatalErr(), tc.wantErr)
			}
		})
	}
}

func TestRecorderLimits(t *testing.T) {
	l := DefaultLimits()
	l.MaxResponseBytes, l.MaxManifestBytes = 20, 30
	rec := newRecorder(l)
	resp := func(id int64, result string) *jsonrpc.Response {
		jid, _ := jsonrpc.MakeID(float64(id))
		return &jsonrpc.Response{ID: jid, Result: []byte(result)}
	}
	for i := int64(1); i <= 3; i++ {
		if err := rec.send(request(t, i, "tools/list")); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := rec.receive(resp(1, `{"tools":[1,2,3]}`)); err != nil {
		t.Fatalf("first page: %v", err)
	}
	if _, _, err := rec.receive(resp(2, `{"tools":[1,2,3,4,5,6,7]}`)); !errors.Is(err, ErrTooLarge) ||
		!strings.Contains(err.Error(), "max_response_bytes") {
		t.Errorf("oversized response: %v", err)
	}
	rec2 := newRecorder(l)
	for i := int64(1); i <= 2; i++ {
		_ = rec2.send(request(t, i, "tools/list"))
	}
	_, _, _ = rec2.receive(resp(1, `{"tools":[1,23]}`))
	if _, _, err := rec2.receive(resp(2, `{"tools":[1,23]}`)); !errors.Is(err, ErrTooLarge) ||
		!strings.Contains(err.Error(), "max_manifest_bytes") {
		t.Errorf("manifest over the limit: %v", err)
	}
}

func TestEscapeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, ünïcode", "plain text, ünïcode"},
		{"zero\u200bwidth", "zero<U+200B>width"},
		{"bidi\u202eevil", "bidi<U+202E>evil"},
		{"tag\U000E0041", "tag<U+E0041>"},
		{"ansi\x1b[31m", "ansi<U+001B>[31m"},
		{"nl\nx", "nl<U+000A>x"},
		{"bad\xffbyte", "bad<0xFF>byte"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := escapeText(tc.in); got != tc.want {
				t.Errorf("escapeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTerminalTail(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"colour removed", "\x1b[1;31merror:\x1b[0m boom\n", 100, "error: boom"},
		{"lines joined", "one\n\ntwo\r\nthree", 100, "one | two | three"},
		{"osc title removed", "\x1b]0;title\x07text", 100, "text"},
		{"tail kept", "aaaa\nbbbb\ncccc", 9, "bbbb | cccc"},
		{"rune boundary", "ééé", 3, "é"},
		{"invisible escaped", "a\u200bb\x00c", 100, "a<U+200B>b<U+0000>c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := terminalTail([]byte(tc.in), tc.max); got != tc.want {
				t.Errorf("terminalTail(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
			}
		})
	}
}

func TestRingKeepsTail(t *testing.T) {
	r := newRing(8)
	for _, s := range []string{"abc", "defg", "hijkl", "m"} {
		_, _ = r.Write([]byte(s))
	}
	if got := string(r.Bytes()); got != "fghijklm" {
		t.Errorf("ring = %q, want the last 8 bytes", got)
	}
	_, _ = r.Write([]byte("0123456789"))
	if got := string(r.Bytes()); got != "23456789" {
		t.Errorf("ring = %q after a long write", got)
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		name, in, public, redacted string
		wantErr                    bool
	}{
		{"plain", "https://mcp.example.com/mcp", "https://mcp.example.com/mcp", "https://mcp.example.com/mcp", false},
		{"credentials and query", "https://u:p4ss@mcp.example.com:8443/mcp?token=t0k",
			"https://mcp.example.com:8443/mcp", "https://REDACTED@mcp.example.com:8443/mcp?REDACTED", false},
		{"bad scheme", "ftp://x/", "", "", true},
		{"no host", "http:///mcp", "", "", true},
		{"unparsable with secret", "http://u:p4ss@[::1/%zz", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep, err := parseEndpoint(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), "p4ss") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ep.public != tc.public || ep.redacted != tc.redacted {
				t.Errorf("public %q redacted %q, want %q %q", ep.public, ep.redacted, tc.public, tc.redacted)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{16 << 20, "16 MiB"}, {64 << 10, "64 KiB"}, {1000, "1000 bytes"}, {3 << 30, "3 GiB"}}
	for _, tc := range tests {
		if got := formatBytes(tc.n); got != tc.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Server: "files", Phase: "tools/list", Err: errResponseTooLarge(16 << 20), Stderr: "boom"}
	want := `server "files": tools/list: response of more than 16 MiB exceeds max_response_bytes (stderr: boom)`
	if e.Error() != want {
		t.Errorf("Error() = %q\nwant %q", e.Error(), want)
	}
	if !errors.Is(e, ErrTooLarge) {
		t.Error("errors.Is(ErrTooLarge) is false")
	}
	var buf bytes.Buffer
	buf.WriteString(e.Error())
	if strings.ContainsAny(buf.String(), "\x1b\x00") {
		t.Error("control characters in error text")
	}
}
