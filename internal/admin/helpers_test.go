package admin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/syncbuf"

	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

// fake is a recording service.Service: it keeps what each call received
// and answers with what the test put in it.
type fake struct {
	mu sync.Mutex
	// received
	checkServers  []string
	checkAs       []string
	statusServers []string
	diffServer    string
	approveReq    approval.Request
	historyServer string
	historyLimit  int
	showReq       service.ShowRequest
	importReq     service.ImportRequest
	login         *oauth.Record
	logoutServer  string
	// answers
	report   report.Report
	servers  []report.Server
	server   report.Server
	approval report.Approval
	history  service.History
	doc      json.RawMessage
	imported []lockfile.Imported
	tools    []inventory.Server
	grants   []oauth.Status
	err      error
	// checkStarted, when set, is closed as Check starts; Check then waits
	// for its context to end and returns its error.
	checkStarted chan struct{}
	panicStatus  bool
}

var _ service.Service = (*fake)(nil)

func (f *fake) Check(ctx context.Context, servers []string, as ...string) (report.Report, error) {
	f.mu.Lock()
	f.checkServers, f.checkAs = servers, as
	started := f.checkStarted
	f.mu.Unlock()
	if started != nil {
		close(started)
		<-ctx.Done()
		return report.Report{}, ctx.Err()
	}
	return f.report, f.err
}

func (f *fake) Status(_ context.Context, servers []string) ([]report.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.panicStatus {
		panic("fake status exploded")
	}
	f.statusServers = servers
	return f.servers, f.err
}

func (f *fake) Inventory(_ context.Context, servers []string) ([]inventory.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusServers = servers
	return f.tools, f.err
}

func (f *fake) AuthStatus(_ context.Context, servers []string) ([]oauth.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusServers = servers
	return f.grants, f.err
}

func (f *fake) AuthLogin(_ context.Context, grant *oauth.Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.login = grant
	return f.err
}

func (f *fake) AuthLogout(_ context.Context, server string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logoutServer = server
	return f.err == nil, f.err
}

func (f *fake) Diff(_ context.Context, server string) (report.Server, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.diffServer = server
	return f.server, f.err
}

func (f *fake) Approve(_ context.Context, req approval.Request) (report.Approval, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.approveReq = req
	if f.err != nil {
		return report.Approval{}, f.err
	}
	a := f.approval
	a.Approver = req.Approver
	return a, nil
}

func (f *fake) ImportLock(_ context.Context, req service.ImportRequest) ([]lockfile.Imported, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.importReq = req
	return f.imported, f.err
}

func (f *fake) History(_ context.Context, server string, limit int) (service.History, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.historyServer, f.historyLimit = server, limit
	return f.history, f.err
}

func (f *fake) Show(_ context.Context, req service.ShowRequest) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.showReq = req
	return f.doc, f.err
}

type testServer struct {
	path   string
	logs   *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan error
}

// serve runs Serve on a fresh socket in t.TempDir() until the test ends.
func serve(t *testing.T, svc service.Service, opts Options) *testServer {
	t.Helper()
	return serveAt(t, filepath.Join(shortTempDir(t), "admin.sock"), svc, opts)
}

// serveAt runs Serve on a socket at path until the test ends.
func serveAt(t *testing.T, path string, svc service.Service, opts Options) *testServer {
	t.Helper()
	ln, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ts := &testServer{path: path, logs: &syncbuf.Buffer{}, done: make(chan error, 1)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts.cancel = cancel
	go func() { ts.done <- Serve(ctx, ln, svc, opts) }()
	t.Cleanup(func() { ts.stop(t) })
	return ts
}

// stop cancels Serve and waits for it to return.
func (ts *testServer) stop(t *testing.T) error {
	t.Helper()
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if !ok {
			return nil
		}
		close(ts.done)
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
		return nil
	}
}

func dial(t *testing.T, path string) *Client {
	t.Helper()
	c, err := Dial(context.Background(), path)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// shortTempDir is t.TempDir(), unless that is too long for a socket path
// (long test names), then a shorter one under /tmp.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if len(dir) < 60 {
		return dir
	}
	dir, err := os.MkdirTemp("", "adm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// rawClient talks HTTP to the socket without the Client, to send what the
// Client never would.
func rawClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}}
}

// osUser is the name the daemon should record for this test process.
func osUser(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil || u.Username == "" {
		return "uid:" + strconv.Itoa(os.Getuid())
	}
	return u.Username
}

func asRemote(t *testing.T, err error) *RemoteError {
	t.Helper()
	var re *RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *RemoteError", err, err)
	}
	return re
}
