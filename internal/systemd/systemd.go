// Package systemd speaks the sd_notify protocol to the service manager:
// readiness, stopping, reload, status text and watchdog keep-alives, as
// datagrams on $NOTIFY_SOCKET (a path, or an abstract socket written
// "@name"). It needs no library and no cgo.
//
// It owns nothing but that socket conversation. Every call is a no-op when
// $NOTIFY_SOCKET is unset, so the daemon calls it unconditionally, in a
// container or a terminal as much as under systemd. It must not decide when
// the daemon is ready or healthy: the caller does.
package systemd

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Environment variables set by the service manager.
const (
	EnvNotifySocket = "NOTIFY_SOCKET"
	EnvWatchdogUSec = "WATCHDOG_USEC"
	EnvWatchdogPID  = "WATCHDOG_PID"
)

// sendTimeout bounds one datagram write. The service manager reads its
// notify socket promptly; a full buffer means it is wedged, and a daemon
// must not hang on it.
const sendTimeout = time.Second

// maxStatus bounds the STATUS= text. systemd shows one line in
// `systemctl status`; anything longer is noise.
const maxStatus = 512

// Notifier sends notifications to the service manager named by the
// environment it was built from. The zero value and a Notifier from an
// environment without $NOTIFY_SOCKET do nothing.
type Notifier struct {
	socket   string
	watchdog time.Duration
}

// New reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID through env
// (os.LookupEnv in production). pid is this process's id, compared with
// $WATCHDOG_PID: a watchdog meant for another process (a parent that
// exec'd us without clearing it) is ignored.
func New(env func(string) (string, bool), pid int) *Notifier {
	if env == nil {
		return &Notifier{}
	}
	n := &Notifier{}
	if s, ok := env(EnvNotifySocket); ok && validSocket(s) {
		n.socket = s
	}
	n.watchdog = watchdogInterval(env, pid)
	return n
}

// FromEnv is New for the current process.
func FromEnv() *Notifier { return New(os.LookupEnv, os.Getpid()) }

// validSocket accepts what sd_notify accepts: an absolute path or an
// abstract socket. Anything else (a relative path, a vsock address this
// package does not speak) disables notification rather than failing the
// daemon.
func validSocket(s string) bool {
	return len(s) > 1 && (s[0] == '/' || s[0] == '@')
}

func watchdogInterval(env func(string) (string, bool), pid int) time.Duration {
	usec, ok := env(EnvWatchdogUSec)
	if !ok {
		return 0
	}
	n, err := strconv.ParseUint(strings.TrimSpace(usec), 10, 63)
	if err != nil || n == 0 {
		return 0
	}
	if p, ok := env(EnvWatchdogPID); ok && p != "" {
		want, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || want != pid {
			return 0
		}
	}
	// Cap before converting so a huge value cannot overflow time.Duration.
	const maxUSec = uint64(1<<63-1) / uint64(time.Microsecond)
	if n > maxUSec {
		n = maxUSec
	}
	return time.Duration(n) * time.Microsecond
}

// Enabled reports whether a service manager is listening.
func (n *Notifier) Enabled() bool { return n != nil && n.socket != "" }

// WatchdogInterval returns WatchdogSec= of the unit and true when the
// service manager expects keep-alives from this process. Send one at least
// every interval/2 (RunWatchdog does).
func (n *Notifier) WatchdogInterval() (time.Duration, bool) {
	if n == nil || n.socket == "" || n.watchdog <= 0 {
		return 0, false
	}
	return n.watchdog, true
}

// Ready tells the service manager that start-up finished: the database is
// open, the admin socket and HTTP listener accept connections.
func (n *Notifier) Ready() error { return n.Notify("READY=1") }

// Stopping tells the service manager that shutdown began.
func (n *Notifier) Stopping() error { return n.Notify("STOPPING=1") }

// Reloading tells the service manager that a configuration reload began;
// send Ready when it is done. MONOTONIC_USEC lets systemd ≥ 253
// (Type=notify-reload) match the two; older versions ignore it.
func (n *Notifier) Reloading() error {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return n.Notify("RELOADING=1")
	}
	usec := ts.Nano() / int64(time.Microsecond)
	return n.Notify("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatInt(usec, 10))
}

// Watchdog sends one watchdog keep-alive.
func (n *Notifier) Watchdog() error { return n.Notify("WATCHDOG=1") }

// ExtendTimeout asks for d more before the current start-up, reload or
// stop step times out, e.g. while a long migration runs.
func (n *Notifier) ExtendTimeout(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	return n.Notify("EXTEND_TIMEOUT_USEC=" + strconv.FormatInt(d.Microseconds(), 10))
}

// Status sets the one-line status `systemctl status` shows. msg may come
// from a server's error text, so control characters are replaced: a
// newline would otherwise start a new assignment (a forged READY=1).
func (n *Notifier) Status(msg string) error {
	return n.Notify("STATUS=" + oneLine(msg, maxStatus))
}

// Notify sends the assignments (KEY=VALUE) as one datagram. It returns nil
// without doing anything when no service manager listens.
func (n *Notifier) Notify(assignments ...string) error {
	if !n.Enabled() || len(assignments) == 0 {
		return nil
	}
	for _, a := range assignments {
		if strings.ContainsAny(a, "\n\x00") || !strings.Contains(a, "=") {
			return fmt.Errorf("sd_notify: malformed assignment %q", oneLine(a, 64))
		}
	}
	addr := &net.UnixAddr{Name: n.socket, Net: "unixgram"} // Go maps a leading '@' to the abstract namespace
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return fmt.Errorf("sd_notify: connect to %s: %w", n.socket, err)
	}
	defer conn.Close()
	if err := conn.SetWriteDeadline(time.Now().Add(sendTimeout)); err != nil {
		return fmt.Errorf("sd_notify: %s: %w", n.socket, err)
	}
	if _, err := conn.Write([]byte(strings.Join(assignments, "\n"))); err != nil {
		return fmt.Errorf("sd_notify: send to %s: %w", n.socket, err)
	}
	return nil
}

// RunWatchdog sends a keep-alive every interval/2 for as long as alive
// reports true, until ctx is done. When alive returns false it skips the
// ping, so a wedged daemon is restarted by systemd instead of being kept
// alive by a timer that still works. It returns at once when no watchdog
// is expected, and returns ctx's error otherwise. Send errors are passed to
// onError (may be nil) and do not stop the loop.
func (n *Notifier) RunWatchdog(ctx context.Context, alive func() bool, onError func(error)) error {
	interval, ok := n.WatchdogInterval()
	if !ok {
		return nil
	}
	period := interval / 2
	if period <= 0 {
		period = interval
	}
	t := time.NewTicker(period)
	defer t.Stop()
	ping := func() {
		if alive != nil && !alive() {
			return
		}
		if err := n.Watchdog(); err != nil && onError != nil {
			onError(err)
		}
	}
	ping()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			ping()
		}
	}
}

// oneLine replaces control characters with spaces and truncates to max
// bytes on a rune boundary.
func oneLine(s string, limit int) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if b.Len()+len(string(r)) > limit {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
