package admin

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// Two daemons on one host, each holding its own database, and a client
// that finds both: it uses only the one holding the database it names,
// whichever socket that daemon answers on, and says why it skipped the
// other.
func TestConnect(t *testing.T) {
	dir := shortTempDir(t)
	ownDir, sysDir := filepath.Join(dir, "own"), filepath.Join(dir, "sys")
	dbA, dbB, dbC := touch(t, dir, "a.db"), touch(t, dir, "b.db"), filepath.Join(dir, "c.db")
	// The caller's own daemon listens in its $RUNTIME_DIRECTORY; "the
	// system daemon" in what this Locator calls the system directory.
	own := serveAt(t, filepath.Join(ownDir, SocketName), &fake{}, Options{Database: identify(t, dbA)})
	sys := serveAt(t, filepath.Join(sysDir, SocketName), &fake{}, Options{Database: identify(t, dbB)})
	loc := Locator{Env: func(k string) (string, bool) {
		if k == "RUNTIME_DIRECTORY" {
			return ownDir, true
		}
		return "", false
	}, UID: 1000, RunDir: sysDir}
	ctx := context.Background()

	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(dbA, link); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, explicit, db, want string
		ignored                  []string // sockets skipped, in order
	}{
		{"own daemon first", "", dbA, own.path, nil},
		{"own database through a symlink", "", link, own.path, nil},
		{"the other daemon's database", "", dbB, sys.path, []string{own.path}},
		{"no daemon holds it", "", dbC, "", []string{own.path, sys.path}},
		{"explicit socket of another database", sys.path, dbA, "", []string{sys.path}},
		{"explicit socket", own.path, dbA, own.path, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, ignored, err := Connect(ctx, tt.explicit, tt.db, loc)
			var skipped []string
			for _, ig := range ignored {
				skipped = append(skipped, ig.Socket)
				if ig.Reason == nil || !strings.Contains(ig.Reason.Error(), "it holds ") || ig.Daemon.PID != os.Getpid() {
					t.Errorf("ignored %s: reason %v, daemon %+v", ig.Socket, ig.Reason, ig.Daemon)
				}
			}
			if strings.Join(skipped, " ") != strings.Join(tt.ignored, " ") {
				t.Errorf("ignored %q, want %q", skipped, tt.ignored)
			}
			if tt.want == "" {
				if !errors.Is(err, ErrNoDaemon) {
					t.Fatalf("Connect = %v, %v; want ErrNoDaemon", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Path() != tt.want {
				t.Errorf("connected to %s, want %s", c.Path(), tt.want)
			}
		})
	}
}

// A socket that accepts and never answers, or a daemon that does not say
// which database it holds, is skipped with the reason.
func TestConnectSkipsUnidentified(t *testing.T) {
	dir := shortTempDir(t)
	db := touch(t, dir, "a.db")
	mute := filepath.Join(dir, "mute.sock")
	ln, err := net.Listen("unix", mute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	anon := serveAt(t, filepath.Join(dir, "anon.sock"), &fake{}, Options{})
	for _, tt := range []struct{ socket, reason string }{
		{mute, "not answering"},
		{anon.path, "does not say which database"},
	} {
		_, ignored, err := Connect(context.Background(), tt.socket, db, Locator{})
		if !errors.Is(err, ErrNoDaemon) || len(ignored) != 1 || !strings.Contains(ignored[0].Reason.Error(), tt.reason) {
			t.Errorf("%s: %v, ignored %+v; want ErrNoDaemon and %q", tt.socket, err, ignored, tt.reason)
		}
	}
}

// A plain user who may not use a daemon's socket (the system daemon's,
// for one) is not stopped by it: the socket is skipped with the reason,
// and the CLI goes on to open its own database.
func TestConnectSkipsSocketItMayNotUse(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	dir := shortTempDir(t) // 0700 root: uid 65534 may not reach the socket
	ts := serveAt(t, filepath.Join(dir, SocketName), &fake{}, Options{Database: identify(t, touch(t, dir, "a.db"))})
	// The test binary, where another user may run it.
	binDir, err := os.MkdirTemp("", "admbin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	if err := os.Chmod(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(binDir, "admin.test")
	if err := os.Link(os.Args[0], bin); err != nil {
		t.Skipf("cannot give the test binary to another user: %v", err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), envChildFind+"="+ts.path, envChildDB+"=/nonexistent/own.db")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, _ := cmd.CombinedOutput()
	for _, want := range []string{ErrNoDaemon.Error(), "skipped " + ts.path + ": ", "permission denied"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the other user's client said %q, want %q in it", out, want)
		}
	}
}

func touch(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func identify(t *testing.T, path string) Database {
	t.Helper()
	d, err := IdentifyDatabase(path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
