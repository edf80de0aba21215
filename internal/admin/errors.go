package admin

import (
	"errors"

	"github.com/mcpdrift/mcpdrift/internal/service"
	"github.com/mcpdrift/mcpdrift/store"
)

var (
	// ErrNoDaemon reports that no daemon answers on the admin socket: the
	// socket file is absent, or nothing listens on it any more. The CLI
	// then opens the database itself.
	ErrNoDaemon = errors.New("no daemon is listening")

	// ErrDaemonRunning reports that Listen found a live daemon on the
	// socket path (or holding its lock); it never takes the path over.
	ErrDaemonRunning = errors.New("another daemon is listening")
)

// Error kinds on the wire. The kind, not the HTTP status, decides which
// sentinel a client error wraps.
const (
	KindUsage     = "usage"     // service.ErrUsage, HTTP 400
	KindNotFound  = "not_found" // service.ErrNotFound, HTTP 404
	KindConflict  = "conflict"  // store.ErrConflict, HTTP 409
	KindForbidden = "forbidden" // service.ErrForbidden, HTTP 403
	KindInternal  = "internal"  // anything else, HTTP 500
)

// RemoteError is an error the daemon returned. Error() is the daemon's
// message verbatim, so the CLI prints exactly what a local run would have;
// errors.Is sees the sentinel its kind names (service.ErrUsage,
// service.ErrNotFound, store.ErrConflict, service.ErrForbidden).
type RemoteError struct {
	Kind    string
	Message string
	// Status is the HTTP status the daemon answered with.
	Status int
}

func (e *RemoteError) Error() string { return e.Message }

// Unwrap returns the sentinel of the error's kind, or nil.
func (e *RemoteError) Unwrap() error {
	switch e.Kind {
	case KindUsage:
		return service.ErrUsage
	case KindNotFound:
		return service.ErrNotFound
	case KindConflict:
		return store.ErrConflict
	case KindForbidden:
		return service.ErrForbidden
	default:
		return nil
	}
}

// kindOf classifies a service error for the wire.
func kindOf(err error) (kind string, status int) {
	switch {
	case errors.Is(err, service.ErrUsage):
		return KindUsage, 400
	case errors.Is(err, service.ErrNotFound):
		return KindNotFound, 404
	case errors.Is(err, store.ErrConflict):
		return KindConflict, 409
	case errors.Is(err, service.ErrForbidden):
		return KindForbidden, 403
	default:
		return KindInternal, 500
	}
}

// kindOfStatus classifies a reply that carried no kind (not from an
// mcpdrift daemon, or a proxy in between).
func kindOfStatus(status int) string {
	switch {
	case status == 404:
		return KindNotFound
	case status == 409:
		return KindConflict
	case status == 403:
		return KindForbidden
	case status >= 400 && status < 500:
		return KindUsage
	default:
		return KindInternal
	}
}
