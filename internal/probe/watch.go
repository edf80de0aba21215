package probe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// ErrNoListChanged reports a server that advertises listChanged for none of
// its tools, prompts and resources: a watch session would never hear of a
// change, so Watch does not hold one open.
var ErrNoListChanged = errors.New("server advertises no listChanged capability")

// watchTeardown bounds the teardown of a watch session: closing the
// session, then the stdio server's process group (SIGTERM, then SIGKILL).
const watchTeardown = 2 * time.Second

// WatchOptions configure Watch.
type WatchOptions struct {
	// OnChange is called with "tools", "prompts" or "resources" for every
	// list_changed notification the server sends. It runs on the
	// transport's read path and must not block. A notification is a reason
	// to take a new snapshot on a fresh session, never drift by itself.
	OnChange func(list string)
	// OnReady, if set, is called once the session is established and the
	// server has been found to advertise listChanged.
	OnReady func()
	// OnSession, if set, makes the watch session a long-lived client: it
	// lists everything once as soon as it is open (as a client does on
	// connecting), then OnSession receives it, to list again in the same
	// session when the caller decides (as a client does on list_changed).
	// A server may answer a session's later lists otherwise than its
	// first, or otherwise than a fresh session: only this session sees
	// what a client that keeps its session sees. Called before OnReady;
	// the session lists until Watch returns.
	OnSession func(*WatchSession)
	// PingInterval, when positive, pings the server that often; a ping that
	// fails within the target's timeout ends the watch with an error, so
	// that a silently dead session is noticed and reopened.
	PingInterval time.Duration
}

// Watch holds one session open to t, with the same transports, limits,
// client identity and allow-list as Probe (plus the 2026-07-28
// subscriptions/listen request), and reports list_changed notifications to
// opts.OnChange. It lists nothing unless opts.OnSession is set (then it
// lists as a long-lived client does); the caller takes snapshots with
// Probe on fresh sessions. t.Timeout bounds connecting, each listing and
// each ping, not the session.
//
// Watch returns nil when ctx is cancelled, ErrNoListChanged (wrapped) when
// the server advertises no listChanged capability, and an *Error when the
// session cannot be opened or ends. A stdio server's process group is
// killed before it returns.
func Watch(ctx context.Context, t Target, opts WatchOptions) (err error) {
	p := newProber(t)
	p.watch = true
	p.rec.watch = true
	p.rec.onNotify = func(method string) {
		if list := changedList(method); list != "" && opts.OnChange != nil {
			opts.OnChange(list)
		}
	}
	life, endLife := context.WithCancel(context.WithoutCancel(ctx))
	p.life = life
	defer func() {
		if r := recover(); r != nil {
			p.log.Error("watch panicked", "panic", p.redactor.Replace(fmt.Sprint(r)), "stack", string(debug.Stack()))
			err = p.wrap(newKindError(ErrPanic, "watch panicked: %v", r))
		}
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), watchTeardown)
		p.teardown(tctx)
		cancel()
		endLife()
	}()

	cs, err := p.openWatch(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return p.wrap(err)
	}
	p.session = cs
	if !advertisesListChanged(cs.InitializeResult()) {
		return p.wrap(ErrNoListChanged)
	}
	p.phase = "watch"
	p.log.Debug("watch session open", "protocol", cs.InitializeResult().ProtocolVersion)
	ws := &WatchSession{p: p, cs: cs}
	defer ws.close()
	if opts.OnSession != nil {
		// The session's first list, as a client's on connecting: what
		// the caller lists later is a later list of this session.
		if _, err := ws.List(ctx); err != nil {
			if f := p.rec.fatalErr(); f != nil {
				return p.wrap(f)
			}
			if ctx.Err() != nil {
				return nil
			}
			p.log.Debug("watch session's first list failed", "error", p.redactor.Err(err).Error())
		}
		opts.OnSession(ws)
	}
	if opts.OnReady != nil {
		opts.OnReady()
	}

	ended := make(chan error, 1)
	go func() { ended <- cs.Wait() }()
	var tick <-chan time.Time
	if opts.PingInterval > 0 {
		tk := time.NewTicker(opts.PingInterval)
		defer tk.Stop()
		tick = tk.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-ended:
			ws.close() // a List in flight is done with the prober
			p.session = nil
			if f := p.rec.fatalErr(); f != nil {
				return p.wrap(f)
			}
			if err == nil {
				err = errors.New("session closed")
			}
			return p.wrap(fmt.Errorf("session ended: %w", err))
		case <-tick:
			if err := ws.ping(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				ws.close()
				return p.wrap(err)
			}
		}
	}
}

// openWatch starts the transport and connects within the target's timeout.
func (p *prober) openWatch(ctx context.Context) (*mcp.ClientSession, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.t.Timeout, errDeadline)
	defer cancel()
	opts, err := clientOptions(p.t.Client)
	if err != nil {
		return nil, err
	}
	opts.Logger = p.sdkLog
	// The handlers make the SDK subscribe (subscriptions/listen) on the
	// 2026-07-28 protocol. They never run: the recorder reports and drops
	// every notification below the SDK.
	opts.ToolListChangedHandler = func(context.Context, *mcp.ToolListChangedRequest) {}
	opts.PromptListChangedHandler = func(context.Context, *mcp.PromptListChangedRequest) {}
	opts.ResourceListChangedHandler = func(context.Context, *mcp.ResourceListChangedRequest) {}
	transport, err := p.transport()
	if err != nil {
		return nil, err
	}
	client := mcp.NewClient(&mcp.Implementation{Name: p.t.Client.Name, Version: p.t.Client.Version}, opts)
	p.phase = "initialize"
	cs, err := client.Connect(ctx, transport, &mcp.ClientSessionOptions{ProtocolVersion: p.t.ProtocolVersion})
	if err != nil {
		if isConnectError(err) {
			p.phase = "connect"
		}
		return nil, p.classify(ctx, err)
	}
	return cs, nil
}

// WatchSession is an open watch session that lists on request, in the
// session itself (see WatchOptions.OnSession). Its methods are safe for
// concurrent use; requests go one at a time.
type WatchSession struct {
	p  *prober
	cs *mcp.ClientSession

	// mu serializes the session's requests: listing and pinging share the
	// prober's phase and the recorder's captured results.
	mu     sync.Mutex
	closed bool
}

// errWatchClosed is List's error once Watch has returned.
var errWatchClosed = errors.New("watch session closed")

// List lists tools, prompts, resources and resource templates in the
// watch session, as Probe does in a fresh one (every list, advertised or
// not, within the target's timeout and limits), and returns the raw pages
// per kind: a kind the server served nothing of has no pages. A failure
// leaves the session open unless the server broke a limit, which ends it.
func (w *WatchSession) List(ctx context.Context) (map[manifest.Kind][]json.RawMessage, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, errWatchClosed
	}
	p := w.p
	ctx, cancel := context.WithTimeoutCause(ctx, p.t.Timeout, errDeadline)
	defer cancel()
	// Each listing is one manifest: max_manifest_bytes bounds it, not the
	// session's whole life.
	p.rec.restartCount()
	sc := w.cs.InitializeResult().Capabilities
	if sc == nil {
		sc = &mcp.ServerCapabilities{}
	}
	out := map[manifest.Kind][]json.RawMessage{}
	for _, k := range manifest.Kinds {
		advertised := sc.Tools != nil
		switch k {
		case manifest.KindPrompt:
			advertised = sc.Prompts != nil
		case manifest.KindResource, manifest.KindResourceTemplate:
			advertised = sc.Resources != nil
		}
		pages, err := p.list(ctx, w.cs, k, advertised)
		if err != nil {
			p.phase = "watch"
			return nil, p.wrap(err)
		}
		if len(pages) > 0 {
			out[k] = pages
		}
	}
	p.phase = "watch"
	return out, nil
}

func (w *WatchSession) ping(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.p.ping(ctx, w.cs)
}

// close ends listing: a List in flight finishes first.
func (w *WatchSession) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// restartCount starts counting captured bytes anew, for a watch session's
// next listing.
func (r *recorder) restartCount() {
	r.mu.Lock()
	r.total = 0
	r.mu.Unlock()
}

// ping checks that the session still answers within the target's timeout.
func (p *prober) ping(ctx context.Context, cs *mcp.ClientSession) error {
	ctx, cancel := context.WithTimeoutCause(ctx, p.t.Timeout, errDeadline)
	defer cancel()
	p.phase = "ping"
	err := cs.Ping(ctx, nil)
	if err == nil || isMethodNotFound(err) {
		p.phase = "watch"
		return nil
	}
	return p.classify(ctx, err)
}

// changedList maps a list_changed notification to its list, or "".
func changedList(method string) string {
	list, ok := strings.CutSuffix(strings.TrimPrefix(method, notificationPrefix), "/list_changed")
	if !ok || !strings.HasPrefix(method, notificationPrefix) {
		return ""
	}
	switch list {
	case "tools", "prompts", "resources":
		return list
	}
	return ""
}

func advertisesListChanged(init *mcp.InitializeResult) bool {
	if init == nil || init.Capabilities == nil {
		return false
	}
	c := init.Capabilities
	return (c.Tools != nil && c.Tools.ListChanged) ||
		(c.Prompts != nil && c.Prompts.ListChanged) ||
		(c.Resources != nil && c.Resources.ListChanged)
}

// allowedToWatch is what a watch session may send besides allowedToSend:
// the 2026-07-28 subscription request that carries list_changed.
func allowedToWatch(method string, isCall bool) bool {
	return isCall && method == "subscriptions/listen"
}
