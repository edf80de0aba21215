package admin

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListenSocketMode(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "new", "admin.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode = %v, want socket 0660", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o750 {
		t.Errorf("created directory mode = %v, want 0750", di.Mode().Perm())
	}
	if ln.Addr().String() != path || ln.Addr().Network() != "unix" {
		t.Errorf("Addr = %s %s, want unix %s", ln.Addr().Network(), ln.Addr(), path)
	}
	// Nothing but the socket and its lock is left in the directory.
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "admin.sock admin.sock.lock" {
		t.Errorf("directory holds %q", names)
	}
}

// A socket left by a dead daemon is replaced, and the new one works.
func TestListenReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "admin.sock")
	dead, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	dead.SetUnlinkOnClose(false)
	dead.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}

	ts := serveAt(t, path, &fake{}, Options{})
	if _, err := dial(t, ts.path).Ping(context.Background()); err != nil {
		t.Errorf("ping through the replacement socket: %v", err)
	}
}

// A live socket is never taken over, whether an mcpdrift daemon (which
// holds the lock) or anything else listens on it.
func TestListenRefusesLiveSocket(t *testing.T) {
	t.Run("daemon", func(t *testing.T) {
		path := filepath.Join(shortTempDir(t), "admin.sock")
		ts := serveAt(t, path, &fake{}, Options{})
		_, err := Listen(path)
		if !errors.Is(err, ErrDaemonRunning) || !strings.Contains(err.Error(), "another daemon is listening") || !strings.Contains(err.Error(), path) {
			t.Fatalf("second Listen: %v, want ErrDaemonRunning naming %s", err, path)
		}
		if _, err := dial(t, ts.path).Ping(context.Background()); err != nil {
			t.Errorf("the first daemon stopped answering: %v", err)
		}
	})
	t.Run("foreign listener", func(t *testing.T) {
		path := filepath.Join(shortTempDir(t), "admin.sock")
		other, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		_, err = Listen(path)
		if !errors.Is(err, ErrDaemonRunning) || !strings.Contains(err.Error(), "another daemon is listening on "+path) {
			t.Fatalf("Listen: %v, want ErrDaemonRunning naming %s", err, path)
		}
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("the live socket was disturbed: %v", err)
		}
		c.Close()
	})
}

func TestListenRefusesNonSocket(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "admin.sock")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen over a regular file: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "precious" {
		t.Errorf("file changed: %q %v", b, err)
	}
}

func TestListenPathTooLong(t *testing.T) {
	path := "/tmp/" + strings.Repeat("x", 120) + "/admin.sock"
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Fatalf("Listen(%d bytes): %v", len(path), err)
	}
}

// Closing the listener removes the socket and releases the lock, so the
// next daemon starts cleanly; a socket that another daemon put there since
// is left alone.
func TestListenerClose(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "admin.sock")
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("socket left after Close: %v", err)
	}
	ln2, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	defer ln2.Close()

	// A listener whose file was replaced must not remove the replacement.
	first := ln2.(*socketListener)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	other, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	first.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("Close removed a socket it did not create: %v", err)
	}
}

// Serve refuses anything but a unix socket.
func TestServeRefusesTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback TCP: %v", err)
	}
	defer ln.Close()
	err = Serve(context.Background(), ln, &fake{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "unix-socket only") {
		t.Fatalf("Serve on TCP: %v", err)
	}
}

func TestDialNoDaemon(t *testing.T) {
	dir := shortTempDir(t)
	dead := filepath.Join(dir, "dead.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: dead, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	notSock := filepath.Join(dir, "file")
	if err := os.WriteFile(notSock, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path string }{
		{"missing", filepath.Join(dir, "missing.sock")},
		{"missing directory", filepath.Join(dir, "nope", "admin.sock")},
		{"dead", dead},
		{"not a socket", notSock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			c, err := Dial(context.Background(), tt.path)
			if took := time.Since(start); took > time.Second {
				t.Errorf("Dial took %s", took)
			}
			if !errors.Is(err, ErrNoDaemon) {
				t.Fatalf("Dial = %v, %v; want ErrNoDaemon", c, err)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not name the socket", err)
			}
		})
	}
}

func TestDialAny(t *testing.T) {
	dir := shortTempDir(t)
	live := filepath.Join(dir, "live.sock")
	serveAt(t, live, &fake{}, Options{})
	missing := filepath.Join(dir, "missing.sock")

	c, err := DialAny(context.Background(), []string{missing, live})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Path() != live {
		t.Errorf("dialled %s, want %s", c.Path(), live)
	}
	if _, err := DialAny(context.Background(), []string{missing, filepath.Join(dir, "other.sock")}); !errors.Is(err, ErrNoDaemon) {
		t.Errorf("DialAny with no daemon: %v", err)
	}
}

// A daemon that goes away after Dial makes calls fail with ErrNoDaemon,
// so the CLI knows the request never reached it.
func TestDaemonGone(t *testing.T) {
	ts := serve(t, &fake{}, Options{})
	c := dial(t, ts.path)
	if err := ts.stop(t); err != nil {
		t.Fatalf("Serve returned %v", err)
	}
	c.Close() // drop the kept-alive connection, as a new CLI run would have none
	_, err := c.Status(context.Background(), nil)
	if !errors.Is(err, ErrNoDaemon) {
		t.Errorf("Status after shutdown: %v, want ErrNoDaemon", err)
	}
}

func TestConnect(t *testing.T) {
	dir := shortTempDir(t)
	t.Setenv("RUNTIME_DIRECTORY", dir)
	db := filepath.Join(dir, "db", "mcpdrift.db")
	if _, err := os.Lstat(filepath.Join(RunDir, SocketName)); err != nil {
		// Only where no system daemon runs can "no daemon" be asserted.
		if _, err := Connect(context.Background(), "", db); !errors.Is(err, ErrNoDaemon) {
			t.Fatalf("Connect with no daemon: %v", err)
		}
	}
	ts := serve(t, &fake{}, Options{})
	serveAt(t, filepath.Join(dir, SocketName), &fake{}, Options{})

	c, err := Connect(context.Background(), "", db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Path() != filepath.Join(dir, SocketName) {
		t.Errorf("found %s, want the runtime directory's socket", c.Path())
	}
	c2, err := Connect(context.Background(), ts.path, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.Path() != ts.path {
		t.Errorf("explicit path: dialled %s, want %s", c2.Path(), ts.path)
	}
}
