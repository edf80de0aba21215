package admin

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/service"
)

// notFromProbe refuses a request from a descendant of the daemon: the
// daemon starts nothing but the stdio servers it probes, so such a process
// is a probed server or something it left behind (detached children of
// probes re-parent to the daemon, a child subreaper). The sandbox keeps
// the socket out of their reach; this is the second line.
func (h *handler) notFromProbe(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h.checkAncestry(r.Context()); err != nil {
			h.log.Warn("admin request refused", "endpoint", r.Method+" "+r.URL.Path, "err", err)
			h.fail(w, r, err)
			return
		}
		next(w, r)
	}
}

// checkAncestry returns ErrForbidden when the peer descends from the
// daemon. Where the kernel names no peer process (no SO_PEERCRED pid),
// there is nothing to check.
func (h *handler) checkAncestry(ctx context.Context) error {
	p, ok := PeerFromContext(ctx)
	if !ok || p.PID <= 0 || p.PID == h.opts.DaemonPID {
		// No credentials: writes are refused by writer; the daemon
		// itself (an in-process client) is no probe.
		return nil
	}
	desc, err := descendantOf(p.PID, h.opts.DaemonPID)
	switch {
	case desc:
		return fmt.Errorf("%w: the request comes from process %d, which the daemon (pid %d) started: processes started by a probe of an MCP server may not use the admin socket; run mcpdrift from an operator's shell",
			service.ErrForbidden, p.PID, h.opts.DaemonPID)
	case err != nil && p.UID == os.Getuid():
		// The daemon's probes run as its user: a process of that user
		// whose ancestry cannot be read is refused rather than trusted.
		return fmt.Errorf("%w: cannot verify that process %d (uid %d) was not started by the daemon: %w",
			service.ErrForbidden, p.PID, p.UID, err)
	default:
		// Another user's process the daemon may not inspect (/proc
		// mounted with hidepid) is not one of its probes.
		return nil
	}
}

// writer returns the peer of a request that changes baselines (approve,
// import), or why it is refused: no kernel credentials, or not one of
// admin.operators when those are set.
func (h *handler) writer(ctx context.Context, what string) (Peer, error) {
	p, err := peerOf(ctx)
	if err != nil {
		return Peer{}, fmt.Errorf("refusing to %s: cannot tell who is asking: %w", what, err)
	}
	var ops []string
	if h.opts.Operators != nil {
		ops = h.opts.Operators()
	}
	if len(ops) == 0 || slices.Contains(ops, p.User) || slices.Contains(ops, "uid:"+strconv.Itoa(p.UID)) {
		return p, nil
	}
	if p.UID == os.Getuid() {
		return Peer{}, fmt.Errorf("%w: refusing to %s as %s (uid %d), the daemon's own user: admin.operators names the users who may (%s), and a process the daemon started runs as this user; run mcpdrift as one of them",
			service.ErrForbidden, what, p.User, p.UID, strings.Join(ops, ", "))
	}
	return Peer{}, fmt.Errorf("%w: refusing to %s as %s (uid %d): not in admin.operators (%s)",
		service.ErrForbidden, what, p.User, p.UID, strings.Join(ops, ", "))
}
