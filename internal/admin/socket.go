package admin

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Socket file names and modes.
const (
	// RunDir is the directory of the root daemon's socket; the systemd unit
	// must say RuntimeDirectory=mcpdrift so that CLI and daemon agree on it.
	RunDir = "/run/mcpdrift"
	// SocketName is the socket's name in a runtime directory.
	SocketName = "admin.sock"
	// DBSocketName is the socket's name next to the database, the last
	// resort when there is no runtime directory.
	DBSocketName = "mcpdrift.sock"

	// SocketMode lets the daemon's user and group connect, nobody else:
	// operators join the daemon's group (the socket takes the daemon's
	// primary group, or the directory's group when it is setgid).
	SocketMode fs.FileMode = 0o660
	// dirMode is used only for a directory Listen creates.
	dirMode fs.FileMode = 0o750

	// connectTimeout bounds connecting to a socket; a live local socket
	// accepts in microseconds.
	connectTimeout = 300 * time.Millisecond
)

// Locator says where the admin sockets are for a process, from its
// environment and uid. Both are fields, never read from the process
// itself, so tests pass their own and reach no daemon outside them.
type Locator struct {
	// Env looks up an environment variable; nil means none is set.
	Env func(string) (string, bool)
	// UID is the process's user id.
	UID int
	// RunDir is the system daemon's runtime directory; empty means RunDir.
	RunDir string
}

func (l Locator) runDir() string {
	if l.RunDir == "" {
		return RunDir
	}
	return l.RunDir
}

// DefaultSocketPath is where the daemon listens when neither --socket nor
// admin.socket names a path, from the daemon's environment and uid and the
// database path. The first that applies wins:
//
//  1. $RUNTIME_DIRECTORY/admin.sock: systemd's RuntimeDirectory= (the first
//     one, when several are set);
//  2. /run/mcpdrift/admin.sock for root;
//  3. $XDG_RUNTIME_DIR/mcpdrift/admin.sock for any other user who has one;
//  4. <directory of the database>/mcpdrift.sock (containers, plain users).
//
// Relative values of the variables are ignored, as the XDG spec requires.
func (l Locator) DefaultSocketPath(dbPath string) string {
	if dir, ok := absEnv(l.Env, "RUNTIME_DIRECTORY"); ok {
		// systemd joins several RuntimeDirectory= entries with ':'.
		dir, _, _ = strings.Cut(dir, ":")
		return filepath.Join(dir, SocketName)
	}
	if l.UID == 0 {
		return filepath.Join(l.runDir(), SocketName)
	}
	if dir, ok := absEnv(l.Env, "XDG_RUNTIME_DIR"); ok {
		return filepath.Join(dir, "mcpdrift", SocketName)
	}
	return dbSocketPath(dbPath)
}

// Candidates lists where a client looks for a daemon when no path is
// given, in order: where DefaultSocketPath would put the caller's own
// daemon, then the system daemon's /run/mcpdrift/admin.sock (an operator's
// shell has neither $RUNTIME_DIRECTORY nor root's uid), then the one next
// to the database. No duplicates. Connect uses only a daemon that holds
// the caller's database, whichever socket it answers on.
func (l Locator) Candidates(dbPath string) []string {
	out := []string{l.DefaultSocketPath(dbPath)}
	for _, p := range []string{filepath.Join(l.runDir(), SocketName), dbSocketPath(dbPath)} {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func dbSocketPath(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), DBSocketName)
}

func absEnv(env func(string) (string, bool), key string) (string, bool) {
	if env == nil {
		return "", false
	}
	v, ok := env(key)
	if !ok || !filepath.IsAbs(v) {
		return "", false
	}
	return filepath.Clean(v), true
}

// maxSocketPath is sun_path's capacity less the terminating NUL.
func maxSocketPath() int {
	if runtime.GOOS == "linux" {
		return 107
	}
	return 103
}

// Listen creates the admin socket at path: it creates the parent directory
// (0750) if missing, replaces a stale socket left by a dead daemon, refuses
// (ErrDaemonRunning) when a live one answers or holds path+".lock", and
// makes the socket mode 0660 before anyone can reach it (it is bound in a
// private directory, chmodded, then renamed into place). Closing the
// listener removes the socket file, unless another daemon has replaced it,
// and releases the lock. It is unix-socket only, never TCP.
func Listen(path string) (net.Listener, error) {
	if path == "" {
		return nil, errors.New("admin socket: empty path")
	}
	if n := len(path); n > maxSocketPath() {
		return nil, fmt.Errorf("admin socket %s: path is %d bytes, more than the %d a unix socket allows; choose a shorter admin.socket", path, n, maxSocketPath())
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("admin socket %s: create directory: %w", path, err)
	}
	unlock, err := lockPath(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	ln, err := bindSocket(path)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	ln.unlock = unlock
	return ln, nil
}

// bindSocket replaces a stale socket at path and binds a fresh one there.
func bindSocket(path string) (*socketListener, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	// Bind inside a private directory so the socket is unreachable until
	// it has its final mode, whatever the umask.
	tmpDir, err := os.MkdirTemp(filepath.Dir(path), ".mcpdrift-")
	if err != nil {
		return nil, fmt.Errorf("create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "s")
	if len(tmp) > maxSocketPath() {
		return nil, fmt.Errorf("path is too long to bind safely (%d bytes with a temporary name); choose a shorter admin.socket", len(tmp))
	}
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	// The file is renamed: Close must not unlink by the old name, and the
	// new name only while it is still ours.
	ul.SetUnlinkOnClose(false)
	fail := func(what string, err error) (*socketListener, error) {
		_ = ul.Close()
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := os.Chmod(tmp, SocketMode); err != nil {
		return fail("chmod socket", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail("move socket into place", err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail("stat socket", err)
	}
	return &socketListener{UnixListener: ul, path: path, file: fi}, nil
}

// removeStale removes a socket at path that nothing listens on. A live
// socket, or a file that is not a socket, is left alone and reported.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect existing file: %w", err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket (%s); refusing to replace it", path, fi.Mode().Type())
	}
	c, err := net.DialTimeout("unix", path, connectTimeout)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("%w on %s: stop it first, or give this one another admin.socket", ErrDaemonRunning, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		// Busy, or not ours to probe: do not guess that it is dead.
		return fmt.Errorf("check existing socket: %w", err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}

// socketListener is a unix listener whose socket file was renamed into
// place, holding the path's lock.
type socketListener struct {
	*net.UnixListener
	path   string
	file   fs.FileInfo // the socket as bound, to recognise it at Close
	unlock func()
	once   sync.Once
	err    error
}

// Addr is the socket's final path, not the temporary one it was bound at.
func (l *socketListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

// Close stops listening, removes the socket file if it is still the one
// bound here, and releases the lock.
func (l *socketListener) Close() error {
	l.once.Do(func() {
		l.err = l.UnixListener.Close()
		if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.file) {
			_ = os.Remove(l.path)
		}
		if l.unlock != nil {
			l.unlock()
		}
	})
	return l.err
}
