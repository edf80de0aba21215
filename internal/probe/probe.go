// Package probe owns talking to one MCP server: it connects over stdio,
// streamable HTTP or legacy SSE with a fresh client and session, lists every
// tool, prompt, resource and resource template (following cursors), and
// returns the raw JSON the server sent, as a manifest.Capture.
//
// probe must never call a tool, get a prompt, read a resource, subscribe or
// complete: an allow-list below the SDK (the connection wrapper for stdio,
// the HTTP round tripper for HTTP) refuses any such request before it is
// sent. Everything a server sends is hostile: every response is bounded
// while it is read, pagination is bounded, the whole probe has a deadline,
// and a stdio server's whole process group is killed when the probe ends.
//
// The capture also records the server's observed identity
// (manifest.Identity, see identity.go): final URL and TLS leaf, public
// OAuth metadata fetched with credential-less GETs only (oauth.go), the
// resolved executable and its hash, the launcher package version read
// from the running process group or the npx cache (launcher.go), and the
// launch as configured: arguments, cwd, environment variable names, the
// configured URL and header names (launch.go).
//
// probe does not know the config file (the caller maps it to a Target),
// stores nothing and keeps no state between probes.
package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/sandbox"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Transport names how to reach a server.
type Transport string

// Transports.
const (
	// TransportStdio runs Target.Command and speaks newline-delimited
	// JSON-RPC over its stdin and stdout.
	TransportStdio Transport = "stdio"
	// TransportStreamable is streamable HTTP at Target.URL.
	TransportStreamable Transport = "streamable"
	// TransportSSE is the legacy (2024-11-05) HTTP+SSE transport at Target.URL.
	TransportSSE Transport = "sse"
	// TransportCustom is Target.Custom, an already-built mcp.Transport (for
	// example an in-memory one). Responses are checked against
	// max_response_bytes only once decoded.
	TransportCustom Transport = "custom"
)

// Client capabilities a probe may advertise.
const (
	CapabilityRoots       = "roots"
	CapabilitySampling    = "sampling"
	CapabilityElicitation = "elicitation"
)

// DefaultTimeout is the whole-probe deadline when Target.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// stderrTailBytes bounds the stderr excerpt put into errors.
const stderrTailBytes = 2 << 10

// ClientIdentity is who the probe says it is. Servers may expose different
// tools to different clients, so it is fixed per target and recorded.
type ClientIdentity struct {
	Name    string
	Version string
	// Capabilities is the exact set advertised, a subset of "roots",
	// "sampling" and "elicitation". Sampling and elicitation requests from
	// the server are answered with an error, never fulfilled.
	Capabilities []string
	// UserAgent is the User-Agent header of every HTTP request (MCP traffic
	// and OAuth discovery); empty derives "Name/Version" (see userAgent).
	UserAgent string
}

// Limits bound what one probe accepts from a server. A zero field takes its
// default.
type Limits struct {
	MaxPages         int   // pages per list (max_pages)
	MaxItems         int   // entries per list (max_items)
	MaxResponseBytes int64 // one response (max_response_bytes)
	MaxManifestBytes int64 // all captured results together (max_manifest_bytes)
	MaxStderrBytes   int64 // stderr kept from a stdio server
}

// DefaultLimits returns 100 pages and 10000 items per list, 16 MiB per
// response, 64 MiB per manifest and 64 KiB of stderr.
func DefaultLimits() Limits {
	return Limits{
		MaxPages:         100,
		MaxItems:         10000,
		MaxResponseBytes: 16 << 20,
		MaxManifestBytes: 64 << 20,
		MaxStderrBytes:   64 << 10,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxPages <= 0 {
		l.MaxPages = d.MaxPages
	}
	if l.MaxItems <= 0 {
		l.MaxItems = d.MaxItems
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = d.MaxResponseBytes
	}
	if l.MaxManifestBytes <= 0 {
		l.MaxManifestBytes = d.MaxManifestBytes
	}
	if l.MaxStderrBytes <= 0 {
		l.MaxStderrBytes = d.MaxStderrBytes
	}
	return l
}

// Target is one server to probe.
type Target struct {
	Name string
	// Transport may be left empty: Command means stdio, URL streamable HTTP.
	Transport Transport

	// stdio
	Command string
	Args    []string
	// Env is the server's environment: with PATH, LANG and a HOME of its
	// own, all it gets (never mcpdrift's own environment).
	Env map[string]string
	// ExternalEnv names the Env variables whose values come from
	// mcpdrift's environment or a file (credentials): the launch identity
	// records their names only. The others are written in the config and
	// recorded as a keyed hash (manifest.Launch).
	ExternalEnv map[string]bool
	Dir         string
	// Sandbox is how the server is isolated (internal/sandbox); the zero
	// value runs it unsandboxed. target.For sets it from the config,
	// where the default is auto.
	Sandbox sandbox.Policy

	// streamable HTTP and SSE
	URL     string
	Headers map[string]string // values are secrets: never logged or shown
	TLS     *tls.Config
	// OAuth, when set, supplies the bearer token of every request to the
	// configured host (internal/oauth).
	OAuth Authorizer
	// classifyAddr, for tests only, classifies the addresses OAuth
	// discovery connects to (netrule.go); nil classifies them as they are.
	classifyAddr addrClassifier

	// Custom, if set, is used instead of the above (TransportCustom).
	Custom mcp.Transport

	// Timeout bounds the whole probe: start, connect, every list and close.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	Client  ClientIdentity
	// ProtocolVersion pins the protocol version offered; empty lets the SDK
	// offer its newest and fall back.
	ProtocolVersion string
	// Relist is when a list is asked for a second time in the session
	// (see Result.Relisted); empty means RelistNotified.
	Relist RelistMode
	Limits Limits
	Logger *slog.Logger
}

// RelistMode is when a probe lists a kind a second time in its session, to
// see what a client that keeps its session sees.
type RelistMode string

// Relist modes.
const (
	// RelistAlways lists every served kind twice: it catches a server that
	// answers the first list of a session benignly and later ones
	// otherwise without saying so, for one more list per session.
	RelistAlways RelistMode = "always"
	// RelistNotified lists a kind again when the server said, during the
	// session, that its list changed (notifications/*/list_changed), as a
	// client that keeps its session would. It costs nothing otherwise.
	RelistNotified RelistMode = "notified"
	// RelistNever lists once.
	RelistNever RelistMode = "never"
)

// Result is one successful probe.
type Result struct {
	Capture   manifest.Capture
	StartedAt time.Time
	Duration  time.Duration
	// Protocol is the negotiated protocol version.
	Protocol string
	// Handshake is "initialize" or "server/discover": which result
	// Capture.Init holds.
	Handshake string
	// ServerInfo is the raw serverInfo, from the initialize result or from
	// the discover result's _meta.
	ServerInfo json.RawMessage
	Client     ClientIdentity
	// ClientCapabilities is the capabilities object exactly as sent.
	ClientCapabilities json.RawMessage
	Transport          Transport
	// Pages is the number of list pages fetched, over all lists.
	Pages int
	// Bytes is the size of all captured raw results.
	Bytes int64
	// Relisted holds, per kind the server served, the raw pages of a
	// second listing in the same session, when any differs from the
	// first. A server may answer the first list of a session benignly and
	// every later one (after a list_changed, say) otherwise: a client that
	// keeps its session sees the later answer. Nil when both listings are
	// byte for byte the same, or the second failed.
	Relisted map[manifest.Kind][]json.RawMessage
}

// errDeadline is the cause given to the probe's deadline context.
var errDeadline = errors.New("probe deadline")

// Probe connects to one server, lists everything it advertises and returns
// the raw results. A failure is always an *Error.
func Probe(ctx context.Context, t Target) (res *Result, err error) {
	p := newProber(t)
	started := time.Now()
	ctx, cancel := context.WithTimeoutCause(ctx, p.t.Timeout, errDeadline)
	defer cancel()
	// HTTP requests, including the SDK's closing DELETE, live until teardown
	// ends, not just until the deadline.
	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	p.life = life

	defer func() {
		if r := recover(); r != nil {
			p.log.Error("probe panicked", "panic", p.redactor.Replace(fmt.Sprint(r)), "stack", string(debug.Stack()))
			p.teardown(ctx)
			endLife()
			res, err = nil, p.wrap(newKindError(ErrPanic, "probe panicked: %v", r))
		}
	}()

	p.log.Debug("probe starting")
	res, runErr := p.run(ctx)
	p.teardown(ctx)
	endLife()
	if runErr != nil {
		err := p.wrap(runErr)
		p.log.Debug("probe failed", "phase", p.phase, "error", err.Error(), "duration", time.Since(started))
		return nil, err
	}
	res.StartedAt = started
	res.Duration = time.Since(started)
	p.log.Debug("probe done", "protocol", res.Protocol, "pages", res.Pages, "bytes", res.Bytes,
		"dropped_notifications", p.rec.droppedNotifications(), "duration", res.Duration)
	return res, nil
}

// prober is the state of one probe.
type prober struct {
	t        Target
	log      *slog.Logger // with component, server, transport, url
	sdkLog   *slog.Logger // the same for the SDK's own messages
	rec      *recorder
	redactor *redact.Redactor // the target's secrets
	phase    string
	life     context.Context

	proc    *process
	httpc   *httpCapture
	session *mcp.ClientSession

	// watch makes this a long-lived watch session (see Watch).
	watch bool
}

func newProber(t Target) *prober {
	t.Limits = t.Limits.withDefaults()
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	if t.Relist == "" {
		t.Relist = RelistNotified
	}
	if t.Client.Name == "" {
		t.Client.Name = "mcpdrift"
	}
	if t.Client.Version == "" {
		t.Client.Version = "unknown"
	}
	if t.Custom != nil {
		t.Transport = TransportCustom
	} else if t.Transport == "" {
		switch {
		case t.Command != "":
			t.Transport = TransportStdio
		case t.URL != "":
			t.Transport = TransportStreamable
		}
	}
	log := t.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &prober{t: t, rec: newRecorder(t.Limits), phase: "start", redactor: t.Redactor()}
	// Everything the probe and the SDK log about this server (its stderr,
	// its errors) passes through the target's redactor.
	log = slog.New(redact.NewHandler(log.Handler(), func() *redact.Redactor { return p.redactor }))
	attrs := []any{"component", "probe", "server", t.Name, "transport", string(t.Transport)}
	if t.URL != "" {
		if ep, err := parseEndpoint(t.URL); err == nil {
			attrs = append(attrs, "url", ep.redacted)
		}
	}
	p.log = log.With(attrs...)
	attrs[1] = "mcp-sdk"
	p.sdkLog = log.With(attrs...)
	return p
}

func (p *prober) run(ctx context.Context) (*Result, error) {
	t := p.t
	opts, err := clientOptions(t.Client)
	if err != nil {
		return nil, err
	}
	opts.Logger = p.sdkLog
	transport, err := p.transport()
	if err != nil {
		return nil, err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: t.Client.Name, Version: t.Client.Version}, opts)

	notified := p.noteListChanged()
	p.phase = "initialize"
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: t.ProtocolVersion})
	if err != nil {
		if isConnectError(err) {
			p.phase = "connect"
		}
		return nil, p.classify(ctx, err)
	}
	p.session = cs
	handshake, initRaw, params := p.rec.handshake()
	if initRaw == nil {
		return nil, newKindError(ErrProtocol, "no raw initialize result was captured")
	}
	init := cs.InitializeResult()
	res := &Result{
		Capture:            manifest.Capture{Init: initRaw, Protocol: init.ProtocolVersion, Pages: map[manifest.Kind][]json.RawMessage{}},
		Protocol:           init.ProtocolVersion,
		Handshake:          handshake,
		ServerInfo:         serverInfo(initRaw),
		Client:             t.Client,
		ClientCapabilities: advertisedCapabilities(handshake, params),
		Transport:          t.Transport,
	}
	sc := init.Capabilities
	if sc == nil {
		sc = &mcp.ServerCapabilities{}
	}
	lists := []struct {
		kind       manifest.Kind
		advertised bool
	}{
		{manifest.KindTool, sc.Tools != nil},
		{manifest.KindPrompt, sc.Prompts != nil},
		{manifest.KindResource, sc.Resources != nil},
		{manifest.KindResourceTemplate, sc.Resources != nil},
	}
	// Every list is asked for, advertised or not, as the reference
	// clients do by default: a server that serves tools without the
	// capability reaches them all the same. An unadvertised list that
	// answers with an error is simply not served.
	for _, l := range lists {
		pages, err := p.list(ctx, cs, l.kind, l.advertised)
		if err != nil {
			return nil, err
		}
		if len(pages) > 0 {
			res.Capture.Pages[l.kind] = pages
			res.Pages += len(pages)
		}
	}
	res.Relisted = p.relist(ctx, cs, res.Capture.Pages, notified)
	// While the session (and a stdio server's processes) still live.
	res.Capture.Identity = p.identity(ctx)
	p.phase = "close"
	p.closeSession(ctx)
	res.Bytes = p.rec.bytesCaptured()
	return res, nil
}

// transport builds the SDK transport for the target, starting the process
// for stdio.
func (p *prober) transport() (mcp.Transport, error) {
	t := p.t
	switch t.Transport {
	case TransportCustom:
		return &captureTransport{inner: t.Custom, rec: p.rec}, nil
	case TransportStdio:
		if t.Command == "" {
			return nil, newKindError(ErrInvalidTarget, "stdio target has no command")
		}
		proc, err := startProcess(t, p.log)
		if err != nil {
			return nil, fmt.Errorf("starting %q: %w", t.Command, err)
		}
		p.proc = proc
		return &stdioTransport{proc: proc, rec: p.rec, limit: t.Limits.MaxResponseBytes}, nil
	case TransportStreamable, TransportSSE:
		if t.URL == "" {
			return nil, newKindError(ErrInvalidTarget, "%s target has no url", t.Transport)
		}
		ep, err := parseEndpoint(t.URL)
		if err != nil {
			return nil, err
		}
		p.httpc = newHTTPCapture(p.life, t, ep, p.rec, p.log)
		// The SDK's own event limit sits above ours so that ours, which
		// names the config key, is the one that fires.
		maxEvent := int(min(t.Limits.MaxResponseBytes, 1<<40)) + 64<<10
		if t.Transport == TransportSSE {
			return &connectTagger{&mcp.SSEClientTransport{
				Endpoint: ep.public, HTTPClient: p.httpc.client(), MaxEventSize: maxEvent,
			}}, nil
		}
		// No standalone GET stream: a probe wants no server-initiated
		// messages, and responses come on the POSTs. A watch session wants
		// exactly those (list_changed on protocols before 2026-07-28).
		return &mcp.StreamableClientTransport{
			Endpoint: ep.public, HTTPClient: p.httpc.client(),
			DisableStandaloneSSE: !p.watch, MaxEventSize: maxEvent,
		}, nil
	case "":
		return nil, newKindError(ErrInvalidTarget, "target has no command and no url")
	default:
		return nil, newKindError(ErrInvalidTarget, "unknown transport %q", t.Transport)
	}
}

// clientOptions builds SDK options advertising exactly the requested
// capabilities. Capabilities is always set, so the SDK's default roots
// capability is not added behind our back.
func clientOptions(id ClientIdentity) (*mcp.ClientOptions, error) {
	caps := &mcp.ClientCapabilities{}
	opts := &mcp.ClientOptions{
		Capabilities:   caps,
		MultiRoundTrip: &mcp.MultiRoundTripOptions{Disabled: true},
	}
	seen := map[string]bool{}
	for _, c := range id.Capabilities {
		if seen[c] {
			return nil, newKindError(ErrInvalidTarget, "client capability %q listed twice", c)
		}
		seen[c] = true
		switch c {
		case CapabilityRoots:
			caps.RootsV2 = &mcp.RootCapabilities{} //nolint:staticcheck // deprecated in 2026-07-28, still what many servers key tool sets on
		case CapabilitySampling:
			caps.Sampling = &mcp.SamplingCapabilities{} //nolint:staticcheck // advertised on request only; never fulfilled
			// Deprecated in the SDK with sampling itself, but it is the
			// handler that advertises plain sampling without tool use.
			opts.CreateMessageHandler = refuseSampling //nolint:staticcheck // see above
		case CapabilityElicitation:
			caps.Elicitation = &mcp.ElicitationCapabilities{}
			opts.ElicitationHandler = refuseElicitation
		default:
			return nil, newKindError(ErrInvalidTarget,
				"unknown client capability %q (want roots, sampling or elicitation)", c)
		}
	}
	return opts, nil
}

func refuseSampling(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) { //nolint:staticcheck // the handler type is deprecated with sampling
	return nil, errors.New("mcpdrift only lists a server's manifest; it does not sample")
}

func refuseElicitation(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
	return nil, errors.New("mcpdrift only lists a server's manifest; it does not elicit")
}

// list fetches every page of one list, driving the cursor from the raw
// JSON and taking each page's content from the raw capture.
func (p *prober) list(ctx context.Context, cs *mcp.ClientSession, kind manifest.Kind, advertised bool) ([]json.RawMessage, error) {
	method := listMethod(kind)
	p.phase = method
	lim := p.t.Limits
	var pages []json.RawMessage
	seen := map[string]bool{}
	cursor, items := "", 0
	for page := 1; ; page++ {
		if page > lim.MaxPages {
			return nil, newKindError(ErrTooManyPages,
				"more than %d pages exceeds max_pages", lim.MaxPages)
		}
		if err := callList(ctx, cs, kind, cursor); err != nil {
			if p.rec.fatalErr() == nil && ctx.Err() == nil && page == 1 && (isMethodNotFound(err) || !advertised && isRPCError(err)) {
				p.log.Debug("list method not served; treating as empty", "method", method, "advertised", advertised)
				return nil, nil
			}
			return nil, p.classify(ctx, err)
		}
		raw, err := p.rec.take(method)
		if err != nil {
			return nil, err
		}
		n, next, err := inspectPage(kind, raw)
		if err != nil {
			return nil, err
		}
		items += n
		if items > lim.MaxItems {
			return nil, newKindError(ErrTooManyItems,
				"more than %d items exceeds max_items", lim.MaxItems)
		}
		pages = append(pages, raw)
		if next == "" {
			p.log.Debug("listed", "method", method, "pages", len(pages), "items", items)
			return pages, nil
		}
		if seen[next] {
			return nil, newKindError(ErrRepeatedCursor,
				"server repeated cursor %s on page %d (pagination loop)", quoteCursor(next), page)
		}
		seen[next] = true
		cursor = next
	}
}

// noteListChanged records which kinds the server said changed during the
// session. The returned function reports them; it is safe to call once
// the lists are done.
func (p *prober) noteListChanged() func() map[manifest.Kind]bool {
	var mu sync.Mutex
	seen := map[manifest.Kind]bool{}
	if p.watch || p.t.Relist != RelistNotified {
		return func() map[manifest.Kind]bool { return seen }
	}
	p.rec.setOnNotify(func(method string) {
		var kinds []manifest.Kind
		switch method {
		case "notifications/tools/list_changed":
			kinds = []manifest.Kind{manifest.KindTool}
		case "notifications/prompts/list_changed":
			kinds = []manifest.Kind{manifest.KindPrompt}
		case "notifications/resources/list_changed":
			kinds = []manifest.Kind{manifest.KindResource, manifest.KindResourceTemplate}
		}
		mu.Lock()
		for _, k := range kinds {
			seen[k] = true
		}
		mu.Unlock()
	})
	return func() map[manifest.Kind]bool {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}

// relist lists once more, in the same session, the lists the relist mode
// asks for: every list that served something (always), or those the
// server said changed (notified). A failure is logged and leaves the first
// listing alone.
func (p *prober) relist(ctx context.Context, cs *mcp.ClientSession, first map[manifest.Kind][]json.RawMessage, notified func() map[manifest.Kind]bool) map[manifest.Kind][]json.RawMessage {
	var again map[manifest.Kind]bool
	switch p.t.Relist {
	case RelistNever:
		return nil
	case RelistAlways:
		again = map[manifest.Kind]bool{}
		for k, pages := range first {
			again[k] = len(pages) > 0
		}
	default:
		again = notified()
	}
	out := map[manifest.Kind][]json.RawMessage{}
	for _, k := range manifest.Kinds {
		if !again[k] {
			continue
		}
		pages, err := p.list(ctx, cs, k, true)
		if err != nil {
			p.log.Debug("second listing failed; keeping the first", "method", listMethod(k), "error", err.Error())
			return nil
		}
		out[k] = pages
	}
	for k, pages := range out {
		if !slices.EqualFunc(pages, first[k], func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
			return out
		}
	}
	return nil
}

func quoteCursor(c string) string {
	return `"` + excerpt([]byte(c), 64) + `"`
}

func listMethod(k manifest.Kind) string {
	switch k {
	case manifest.KindTool:
		return methodTools
	case manifest.KindPrompt:
		return methodPrompts
	case manifest.KindResource:
		return methodResources
	default:
		return methodTemplates
	}
}

// callList sends one list request through the SDK. Its typed result is
// empty (the recorder strips it, see recorder.receive) and discarded: the
// page is taken from the raw capture.
func callList(ctx context.Context, cs *mcp.ClientSession, k manifest.Kind, cursor string) error {
	var err error
	switch k {
	case manifest.KindTool:
		_, err = cs.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
	case manifest.KindPrompt:
		_, err = cs.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: cursor})
	case manifest.KindResource:
		_, err = cs.ListResources(ctx, &mcp.ListResourcesParams{Cursor: cursor})
	default:
		_, err = cs.ListResourceTemplates(ctx, &mcp.ListResourceTemplatesParams{Cursor: cursor})
	}
	return err
}

// inspectPage returns the number of entries in a raw list result and its
// next cursor.
func inspectPage(k manifest.Kind, raw json.RawMessage) (int, string, error) {
	items, next, err := manifest.Page(k, raw)
	if err != nil {
		return 0, "", newKindError(ErrProtocol, "%s result: %v", listMethod(k), err)
	}
	return len(items), next, nil
}

// isRPCError reports whether err is the server's JSON-RPC error answer,
// not a transport failure.
func isRPCError(err error) bool {
	_, ok := jsonrpcError(err)
	return ok
}

func isMethodNotFound(err error) bool {
	werr, ok := jsonrpcError(err)
	return ok && werr.Code == codeMethodNotFound
}

// classify explains a failed SDK call: a limit or protocol problem a
// transport recorded, the deadline, or the stdio process having exited,
// before the SDK's own error.
func (p *prober) classify(ctx context.Context, err error) error {
	if f := p.rec.fatalErr(); f != nil {
		return f
	}
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), errDeadline) {
			return newKindError(ErrTimeout, "probe did not finish within %s (timeout)", p.t.Timeout)
		}
		return fmt.Errorf("probe cancelled: %w", ctx.Err())
	}
	if p.proc != nil {
		wait := exitCheckWait
		if d, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(d))
		}
		if waitFor(p.proc.exited, wait) {
			p.proc.stop(0)
			return newKindError(ErrProcessExited, "server process exited: %s", p.proc.status())
		}
		if ctx.Err() != nil {
			return newKindError(ErrTimeout, "probe did not finish within %s (timeout)", p.t.Timeout)
		}
	}
	return err
}

// closeSession closes the session within what is left of the deadline.
// Everything has been captured by then, so a server that does not close in
// time (a hanging DELETE) is logged, not failed: the probe still returns by
// its deadline, and teardown ends whatever is left.
func (p *prober) closeSession(ctx context.Context) {
	cs := p.session
	if cs == nil {
		return
	}
	p.session = nil
	done := make(chan error, 1)
	go func() { done <- cs.Close() }()
	select {
	case err := <-done:
		if err != nil {
			p.log.Debug("closing session", "error", p.redactor.Err(err).Error())
		}
	case <-ctx.Done():
		p.log.Warn("server did not close the session before the deadline; the capture is complete",
			"timeout", p.t.Timeout)
	}
}

// teardown releases everything: session, process group, HTTP connections.
// It is bounded by what is left of the deadline; past it, the process
// group gets SIGKILL at once.
func (p *prober) teardown(ctx context.Context) {
	grace := time.Duration(0)
	if d, ok := ctx.Deadline(); ok {
		grace = max(0, time.Until(d))
	}
	if cs := p.session; cs != nil {
		p.session = nil
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = cs.Close()
		}()
		waitFor(done, grace)
	}
	if p.proc != nil {
		p.proc.stop(grace)
	}
	if p.httpc != nil {
		p.httpc.base.CloseIdleConnections()
	}
}

// wrap turns a run error into an *Error, redacted, with the stderr tail.
func (p *prober) wrap(err error) *Error {
	if p.proc != nil {
		if d := npxDiagnosis(p.proc.target(p.t), err, p.proc.stderr.Bytes()); d != nil {
			err = fmt.Errorf("%w; %w", err, d)
		}
	}
	e := &Error{Server: p.t.Name, Phase: p.phase, Err: p.redactor.Err(err)}
	if p.proc != nil {
		e.Stderr = p.proc.stderrTail(p.redactor)
	}
	return e
}

// connectTagger marks errors from a transport's Connect (the SSE GET) so
// that they are reported in the "connect" phase.
type connectTagger struct{ inner mcp.Transport }

func (t *connectTagger) Connect(ctx context.Context) (mcp.Connection, error) {
	c, err := t.inner.Connect(ctx)
	if err != nil {
		return nil, &connectError{err}
	}
	return c, nil
}

type connectError struct{ err error }

func (e *connectError) Error() string { return e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

func isConnectError(err error) bool {
	var ce *connectError
	if errors.As(err, &ce) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// serverInfo extracts the raw serverInfo from an initialize result or a
// discover result's _meta.
func serverInfo(init json.RawMessage) json.RawMessage {
	var obj struct {
		ServerInfo json.RawMessage            `json:"serverInfo"`
		Meta       map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(init, &obj) != nil {
		return nil
	}
	if len(obj.ServerInfo) > 0 {
		return obj.ServerInfo
	}
	return obj.Meta[metaServerInfo]
}

// advertisedCapabilities extracts the client capabilities object from the
// params of the handshake request that was sent.
func advertisedCapabilities(handshake string, params json.RawMessage) json.RawMessage {
	var obj struct {
		Capabilities json.RawMessage            `json:"capabilities"`
		Meta         map[string]json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(params, &obj) != nil {
		return json.RawMessage("{}")
	}
	caps := obj.Capabilities
	if handshake == methodDiscover {
		caps = obj.Meta[metaClientCaps]
	}
	if len(caps) == 0 {
		return json.RawMessage("{}")
	}
	return caps
}

// Redactor returns a redactor for the target's secrets: every env and
// header value, and the URL's credentials and query values, shown as
// [REDACTED:env.NAME], [REDACTED:headers.NAME], [REDACTED:url.query.NAME].
// Probe and Watch apply it to every error and log record they produce;
// callers apply it to errors of their own about the target.
func (t Target) Redactor() *redact.Redactor {
	var secrets []redact.Secret
	for k, v := range t.Env {
		secrets = append(secrets, redact.Env("env."+k, k, v, t.ExternalEnv[k])...)
	}
	for k, v := range t.Headers {
		secrets = append(secrets, redact.Header("headers."+k, v)...)
	}
	secrets = append(secrets, redact.URLParts("url", t.URL, false)...)
	return redact.New(secrets...)
}
