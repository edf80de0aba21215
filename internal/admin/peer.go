package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// userLookupTimeout bounds resolving a uid to a name: with NSS backed by a
// directory service the lookup can hang, and an approval is better recorded
// as "uid:N" than not at all.
const userLookupTimeout = 2 * time.Second

// Peer is the process at the other end of an admin connection, as the
// kernel reports it (SO_PEERCRED on Linux): never what the client claims.
type Peer struct {
	UID int `json:"uid"`
	GID int `json:"gid"`
	// PID is the peer's process id when connecting; 0 where the platform
	// does not report it.
	PID int `json:"pid,omitempty"`
	// User is the OS user name of UID, or "uid:N" when it has none.
	User string `json:"user"`
}

// peerConn is what ConnContext stores per connection. The credentials are
// read in the accept loop (one syscall); the name is resolved lazily, in
// the handler, because a slow user lookup must not hold up other clients.
type peerConn struct {
	peer Peer
	err  error
	once sync.Once
}

type peerKey struct{}

// withPeer reads the connection's peer credentials into ctx.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	pc := &peerConn{}
	pc.peer, pc.err = connCred(c)
	return context.WithValue(ctx, peerKey{}, pc)
}

// PeerFromContext returns the peer of the admin connection a request came
// in on, for a Service implementation that wants to log who asked. ok is
// false outside an admin request or when the kernel gave no credentials.
func PeerFromContext(ctx context.Context) (p Peer, ok bool) {
	p, err := peerOf(ctx)
	return p, err == nil
}

func peerOf(ctx context.Context) (Peer, error) {
	pc, _ := ctx.Value(peerKey{}).(*peerConn)
	if pc == nil {
		return Peer{}, errors.New("no peer credentials: not an admin socket connection")
	}
	if pc.err != nil {
		return Peer{}, pc.err
	}
	pc.once.Do(func() { pc.peer.User = lookupUser(pc.peer.UID, user.LookupId, userLookupTimeout) })
	return pc.peer, nil
}

// lookupUser names uid, falling back to "uid:N" when the lookup fails,
// finds no name or takes longer than timeout.
func lookupUser(uid int, lookup func(string) (*user.User, error), timeout time.Duration) string {
	fallback := "uid:" + strconv.Itoa(uid)
	done := make(chan string, 1) // buffered: a late lookup must not leak a blocked goroutine
	go func() {
		u, err := lookup(strconv.Itoa(uid))
		if err != nil || u == nil || u.Username == "" {
			done <- fallback
			return
		}
		done <- u.Username
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case name := <-done:
		return name
	case <-t.C:
		return fallback
	}
}

// connCred reads the kernel's credentials of c's peer.
func connCred(c net.Conn) (Peer, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return Peer{}, fmt.Errorf("peer credentials: %T is not a socket", c)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var p Peer
	var credErr error
	if err := raw.Control(func(fd uintptr) { p, credErr = fdCred(int(fd)) }); err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	if credErr != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", credErr)
	}
	return p, nil
}
