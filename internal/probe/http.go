package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// HTTP timeouts for one target. The probe's deadline bounds everything
// else, including the long-lived event streams.
const (
	dialTimeout         = 10 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	maxHeaderBytes      = 1 << 20
	maxRedirects        = 5
)

// endpoint is a target URL split into what the SDK may see and what only
// the round tripper adds back: the SDK (and so every error it formats)
// knows the URL without userinfo and query.
type endpoint struct {
	full     *url.URL // as configured
	public   string   // scheme://host/path, what the SDK is given
	redacted string   // for errors and logs
}

func parseEndpoint(raw string) (*endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse errors quote the input, which may hold credentials.
		return nil, newKindError(ErrInvalidTarget, "url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, newKindError(ErrInvalidTarget, "url scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, newKindError(ErrInvalidTarget, "url has no host")
	}
	pub := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	red := pub.String()
	if u.User != nil {
		red = u.Scheme + "://REDACTED@" + strings.TrimPrefix(red, u.Scheme+"://")
	}
	if u.RawQuery != "" {
		red += "?REDACTED"
	}
	return &endpoint{full: u, public: pub.String(), redacted: red}, nil
}

// httpCapture is the round tripper of one HTTP target. It is the only place
// that sees the wire for streamable HTTP (where wrapping the mcp.Connection
// breaks the session) and legacy SSE:
//   - it adds the configured headers, URL credentials and query, only on
//     requests to the configured host (never across a redirect to another);
//   - it refuses any outgoing JSON-RPC request not on the allow-list;
//   - it records request ids and methods from request bodies, and raw
//     results from response bodies, both application/json and
//     text/event-stream, enforcing max_response_bytes while reading;
//   - it drops server notifications from event streams;
//   - it sets the User-Agent of the client identity advertised;
//   - it ties every request to the probe's lifetime.
//
// Its transport's dialer enforces the OAuth discovery rule (netrule.go) on
// the metadata requests that share it.
type httpCapture struct {
	base     *http.Transport
	ep       *endpoint
	headers  http.Header
	ua       string
	classify addrClassifier
	rec      *recorder
	limit    int64
	life     context.Context
	log      *slog.Logger
	auth     Authorizer

	// What the identity is made of, from the first successful response
	// (after redirects): its URL, TLS state and the address it came from
	// (unless through a proxy); and the first resource_metadata hint of a
	// WWW-Authenticate header.
	mu       sync.Mutex
	seen     bool
	finalURL *url.URL
	tls      *tls.ConnectionState
	remote   netip.AddrPort
	proxied  bool
	hint     string
}

func newHTTPCapture(life context.Context, t Target, ep *endpoint, rec *recorder, log *slog.Logger) *httpCapture {
	classify := t.classifyAddr
	if classify == nil {
		classify = classifyAddrPort
	}
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, ControlContext: guardedControl(classify)}
	base := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  t.Timeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		ForceAttemptHTTP2:      true,
		IdleConnTimeout:        30 * time.Second,
	}
	if t.TLS != nil {
		base.TLSClientConfig = t.TLS.Clone()
	}
	h := http.Header{}
	for k, v := range t.Headers {
		h.Set(k, v)
	}
	return &httpCapture{
		base: base, ep: ep, headers: h, ua: userAgent(t.Client), classify: classify,
		rec: rec, limit: t.Limits.MaxResponseBytes, life: life, log: log, auth: t.OAuth,
	}
}

// userAgent is the User-Agent of a client identity: the configured one,
// else "name/version" made of HTTP token characters, as clients send.
func userAgent(id ClientIdentity) string {
	if id.UserAgent != "" {
		return id.UserAgent
	}
	token := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x80 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
				return r
			}
			return '-'
		}, s)
	}
	return token(id.Name) + "/" + token(id.Version)
}

// awaitDeadline waits, once ctx's deadline has passed, until ctx reports
// it. ResponseHeaderTimeout is the probe's timeout and starts after the
// probe's deadline does, so it can only fire at or after that deadline; but
// the two are separate timers, and under load "timeout awaiting response
// headers" can reach the SDK before the context's own timer has run. After
// this wait the probe sees its context done and reports the deadline,
// whichever timer fired first.
func awaitDeadline(ctx context.Context) {
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		<-ctx.Done()
	}
}

func (c *httpCapture) client() *http.Client {
	return &http.Client{
		Transport: c,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}

func (c *httpCapture) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(c.life, cancel)
	done := func() { stop(); cancel() }
	redirected := !sameHost(req.URL, c.ep.full)
	if redirected {
		// Only a redirect takes MCP traffic to another origin: the server
		// chose it, so the OAuth discovery rule applies, and a server cannot
		// steer mcpdrift into a network it is not on itself.
		pol := fetchPolicy{server: hostClass(ctx, c.ep.full, c.classify), overTLS: req.URL.Scheme == "https"}
		gctx, err := guard(req.WithContext(ctx), pol, c.classify, c.base.Proxy)
		if err != nil {
			done()
			return nil, fmt.Errorf("refused to follow a redirect to %s: %w", req.URL.Host, err)
		}
		ctx = gctx
	}

	var remote netip.AddrPort
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if a, ok := info.Conn.RemoteAddr().(*net.TCPAddr); ok {
			remote = a.AddrPort()
		}
	}}
	out := req.Clone(httptrace.WithClientTrace(ctx, trace))
	out.Header.Set("User-Agent", c.ua)
	if sameHost(out.URL, c.ep.full) {
		if c.auth != nil {
			tok, err := c.auth.Token(ctx)
			if err != nil {
				done()
				return nil, c.rec.fail(err)
			}
			tok.SetAuthHeader(out)
		}
		c.addCredentials(out)
	} else if len(c.headers) > 0 || c.ep.full.User != nil || c.ep.full.RawQuery != "" {
		c.log.Warn("request to another host than configured: headers and URL credentials withheld",
			"host", out.URL.Host)
	}
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxOutgoingBodySize+1))
		_ = req.Body.Close()
		if err != nil {
			done()
			return nil, fmt.Errorf("reading request body: %w", err)
		}
		if len(body) > maxOutgoingBodySize {
			done()
			return nil, errors.New("request body too large")
		}
		if req.Method == http.MethodPost {
			if err := c.checkOutgoing(body); err != nil {
				done()
				return nil, err
			}
		}
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.ContentLength = int64(len(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}

	resp, err := c.base.RoundTrip(out)
	if err != nil {
		awaitDeadline(out.Context())
		done()
		if refused := (*refusedError)(nil); redirected && errors.As(err, &refused) {
			// The name resolved to an address the rule refuses.
			return nil, fmt.Errorf("refused to follow a redirect to %s: %w", req.URL.Host, refused)
		}
		return nil, err
	}
	c.observe(out, resp, remote)
	if c.auth != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && sameHost(out.URL, c.ep.full) {
		// No retry and no new authorization from here: the refusal is
		// the probe's result (see Authorizer).
		if err := c.auth.Rejected(resp); err != nil {
			_ = c.rec.fail(err)
		}
	}
	media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch {
	case resp.StatusCode/100 == 2 && media == "text/event-stream":
		resp.Body = &sseBody{c: c, rc: resp.Body, br: bufio.NewReader(resp.Body), done: done}
	case resp.StatusCode/100 == 2 && media == "application/json":
		// The body the SDK reads may be shorter than the one sent.
		resp.ContentLength = -1
		resp.Header.Del("Content-Length")
		resp.Body = &jsonBody{c: c, rc: resp.Body, done: done}
	default:
		resp.Body = &limitedBody{c: c, rc: resp.Body, left: c.limit, done: done}
	}
	return resp, nil
}

// observe records the identity of the server behind a response. A
// redirect is answered by the client with a new request through
// RoundTrip, so the first 2xx response is the final URL of the session.
func (c *httpCapture) observe(req *http.Request, resp *http.Response, remote netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hint == "" {
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if h := resourceMetadataHint(v); h != "" {
				c.hint = h
				break
			}
		}
	}
	if c.seen || resp.StatusCode/100 != 2 {
		return
	}
	c.seen = true
	c.finalURL = &url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path, RawPath: req.URL.RawPath}
	c.tls = resp.TLS
	c.remote = remote
	if pu, err := c.base.Proxy(req); err == nil && pu != nil {
		c.proxied = true
	}
}

// serverClass is the network class of the MCP server for the OAuth
// discovery rule: that of the address its first successful response came
// from, or, through a proxy (or before any response), that of its name.
func (c *httpCapture) serverClass(ctx context.Context, final *url.URL) netClass {
	c.mu.Lock()
	remote, proxied := c.remote, c.proxied
	c.mu.Unlock()
	if remote.IsValid() && !proxied {
		return c.classify(remote)
	}
	return hostClass(ctx, final, c.classify)
}

// observed returns what observe recorded.
func (c *httpCapture) observed() (final *url.URL, cs *tls.ConnectionState, hint string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finalURL, c.tls, c.hint
}

func (c *httpCapture) addCredentials(req *http.Request) {
	for k, v := range c.headers {
		req.Header[k] = v
	}
	if u := c.ep.full.User; u != nil && req.Header.Get("Authorization") == "" {
		pw, _ := u.Password()
		req.SetBasicAuth(u.Username(), pw)
	}
	if c.ep.full.RawQuery != "" {
		q := req.URL.Query()
		for k, vs := range c.ep.full.Query() {
			if _, ok := q[k]; !ok {
				q[k] = vs
			}
		}
		req.URL.RawQuery = q.Encode()
	}
}

func sameHost(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

// checkOutgoing enforces the allow-list on a POSTed JSON-RPC body and
// records the request.
func (c *httpCapture) checkOutgoing(body []byte) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil
	}
	msgs, err := decodeMessages(trimmed)
	if err != nil {
		// We only ever send what the SDK encoded; refuse what we cannot check.
		return newKindError(ErrForbiddenMethod, "refused to send a body that is not JSON-RPC")
	}
	for _, m := range msgs {
		if err := c.rec.send(m); err != nil {
			return err
		}
	}
	return nil
}

// receive passes the server messages in data to the recorder and returns
// what to pass on to the SDK: data itself, data re-encoded without what the
// recorder dropped or stripped, or nil when nothing is left.
func (c *httpCapture) receive(data []byte) ([]byte, error) {
	msgs, err := decodeMessages(data)
	if err != nil {
		return nil, c.rec.fail(newKindError(ErrProtocol,
			"server sent a message that is not JSON-RPC: %s", excerpt(data, 80)))
	}
	kept := msgs[:0]
	changed := false
	for _, m := range msgs {
		forward, stripped, err := c.rec.receive(m)
		if err != nil {
			return nil, err
		}
		changed = changed || stripped || !forward
		if forward {
			kept = append(kept, m)
		}
	}
	switch {
	case len(kept) == 0:
		return nil, nil
	case !changed:
		return data, nil
	}
	return encodeMessages(kept, data[0] == '[')
}

// encodeMessages encodes msgs as one message or, for batch, as an array.
func encodeMessages(msgs []jsonrpc.Message, batch bool) ([]byte, error) {
	var out []byte
	if batch {
		out = append(out, '[')
	}
	for i, m := range msgs {
		data, err := jsonrpc.EncodeMessage(m)
		if err != nil {
			return nil, fmt.Errorf("re-encoding a server message: %w", err)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, data...)
	}
	if batch {
		out = append(out, ']')
	}
	return out, nil
}

// jsonBody reads a whole application/json response, at most limit bytes,
// records it, then serves it unchanged.
type jsonBody struct {
	c    *httpCapture
	rc   io.ReadCloser
	done func()
	data *bytes.Reader
	err  error
}

func (b *jsonBody) Read(p []byte) (int, error) {
	if b.data == nil && b.err == nil {
		b.load()
	}
	if b.err != nil {
		return 0, b.err
	}
	return b.data.Read(p)
}

func (b *jsonBody) load() {
	data, err := readAllCapped(b.rc, b.c.limit)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			err = b.c.rec.fail(err)
		}
		b.err = err
		return
	}
	if t := bytes.TrimSpace(data); len(t) > 0 {
		out, err := b.c.receive(t)
		if err != nil {
			b.err = err
			return
		}
		if out != nil {
			data = out
		}
	}
	b.data = bytes.NewReader(data)
}

func (b *jsonBody) Close() error {
	b.done()
	return b.rc.Close()
}

// readAllCapped reads r to EOF, failing once more than limit bytes arrive.
func readAllCapped(r io.Reader, limit int64) ([]byte, error) {
	var buf []byte
	chunk := make([]byte, 32<<10)
	for {
		n, err := r.Read(chunk)
		if int64(len(buf))+int64(n) > limit {
			return nil, errResponseTooLarge(limit)
		}
		buf = appendCapped(buf, chunk[:n], limit)
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// limitedBody passes a body through, failing past limit bytes.
type limitedBody struct {
	c    *httpCapture
	rc   io.ReadCloser
	left int64
	done func()
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, b.c.rec.fail(errResponseTooLarge(b.c.limit))
	}
	if int64(len(p)) > b.left {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		b.left = 0
		return 0, b.c.rec.fail(errResponseTooLarge(b.c.limit))
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error {
	b.done()
	return b.rc.Close()
}

// sseBody parses a text/event-stream as it is read, one event at a time
// (each at most limit bytes), records the JSON-RPC messages in it, drops
// server notifications, and re-emits the rest to the SDK.
type sseBody struct {
	c    *httpCapture
	rc   io.ReadCloser
	br   *bufio.Reader
	done func()

	out []byte // next bytes for the SDK
	off int
	err error
}

func (b *sseBody) Read(p []byte) (int, error) {
	for b.off >= len(b.out) {
		if b.err != nil {
			return 0, b.err
		}
		b.out, b.off = b.out[:0], 0
		b.err = b.nextEvent()
	}
	n := copy(p, b.out[b.off:])
	b.off += n
	return n, nil
}

func (b *sseBody) Close() error {
	b.done()
	return b.rc.Close()
}

// nextEvent reads one event into b.out (possibly nothing, for a dropped
// one). It returns io.EOF at the end of the stream, after the last event.
func (b *sseBody) nextEvent() error {
	var (
		name, id, retry string
		data            []byte
		hasData         bool
		size            int64
	)
	pending := func() bool { return hasData || id != "" || retry != "" || name != "" }
	for {
		line, err := readLine(b.br, b.c.limit-size)
		if errors.Is(err, io.EOF) {
			// An unterminated last event is dispatched, as the SDK does.
			if pending() {
				if err := b.emit(name, id, retry, data, hasData); err != nil {
					return err
				}
			}
			return io.EOF
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return b.c.rec.fail(errResponseTooLarge(b.c.limit))
			}
			return err
		}
		size += int64(len(line))
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if pending() {
				if err := b.emit(name, id, retry, data, hasData); err != nil {
					return err
				}
				if len(b.out) > 0 {
					return nil
				}
			}
			name, id, retry, data, hasData, size = "", "", "", data[:0], false, 0
			continue
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if !found {
			return b.c.rec.fail(newKindError(ErrProtocol,
				"server sent a malformed event-stream line: %s", excerpt(line, 80)))
		}
		switch string(field) {
		case "event":
			name = string(bytes.TrimSpace(value))
		case "id":
			id = string(bytes.TrimSpace(value))
		case "retry":
			retry = string(bytes.TrimSpace(value))
		case "data":
			if hasData {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimSpace(value)...)
			hasData = true
		}
	}
}

func (b *sseBody) emit(name, id, retry string, data []byte, hasData bool) error {
	if hasData && len(data) > 0 && (name == "" || name == "message") {
		out, err := b.c.receive(data)
		if err != nil {
			return err
		}
		data = out
		if out == nil {
			// Keep the event id so that the SDK's resumption state moves on.
			hasData, name = false, ""
			if id == "" && retry == "" {
				return nil
			}
		}
	}
	if name != "" {
		b.out = append(b.out, "event: "+name+"\n"...)
	}
	if id != "" {
		b.out = append(b.out, "id: "+id+"\n"...)
	}
	if retry != "" {
		b.out = append(b.out, "retry: "+retry+"\n"...)
	}
	if hasData {
		for _, l := range bytes.Split(data, []byte{'\n'}) {
			b.out = append(b.out, "data: "...)
			b.out = append(b.out, l...)
			b.out = append(b.out, '\n')
		}
	}
	b.out = append(b.out, '\n')
	return nil
}
