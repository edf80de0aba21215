package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// MCP methods the probe deals with by name.
const (
	methodInitialize    = "initialize"
	methodDiscover      = "server/discover"
	methodTools         = "tools/list"
	methodPrompts       = "prompts/list"
	methodResources     = "resources/list"
	methodTemplates     = "resources/templates/list"
	metaClientCaps      = "io.modelcontextprotocol/clientCapabilities"
	metaServerInfo      = "io.modelcontextprotocol/serverInfo"
	notificationPrefix  = "notifications/"
	codeMethodNotFound  = jsonrpc.CodeMethodNotFound
	maxOutgoingBodySize = 1 << 20
)

// allowedToSend is the probe's allow-list: the only requests and
// notifications it ever puts on the wire. Everything that reads or runs
// something on the server (tools/call, prompts/get, resources/read,
// resources/subscribe, completion/complete, logging/setLevel...) is refused
// here, below the SDK, so no future bug above can call a tool.
func allowedToSend(method string, isCall bool) bool {
	if isCall {
		switch method {
		case methodInitialize, methodDiscover, "ping",
			methodTools, methodPrompts, methodResources, methodTemplates:
			return true
		}
		return false
	}
	switch method {
	case "notifications/initialized", "notifications/cancelled", "notifications/roots/list_changed":
		return true
	}
	return false
}

// captured reports whether the raw result of method is kept.
func captured(method string) bool {
	switch method {
	case methodInitialize, methodDiscover, methodTools, methodPrompts, methodResources, methodTemplates:
		return true
	}
	return false
}

// recorder sits between the SDK and the wire of one probe. It enforces the
// allow-list on what is sent, maps request ids to methods, keeps the raw
// result of every captured response, counts bytes against the limits, and
// remembers the first fatal problem a transport saw, which explains the
// SDK's often generic "connection closed".
type recorder struct {
	limits Limits
	// watch allows what a watch session needs besides a probe: the
	// subscriptions/listen request of the 2026-07-28 protocol.
	watch bool
	// onNotify, when set, is called with the method of every notification
	// the server sends, before it is dropped. It is called with mu held and
	// must not block.
	onNotify func(method string)

	mu      sync.Mutex
	pending map[jsonrpc.ID]string      // outgoing call id -> method
	params  map[string]json.RawMessage // initialize/discover -> params sent
	results map[string]json.RawMessage // method -> newest unclaimed raw result
	total   int64                      // bytes of captured results
	dropped int                        // server notifications dropped
	fatal   error                      // first fatal problem
	initRaw map[string]json.RawMessage // initialize/discover results
}

func newRecorder(l Limits) *recorder {
	return &recorder{
		limits:  l,
		pending: map[jsonrpc.ID]string{},
		params:  map[string]json.RawMessage{},
		results: map[string]json.RawMessage{},
		initRaw: map[string]json.RawMessage{},
	}
}

// fail records err as the fatal problem unless one is already recorded, and
// returns the recorded one.
func (r *recorder) fail(err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal == nil {
		r.fatal = err
	}
	return r.fatal
}

func (r *recorder) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// send checks and records an outgoing message. A refused request is also
// recorded as fatal: the probe stops rather than carry on half-broken.
func (r *recorder) send(msg jsonrpc.Message) error {
	req, ok := msg.(*jsonrpc.Request)
	if !ok {
		return nil // a response to a server request (ping, roots, refusals)
	}
	if !allowedToSend(req.Method, req.IsCall()) && (!r.watch || !allowedToWatch(req.Method, req.IsCall())) {
		err := newKindError(ErrForbiddenMethod, "refused to send %q: not on the probe's allow-list", req.Method)
		return r.fail(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.IsCall() {
		r.pending[req.ID] = req.Method
	}
	if req.Method == methodInitialize || req.Method == methodDiscover {
		r.params[req.Method] = bytes.Clone(req.Params)
	}
	return nil
}

// setOnNotify sets onNotify; the transports may be reading it already.
func (r *recorder) setOnNotify(f func(method string)) {
	r.mu.Lock()
	r.onNotify = f
	r.mu.Unlock()
}

// receive records an incoming message and reports whether to pass it on to
// the SDK. Server notifications are dropped: a probe needs none of them
// (list_changed is ignored by design) and a flood of them must not queue up
// in the SDK.
//
// A captured list result is replaced in msg by an empty list (stripped is
// true): the probe reads pages and cursors from the raw capture and throws
// the SDK's typed result away, so having the SDK decode every tool and
// schema a second time would only cost time, and would let a hostile page
// reach the SDK's decoder at all.
func (r *recorder) receive(msg jsonrpc.Message) (forward, stripped bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fatal != nil {
		return false, false, r.fatal
	}
	switch m := msg.(type) {
	case *jsonrpc.Request:
		if !m.IsCall() {
			r.dropped++
			if r.onNotify != nil {
				r.onNotify(m.Method)
			}
			return false, false, nil
		}
		return true, false, nil
	case *jsonrpc.Response:
		method, ok := r.pending[m.ID]
		if !ok {
			return true, false, nil // unknown or answered id: the SDK ignores it
		}
		delete(r.pending, m.ID)
		if m.Error != nil || !captured(method) {
			return true, false, nil
		}
		size := int64(len(m.Result))
		if size > r.limits.MaxResponseBytes {
			r.fatal = errResponseTooLarge(r.limits.MaxResponseBytes)
			return false, false, r.fatal
		}
		if r.total+size > r.limits.MaxManifestBytes {
			r.fatal = errManifestTooLarge(r.limits.MaxManifestBytes)
			return false, false, r.fatal
		}
		r.total += size
		raw := json.RawMessage(bytes.Clone(m.Result))
		if method == methodInitialize || method == methodDiscover {
			r.initRaw[method] = raw
			return true, false, nil
		}
		r.results[method] = raw
		m.Result = emptyList(method)
		return true, true, nil
	}
	return true, false, nil
}

// emptyList is the result of list method with no entries and no cursor.
func emptyList(method string) json.RawMessage {
	switch method {
	case methodTools:
		return json.RawMessage(`{"tools":[]}`)
	case methodPrompts:
		return json.RawMessage(`{"prompts":[]}`)
	case methodResources:
		return json.RawMessage(`{"resources":[]}`)
	default:
		return json.RawMessage(`{"resourceTemplates":[]}`)
	}
}

// take returns and forgets the newest raw result of a list method.
func (r *recorder) take(method string) (json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	raw, ok := r.results[method]
	if !ok {
		return nil, fmt.Errorf("no raw %s result was captured", method)
	}
	delete(r.results, method)
	return raw, nil
}

// handshake returns the raw result of the handshake the session settled on
// (initialize after a failed or refused discover, else discover), with the
// method and the params that were sent for it.
func (r *recorder) handshake() (method string, result, params json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range []string{methodInitialize, methodDiscover} {
		if raw, ok := r.initRaw[m]; ok {
			return m, raw, r.params[m]
		}
	}
	return "", nil, nil
}

func (r *recorder) bytesCaptured() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

func (r *recorder) droppedNotifications() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// jsonrpcError extracts a JSON-RPC error from err's chain.
func jsonrpcError(err error) (*jsonrpc.Error, bool) {
	var werr *jsonrpc.Error
	if errors.As(err, &werr) {
		return werr, true
	}
	return nil, false
}
