package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/store"
)

// backedUpDB returns a config whose database holds one baselined server,
// and that database's path.
func backedUpDB(t *testing.T, extra string) (cfg, dbPath string) {
	t.Helper()
	cfg, _ = setup(t, extra)
	if r := run(t, map[string]string{"MCPDRIFT_CONFIG": cfg}, "check"); r.code != 0 {
		t.Fatalf("first check: %+v", r)
	}
	return cfg, filepath.Join(filepath.Dir(cfg), "db")
}

// statusJSON returns the baseline id of each server in the database at db.
func baselines(t *testing.T, cfg, db string) map[string]string {
	t.Helper()
	r := run(t, map[string]string{"MCPDRIFT_CONFIG": cfg}, "--db", db, "status", "--format", "json")
	if r.code != 0 {
		t.Fatalf("status on %s: %+v", db, r)
	}
	var rep struct {
		Servers []struct {
			Server   string
			Baseline struct{ ID string }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("status json: %v\n%s", err, r.stdout)
	}
	out := map[string]string{}
	for _, s := range rep.Servers {
		out[s.Server] = s.Baseline.ID
	}
	return out
}

// assertNoTemp fails if a backup left a temporary file in dir.
func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestBackupRestores(t *testing.T) {
	cfg, db := backedUpDB(t, "")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	out := filepath.Join(t.TempDir(), "mcpdrift.bak")

	r := run(t, env, "backup", out)
	if r.code != 0 || !strings.Contains(r.stdout, "backed up "+db) || !strings.Contains(r.stdout, out) {
		t.Fatalf("backup: %+v", r)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != backupMode {
		t.Errorf("backup mode %v, want %v", mode, backupMode)
	}
	// The copy is a complete database: it opens, checks clean and holds the
	// same baselines, so pointing --db at it is a restore.
	copyDB, err := store.Open(out, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	if err := copyDB.Check(); err != nil {
		t.Errorf("check backup: %v", err)
	}
	copyDB.Close()
	want, got := baselines(t, cfg, db), baselines(t, cfg, out)
	if want["live"] == "" || got["live"] != want["live"] {
		t.Errorf("backup baselines %v, want %v", got, want)
	}
	assertNoTemp(t, filepath.Dir(out))
}

func TestBackupWithoutConfig(t *testing.T) {
	_, db := backedUpDB(t, "")
	// A config in the working directory that only the service could load:
	// with --db, backup does not read it.
	t.Chdir(t.TempDir())
	writeFile(t, "mcpdrift.yaml", "notifiers:\n  - {name: x, type: slack, webhook_url_file: \"${CREDENTIALS_DIRECTORY}/hook\"}\n")
	out := filepath.Join(t.TempDir(), "copy.db")
	r := run(t, nil, "--db", db, "backup", out)
	if r.code != 0 {
		t.Fatalf("backup --db without a loadable config: %+v", r)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("no backup written: %v", err)
	}
	// Named explicitly, a config is read, and a broken one is an error.
	r = run(t, nil, "--db", db, "--config", "mcpdrift.yaml", "backup", filepath.Join(t.TempDir(), "x.db"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "CREDENTIALS_DIRECTORY") {
		t.Errorf("backup with a broken --config: %+v", r)
	}
}

func TestBackupRefuses(t *testing.T) {
	cfg, db := backedUpDB(t, "")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	writeFile(t, existing, "keep me")

	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"existing file without --force", []string{"backup", existing}, ExitUsage, "pass --force"},
		{"a directory", []string{"backup", dir}, ExitUsage, "is a directory"},
		{"the database itself", []string{"backup", "--force", db}, ExitUsage, "is the database itself"},
		{"missing database", []string{"--db", filepath.Join(dir, "none.db"), "backup", filepath.Join(dir, "x.db")}, ExitFailure, "none.db"},
		{"target directory missing", []string{"backup", filepath.Join(dir, "no", "x.db")}, ExitFailure, "create backup file"},
		{"no file named", []string{"backup"}, ExitUsage, "accepts 1 arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, env, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
	if got := readFile(t, existing); got != "keep me" {
		t.Errorf("existing file overwritten without --force: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("a failed backup left its target behind")
	}
	assertNoTemp(t, dir)

	// --force replaces it with a real database.
	if r := run(t, env, "backup", "--force", existing); r.code != 0 {
		t.Fatalf("backup --force: %+v", r)
	}
	if got := readFile(t, existing); got == "keep me" {
		t.Error("--force did not replace the file")
	}
}

func TestBackupWhileDaemonHoldsDatabase(t *testing.T) {
	sockDir := shortTempDir(t) // sun_path is 108 bytes
	configured := filepath.Join(sockDir, "configured.sock")
	cfg, db := backedUpDB(t, "admin: {socket: "+configured+"}\n")

	// The daemon holds the database read-write.
	held, err := store.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { held.Close() })

	// A daemon under systemd listens in $RUNTIME_DIRECTORY.
	runtimeSock := filepath.Join(sockDir, "admin.sock")
	ln, err := net.Listen("unix", runtimeSock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })

	out := filepath.Join(t.TempDir(), "b.db")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"socket from the config", map[string]string{"MCPDRIFT_CONFIG": cfg}, []string{"backup", out}, configured},
		{"socket from the flag", map[string]string{"MCPDRIFT_CONFIG": cfg}, []string{"--socket", "/x/y.sock", "backup", out}, "/x/y.sock"},
		{"socket found where the daemon listens", map[string]string{"RUNTIME_DIRECTORY": sockDir}, []string{"--db", db, "backup", out}, runtimeSock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, tt.args...)
			expect(t, r, ExitFailure, "", "running daemon", "admin socket "+tt.want, "systemctl stop mcpdrift", "locked")
			if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("error is not one line: %q", r.stderr)
			}
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused backup left its target behind")
	}
	assertNoTemp(t, filepath.Dir(out))
}

// TestBackupFromRunningDaemon takes hot backups through the admin socket
// while the daemon runs, checks and approves: each copy opens, passes the
// consistency check and holds every approval made before it.
func TestBackupFromRunningDaemon(t *testing.T) {
	sockDir := shortTempDir(t) // sun_path is 108 bytes
	sock := filepath.Join(sockDir, "admin.sock")
	cfg, srv := setup(t, "    schedule: \"@every 1s\"\nadmin: {socket: "+sock+"}\nhttp: {listen: \"\"}\n")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	startDaemon(t, env, sock)

	dir := t.TempDir()
	approvals := 0
	for i := range 4 {
		srv.SetTools(tool("search", fmt.Sprintf("Search issues, revision %d.", i)))
		if r := run(t, env, "check"); r.code != 1 && r.code != 0 {
			t.Fatalf("check through the daemon: %+v", r)
		}
		if r := run(t, env, "approve", "live", "--latest", "--comment", fmt.Sprint("rev ", i)); r.code == 0 {
			approvals++
		}
		out := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		if r := run(t, env, "backup", out); r.code != 0 || !strings.Contains(r.stdout, "backed up") {
			t.Fatalf("backup %d through the daemon: %+v", i, r)
		}
		copyDB, err := store.Open(out, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("backup %d does not open: %v", i, err)
		}
		if err := copyDB.Check(); err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		aps, err := copyDB.Approvals("live")
		copyDB.Close()
		if err != nil {
			t.Fatal(err)
		}
		// +1: the trust-on-first-use approval.
		if len(aps) != approvals+1 {
			t.Fatalf("backup %d holds %d approvals, want %d", i, len(aps), approvals+1)
		}
	}
	if approvals < 3 {
		t.Fatalf("only %d approvals went through", approvals)
	}
}

// startDaemon runs `mcpdrift run` in-process on testHost(env) until the
// test ends (or stop is called) and waits for its admin socket.
func startDaemon(t *testing.T, env map[string]string, sock string) (stop func()) {
	t.Helper()
	return startDaemonOn(t, testHost(t, env), sock)
}

// startDaemonOn is startDaemon on host h.
func startDaemonOn(t *testing.T, h Host, sock string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		var out, errb bytes.Buffer
		done <- RunHost(ctx, []string{"run", "--allow-root", "--log-level", "error"}, &out, &errb, h)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := admin.Dial(context.Background(), sock)
		if err == nil {
			c.Close()
			return stop
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not open its socket: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling the socket with a deadline
	}
}
