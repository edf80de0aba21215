package probe

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. A failed probe returns an *Error whose chain matches one
// of these with errors.Is whenever the failure has a known cause; anything
// else (a refused connection, a JSON-RPC error from the server) is wrapped
// as it came.
var (
	// ErrInvalidTarget reports a Target that cannot be probed as given: no
	// command or URL, an unknown transport or client capability.
	ErrInvalidTarget = errors.New("invalid target")

	// ErrTooLarge reports a single response larger than max_response_bytes
	// or a capture larger than max_manifest_bytes. The response is abandoned
	// as soon as it crosses the limit, before it is held in memory.
	ErrTooLarge = errors.New("too large")

	// ErrTooManyPages reports a list that needed more than max_pages pages,
	// typically a server that hands out a new cursor forever.
	ErrTooManyPages = errors.New("too many pages")

	// ErrRepeatedCursor reports a list whose server handed out a cursor it
	// had already handed out in the same list: following it would loop.
	ErrRepeatedCursor = errors.New("repeated cursor")

	// ErrTooManyItems reports a list with more than max_items entries.
	ErrTooManyItems = errors.New("too many items")

	// ErrTimeout reports a probe that did not finish (connect, every list
	// and close) within the target's timeout.
	ErrTimeout = errors.New("timeout")

	// ErrProcessExited reports a stdio server whose process exited before
	// the probe was done with it.
	ErrProcessExited = errors.New("server process exited")

	// ErrProtocol reports a server that sent something that is not valid
	// JSON-RPC or not the shape MCP requires (a non-JSON line, a list result
	// that is not an object, a cursor that is not a string).
	ErrProtocol = errors.New("protocol violation")

	// ErrForbiddenMethod reports an attempt to send a request outside the
	// probe's allow-list (tools/call, prompts/get, resources/read...). The
	// request is never sent. Seeing it means a bug in mcpdrift, not in the
	// server.
	ErrForbiddenMethod = errors.New("forbidden method")

	// ErrPanic reports a panic inside a probe, recovered so that one server
	// cannot take down the others.
	ErrPanic = errors.New("panic")

	// ErrLauncherCache reports a server started through npx whose package
	// is not installed completely: the install was still running at the
	// deadline, or an interrupted install left the npx cache entry broken.
	// The message names the entry and the fix (mcpdrift prepare).
	ErrLauncherCache = errors.New("launcher package not installed")

	// ErrAuthRequired reports an OAuth-protected server that mcpdrift has
	// no usable grant for: never logged in, a refresh the authorization
	// server refused (revoked, expired, consent withdrawn), a token the
	// server rejected, or a step-up challenge for more scopes than
	// configured. The message names what a person has to do; the daemon
	// does not retry it in a loop or prompt.
	ErrAuthRequired = errors.New("authorization required")
)

// IsAuthRequiredMessage reports whether msg is the text of a probe *Error
// whose cause is ErrAuthRequired, for callers that only kept the text (a
// stored failure). The cause's text follows the server name and phase
// the probe itself writes, so a server cannot produce it with output of
// its own.
func IsAuthRequiredMessage(msg string) bool {
	rest, ok := strings.CutPrefix(msg, "server ")
	if !ok {
		return false
	}
	// server "NAME": PHASE: authorization required: ...
	if i := strings.Index(rest, `": `); i > 0 {
		rest = rest[i+3:]
	}
	phase, cause, ok := strings.Cut(rest, ": ")
	return ok && !strings.ContainsAny(phase, " \"") && strings.HasPrefix(cause, ErrAuthRequired.Error()+": ")
}

// Error is the error every failed probe returns. Its text never holds a
// header value, URL credentials or query, and server-sent text in it is
// escaped.
type Error struct {
	// Server is the target's name.
	Server string
	// Phase is what the probe was doing: "start", "connect", "initialize",
	// "tools/list", "prompts/list", "resources/list",
	// "resources/templates/list" or "close".
	Phase string
	// Err is the cause.
	Err error
	// Stderr is an escaped tail of a stdio server's standard error, or "".
	Stderr string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server %q: %s: ", e.Server, e.Phase)
	if e.Err != nil {
		b.WriteString(escapeText(e.Err.Error()))
	} else {
		b.WriteString("unknown error")
	}
	if e.Stderr != "" {
		b.WriteString(" (stderr: ")
		b.WriteString(e.Stderr)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// kindError is an error with its own text that still matches a sentinel,
// so messages read "response of more than 16 MiB exceeds max_response_bytes"
// rather than "too large: response of...".
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func newKindError(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func errResponseTooLarge(limit int64) error {
	return newKindError(ErrTooLarge, "response of more than %s exceeds max_response_bytes", formatBytes(limit))
}

func errManifestTooLarge(limit int64) error {
	return newKindError(ErrTooLarge, "manifest of more than %s exceeds max_manifest_bytes", formatBytes(limit))
}

// formatBytes renders a byte count the way limits are written: "16 MiB"
// when exact, otherwise a plain number of bytes.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
