package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/store"
)

// Two daemons on one host, each with its own database: "the system
// daemon" on what the injected host makes /run/mcpdrift/admin.sock, and a
// user's daemon in its $XDG_RUNTIME_DIR, both of which the CLI finds. With
// each config the CLI works through the daemon holding that config's
// database and names it at --log-level info; with a config whose database
// no daemon holds, it says which daemons it skipped and why, and opens the
// database itself; when that database is locked, the error names them.
func TestCLIUsesOnlyItsOwnDaemon(t *testing.T) {
	root := shortTempDir(t)
	sysRun, xdg := filepath.Join(root, "run"), filepath.Join(root, "xdg")
	noHTTP := "http: {listen: \"\"}\n"
	cfgSys, _ := setup(t, noHTTP)
	cfgUser, _ := setup(t, noHTTP)
	cfgOther, _ := setup(t, noHTTP)
	host := func(env map[string]string, uid int) Host {
		h := testHost(t, env)
		h.UID, h.RunDir = uid, sysRun
		return h
	}
	sysSock := filepath.Join(sysRun, admin.SocketName)
	userSock := filepath.Join(xdg, "mcpdrift", admin.SocketName)
	startDaemonOn(t, host(map[string]string{"MCPDRIFT_CONFIG": cfgSys}, 0), sysSock)
	startDaemonOn(t, host(map[string]string{"MCPDRIFT_CONFIG": cfgUser, "XDG_RUNTIME_DIR": xdg}, 1000), userSock)

	// The operator's shell: a plain user with an XDG runtime directory, so
	// the user's daemon is looked at first, then the system one.
	cli := func(cfg string, args ...string) result {
		t.Helper()
		return runOn(t, host(map[string]string{"MCPDRIFT_CONFIG": cfg, "XDG_RUNTIME_DIR": xdg}, 1000), args...)
	}
	dbOf := func(cfg string) string { return filepath.Join(filepath.Dir(cfg), "db") }

	r := cli(cfgUser, "--log-level", "info", "status")
	expect(t, r, 0, "live", "using the daemon that holds the database", "socket="+userSock, "database="+dbOf(cfgUser))
	if strings.Contains(r.stderr, "ignoring") {
		t.Errorf("own daemon first, yet something was ignored: %s", r.stderr)
	}

	r = cli(cfgSys, "--log-level", "info", "status")
	expect(t, r, 0, "live", "ignoring a daemon that holds another database", "socket="+userSock,
		"using the daemon that holds the database", "socket="+sysSock, "database="+dbOf(cfgSys))

	// No daemon holds this one: both are named, with why, at the default
	// level, and the CLI takes the snapshot into the database itself.
	r = cli(cfgOther, "check")
	expect(t, r, 0, "live baselined", "socket="+userSock, "it holds "+dbOf(cfgUser), "socket="+sysSock, "it holds "+dbOf(cfgSys))
	if strings.Contains(r.stderr, "using the daemon") {
		t.Errorf("a daemon was used for a database it does not hold: %s", r.stderr)
	}
	db, err := store.Open(dbOf(cfgOther), store.Options{})
	if err != nil {
		t.Fatalf("the CLI did not leave its own database usable: %v", err)
	}
	if _, err := db.LatestSnapshot("live"); err != nil {
		t.Errorf("the snapshot is not in the config's own database: %v", err)
	}
	// Held by someone else (this test): a clear error naming the daemons.
	r = cli(cfgOther, "status")
	db.Close()
	expect(t, r, ExitFailure, "", "locked", "daemons found but not used", "admin socket "+userSock, "admin socket "+sysSock)
}

// An approval through the daemon records the daemon's method, whatever
// method the client sends.
func TestApprovalMethodIsTheDaemons(t *testing.T) {
	sock := filepath.Join(shortTempDir(t), "admin.sock")
	cfg, srv := setup(t, "admin: {socket: "+sock+"}\nhttp: {listen: \"\"}\n")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	startDaemon(t, env, sock)
	if r := run(t, env, "check"); r.code != 0 {
		t.Fatalf("first check: %+v", r)
	}
	srv.SetTools(tool("search", "Search issues, and more."))
	if r := run(t, env, "check"); r.code != ExitDrift {
		t.Fatalf("check after the change: %+v", r)
	}
	hc := http.Client{Transport: &http.Transport{DialContext: unixDialer(sock)}}
	resp, err := hc.Post("http://mcpdrift/v1/approve", "application/json",
		strings.NewReader(`{"server":"live","comment":"forged","method":"lock-import"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	r := run(t, env, "history", "live", "--format", "json")
	var h struct {
		History []struct{ Type, Method, Comment string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("history: %v %+v", err, r)
	}
	for _, e := range h.History {
		if e.Type == "approval" && e.Comment == "forged" {
			if e.Method != "cli" {
				t.Errorf("recorded method %q, want the daemon's %q", e.Method, "cli")
			}
			return
		}
	}
	t.Fatalf("approval not in the history: %+v", h.History)
}

// shortTempDir is a temporary directory short enough for socket paths
// (sun_path is 108 bytes), removed when the test ends.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// unixDialer dials the unix socket at path whatever address HTTP asks for.
func unixDialer(path string) func(ctx context.Context, _, _ string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}
}
