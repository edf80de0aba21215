package systemd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listen opens a unixgram socket like the service manager's, at a path or
// (name starting with "@") in the abstract namespace.
func listen(t *testing.T, abstract bool) (name string, conn *net.UnixConn) {
	t.Helper()
	if abstract {
		name = fmt.Sprintf("@mcpdrift-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	} else {
		// Short directory: sun_path holds 107 bytes, t.TempDir can exceed it.
		dir, err := os.MkdirTemp("", "sd")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		name = filepath.Join(dir, "notify")
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return name, conn
}

// recv reads one datagram, failing the test after a deadline.
func recv(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read notification: %v", err)
	}
	return string(buf[:n])
}

// assertNothing fails if a datagram is already queued. Unix datagrams are
// queued when the sender's write returns, so no waiting is needed.
func assertNothing(t *testing.T, conn *net.UnixConn) {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err == nil {
		t.Fatalf("unexpected notification %q", buf[:n])
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read: %v, want a timeout", err)
	}
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestMessages(t *testing.T) {
	for _, abstract := range []bool{false, true} {
		t.Run(fmt.Sprintf("abstract=%v", abstract), func(t *testing.T) {
			name, conn := listen(t, abstract)
			n := New(envOf(map[string]string{EnvNotifySocket: name}), os.Getpid())
			if !n.Enabled() {
				t.Fatal("Enabled() = false with NOTIFY_SOCKET set")
			}
			tests := []struct {
				name string
				send func() error
				want string
			}{
				{"ready", n.Ready, "READY=1"},
				{"stopping", n.Stopping, "STOPPING=1"},
				{"watchdog", n.Watchdog, "WATCHDOG=1"},
				{"status", func() error { return n.Status("probing 3 servers") }, "STATUS=probing 3 servers"},
				{"status cannot forge assignments", func() error { return n.Status("bad\nREADY=1\x00") }, "STATUS=bad READY=1 "},
				{"extend timeout", func() error { return n.ExtendTimeout(90 * time.Second) }, "EXTEND_TIMEOUT_USEC=90000000"},
				{"several", func() error { return n.Notify("READY=1", "STATUS=up") }, "READY=1\nSTATUS=up"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if err := tt.send(); err != nil {
						t.Fatalf("send: %v", err)
					}
					if got := recv(t, conn); got != tt.want {
						t.Errorf("got %q, want %q", got, tt.want)
					}
				})
			}
			t.Run("reloading", func(t *testing.T) {
				if err := n.Reloading(); err != nil {
					t.Fatal(err)
				}
				got := recv(t, conn)
				if !strings.HasPrefix(got, "RELOADING=1\nMONOTONIC_USEC=") {
					t.Errorf("got %q, want RELOADING=1 and MONOTONIC_USEC", got)
				}
			})
		})
	}
}

func TestStatusIsBounded(t *testing.T) {
	name, conn := listen(t, false)
	n := New(envOf(map[string]string{EnvNotifySocket: name}), 1)
	if err := n.Status(strings.Repeat("é", 1000)); err != nil {
		t.Fatal(err)
	}
	got := strings.TrimPrefix(recv(t, conn), "STATUS=")
	if len(got) > maxStatus || len(got) < maxStatus-1 {
		t.Errorf("status is %d bytes, want about %d", len(got), maxStatus)
	}
	if !strings.HasSuffix(got, "é") {
		t.Error("status cut inside a rune")
	}
}

func TestNoSocketIsNoOp(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"unset", map[string]string{}},
		{"empty", map[string]string{EnvNotifySocket: ""}},
		{"relative path", map[string]string{EnvNotifySocket: "notify.sock"}},
		{"vsock", map[string]string{EnvNotifySocket: "vsock:2:1234"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := New(envOf(tt.env), 1)
			if n.Enabled() {
				t.Error("Enabled() = true")
			}
			for _, err := range []error{n.Ready(), n.Stopping(), n.Watchdog(), n.Status("x"), n.Reloading()} {
				if err != nil {
					t.Errorf("got %v, want a silent no-op", err)
				}
			}
			if d, ok := n.WatchdogInterval(); ok {
				t.Errorf("WatchdogInterval() = %v, true without a socket", d)
			}
		})
	}
	var zero *Notifier
	if zero.Enabled() || zero.Ready() != nil {
		t.Error("nil Notifier is not a no-op")
	}
}

func TestNotifyErrors(t *testing.T) {
	name, _ := listen(t, false)
	n := New(envOf(map[string]string{EnvNotifySocket: name}), 1)
	for _, a := range []string{"READY=1\nSTATUS=x", "READY", "A=\x00"} {
		if err := n.Notify(a); err == nil {
			t.Errorf("Notify(%q) = nil, want an error", a)
		}
	}
	gone := New(envOf(map[string]string{EnvNotifySocket: name + ".missing"}), 1)
	if err := gone.Ready(); err == nil || !strings.Contains(err.Error(), "sd_notify") {
		t.Errorf("Ready to a missing socket: %v, want an sd_notify error", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	const pid = 4242
	tests := []struct {
		name   string
		env    map[string]string
		want   time.Duration
		wantOK bool
	}{
		{"unset", map[string]string{}, 0, false},
		{"usec only", map[string]string{EnvWatchdogUSec: "30000000"}, 30 * time.Second, true},
		{"our pid", map[string]string{EnvWatchdogUSec: "500000", EnvWatchdogPID: "4242"}, 500 * time.Millisecond, true},
		{"another pid", map[string]string{EnvWatchdogUSec: "500000", EnvWatchdogPID: "1"}, 0, false},
		{"bad pid", map[string]string{EnvWatchdogUSec: "500000", EnvWatchdogPID: "x"}, 0, false},
		{"zero", map[string]string{EnvWatchdogUSec: "0"}, 0, false},
		{"negative", map[string]string{EnvWatchdogUSec: "-5"}, 0, false},
		{"garbage", map[string]string{EnvWatchdogUSec: "30s"}, 0, false},
		{"huge", map[string]string{EnvWatchdogUSec: "9223372036854775807"}, time.Duration(1<<63-1) / time.Microsecond * time.Microsecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env[EnvNotifySocket] = "/run/systemd/notify"
			got, ok := New(envOf(tt.env), pid).WatchdogInterval()
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("WatchdogInterval() = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRunWatchdog(t *testing.T) {
	name, conn := listen(t, true)
	env := envOf(map[string]string{EnvNotifySocket: name, EnvWatchdogUSec: "20000"}) // 20ms: pings every 10ms
	n := New(env, os.Getpid())

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.RunWatchdog(ctx, func() bool { return true }, nil) }()
	for range 3 {
		if got := recv(t, conn); got != "WATCHDOG=1" {
			t.Fatalf("got %q, want WATCHDOG=1", got)
		}
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("RunWatchdog returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunWatchdog did not return after cancel")
	}
}

func TestRunWatchdogSkipsWhenNotAlive(t *testing.T) {
	name, conn := listen(t, false)
	n := New(envOf(map[string]string{EnvNotifySocket: name, EnvWatchdogUSec: "20000"}), os.Getpid())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	asked := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- n.RunWatchdog(ctx, func() bool {
			calls.Add(1)
			select {
			case asked <- struct{}{}:
			default:
			}
			return false
		}, nil)
	}()
	deadline := time.After(5 * time.Second)
	for range 3 {
		select {
		case <-asked:
		case <-deadline:
			t.Fatal("watchdog loop never asked whether the daemon is alive")
		}
	}
	assertNothing(t, conn)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("RunWatchdog returned %v", err)
	}
}

func TestRunWatchdogWithoutWatchdogReturns(t *testing.T) {
	name, _ := listen(t, false)
	n := New(envOf(map[string]string{EnvNotifySocket: name}), os.Getpid())
	done := make(chan error, 1)
	go func() { done <- n.RunWatchdog(context.Background(), nil, nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunWatchdog = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RunWatchdog blocked with no watchdog configured")
	}
}

func TestFromEnvReadsProcessEnv(t *testing.T) {
	name, conn := listen(t, false)
	t.Setenv(EnvNotifySocket, name)
	t.Setenv(EnvWatchdogUSec, "1000000")
	t.Setenv(EnvWatchdogPID, fmt.Sprint(os.Getpid()))
	if err := FromEnv().Ready(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, conn); got != "READY=1" {
		t.Errorf("got %q", got)
	}
	if err := FromEnv().Status("ok"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, conn); got != "STATUS=ok" {
		t.Errorf("got %q", got)
	}
	if err := FromEnv().Watchdog(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, conn); got != "WATCHDOG=1" {
		t.Errorf("got %q", got)
	}
	if err := FromEnv().Stopping(); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, conn); got != "STOPPING=1" {
		t.Errorf("got %q", got)
	}
	if d, ok := FromEnv().WatchdogInterval(); !ok || d != time.Second {
		t.Errorf("FromEnv().WatchdogInterval() = %v, %v; want 1s, true", d, ok)
	}
}
