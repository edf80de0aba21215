package monitor_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/syncbuf"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/cli"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/monitor"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// waitTimeout bounds every wait on the daemon. It is how long a failing
// run takes, never how long a passing one does: under -race on a loaded
// machine a daemon with 30 servers can take well over 15s to start.
const waitTimeout = 2 * time.Minute

func tool(name, desc string) *mcp.Tool {
	return &mcp.Tool{Name: name, Description: desc, InputSchema: &jsonschema.Schema{Type: "object"}}
}

// daemon is `mcpdrift run` in a subprocess.
type daemon struct {
	t    *testing.T
	cmd  *exec.Cmd
	log  *syncbuf.Buffer
	done chan struct{}
	err  error
}

func startDaemon(t *testing.T, cfgPath string, env ...string) *daemon {
	t.Helper()
	cmd := exec.Command(os.Args[0], "run", "--allow-root", "--config", cfgPath, "--log-level", "debug")
	// Only PATH (for the servers it starts), a HOME of the test's own and
	// what the test passes in env: nothing of the host's environment
	// (XDG_RUNTIME_DIR, MCPDRIFT_*, NOTIFY_SOCKET) steers the daemon.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), envDaemon + "=1"}, env...)
	d := &daemon{t: t, cmd: cmd, log: &syncbuf.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.log, d.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			_ = cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.log.String())
		}
	})
	d.waitLog(`msg="daemon started"`, 1)
	return d
}

// count returns how many log lines match all of the substrings.
func (d *daemon) count(subs ...string) int {
	n := 0
	sc := bufio.NewScanner(strings.NewReader(d.log.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for sc.Scan() {
		for _, s := range subs {
			if !strings.Contains(sc.Text(), s) {
				continue lines
			}
		}
		n++
	}
	return n
}

// waitLog waits until at least n lines contain sub (and the others).
func (d *daemon) waitLog(sub string, n int, more ...string) {
	d.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for d.count(append([]string{sub}, more...)...) < n {
		select {
		case <-d.done:
			d.t.Fatalf("daemon exited (%v) while waiting for %d lines with %q %q", d.err, n, sub, more)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("timed out waiting for %d log lines with %q %q", n, sub, more)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop signals the daemon and returns how long it took to exit.
func (d *daemon) stop(sig syscall.Signal) time.Duration {
	d.t.Helper()
	start := time.Now()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatal(err)
	}
	select {
	case <-d.done:
	case <-time.After(waitTimeout):
		d.t.Fatalf("daemon did not exit within %s of %s", waitTimeout, sig)
	}
	return time.Since(start)
}

var addrRE = regexp.MustCompile(`msg="serving health and metrics".* addr=(\S+)`)

// metrics scrapes the daemon's /metrics.
func (d *daemon) metrics() string {
	d.t.Helper()
	m := addrRE.FindStringSubmatch(d.log.String())
	if m == nil {
		d.t.Fatal("no metrics address in the log")
	}
	resp, err := http.Get("http://" + m[1] + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDaemonSubprocess runs `mcpdrift run` as a process: it snapshots an
// HTTP and a watched stdio server, survives a SIGHUP with a broken config,
// applies a good one (one server removed, one added), and stops on SIGTERM
// within the bound, leaving no child process and a sound database.
func TestDaemonSubprocess(t *testing.T) {
	dir := t.TempDir()
	a := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("search", "Search.")}})
	b := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("list", "List.")}})
	aURL, bURL := a.ServeStreamable(t, mcptest.HTTPOptions{}), b.ServeStreamable(t, mcptest.HTTPOptions{})
	child := mcptest.StdioSDK(t, mcptest.Config{Tools: []*mcp.Tool{tool("read", "Read.")}}, mcptest.ChildOptions{Grandchild: true})
	head := fmt.Sprintf("storage: {path: %s}\nhttp: {listen: \"127.0.0.1:0\"}\nadmin: {socket: %s}\nservers:\n",
		filepath.Join(dir, "db"), filepath.Join(dir, "admin.sock"))
	// sandbox: off, because the test watches the child's host pids, which a
	// sandboxed child cannot know (internal/sandbox has its own tests).
	stdio := child.ConfigEntry("s", "    timeout: 5s\n    watch: true\n    schedule: \"@every 1h\"\n    sandbox: off\n")
	cfgPath := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, cfgPath, head+fmt.Sprintf("  - {name: a, url: %q, schedule: \"@every 1s\", timeout: 5s}\n", aURL)+stdio)

	d := startDaemon(t, cfgPath)
	// A second daemon on the same database refuses to start, saying why.
	var out, errb syncbuf.Buffer
	host := cli.Host{Env: func(string) (string, bool) { return "", false }, UID: os.Getuid(), RunDir: filepath.Join(dir, "run")}
	if code := cli.RunHost(context.Background(), []string{"run", "--allow-root", "--config", cfgPath}, &out, &errb, host); code != cli.ExitFailure ||
		!strings.Contains(errb.String(), "another process (most likely another `mcpdrift run`) holds the database") {
		t.Errorf("second daemon: exit %d, stderr:\n%s", code, errb.String())
	}
	d.waitLog(`msg=snapshot`, 1, "server=s", "result=baselined")
	d.waitLog(`msg="watch session open"`, 1, "server=s")
	d.waitLog(`msg=snapshot`, 2, "server=a")

	// A broken config keeps the old one running.
	writeFile(t, cfgPath, "servers: [\n")
	before := d.count("msg=snapshot", "server=a")
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(`msg="configuration reload failed`, 1)
	if m := d.metrics(); !strings.Contains(m, "mcpdrift_config_last_reload_successful 0") ||
		!strings.Contains(m, `mcpdrift_config_reloads_total{result="failure"} 1`) {
		t.Errorf("metrics after a failed reload:\n%s", grep(m, "mcpdrift_config"))
	}
	d.waitLog(`msg=snapshot`, before+1, "server=a")

	// A good config: a removed, b added.
	writeFile(t, cfgPath, head+fmt.Sprintf("  - {name: b, url: %q, schedule: \"@every 1s\", timeout: 5s}\n", bURL)+stdio)
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(`msg="configuration reloaded"`, 1)
	d.waitLog(`msg="server removed; its checks stopped"`, 1, "server=a")
	aRuns := d.count("msg=snapshot", "server=a")
	d.waitLog(`msg=snapshot`, 2, "server=b")
	if n := d.count("msg=snapshot", "server=a"); n > aRuns+1 {
		t.Errorf("server a snapshotted %d more times after its removal", n-aRuns)
	}
	m := d.metrics()
	if !strings.Contains(m, "mcpdrift_config_last_reload_successful 1") || !strings.Contains(m, `mcpdrift_checks_total{server="b",status="baselined"} 1`) ||
		strings.Contains(m, `server="a"`) {
		t.Errorf("metrics after a good reload:\n%s", grep(m, "mcpdrift_config", `server="a"`, `server="b"`))
	}

	// The daemon's own bound on a graceful stop, plus what a loaded
	// machine adds to exiting the process.
	took := d.stop(syscall.SIGTERM)
	if limit := monitor.DefaultShutdownTimeout + 5*time.Second; took > limit {
		t.Errorf("SIGTERM: took %s to exit, want under %s", took, limit)
	}
	if d.err != nil {
		t.Errorf("daemon exit: %v\n%s", d.err, d.log.String())
	}
	pids := child.PIDs(t)
	if len(pids) < 2 {
		t.Fatalf("stdio server pids %v: want the watch session's and the probes'", pids)
	}
	if alive := mcptest.WaitGone(pids, waitTimeout); len(alive) > 0 {
		t.Errorf("processes %v outlived the daemon", alive)
	}
	db, err := store.Open(filepath.Join(dir, "db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("database after SIGTERM: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}

func grep(text string, subs ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, s := range subs {
			if strings.Contains(l, s) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestDaemonKill9 kills the daemon with SIGKILL twenty times in the middle
// of heavy snapshot writes (many servers, every second, every manifest new
// each round), each time right after an approval through its admin socket.
// Every time, the database opens, passes Check, and holds every approval
// ever acknowledged.
func TestDaemonKill9(t *testing.T) {
	const servers, rounds = 30, 20
	dir := t.TempDir()
	dbPath, sock := filepath.Join(dir, "db"), filepath.Join(dir, "admin.sock")
	var fleet []*mcptest.Server
	var b strings.Builder
	fmt.Fprintf(&b, "storage: {path: %s}\nhttp: {listen: \"\"}\nadmin: {socket: %s}\nconcurrency: 8\nservers:\n", dbPath, sock)
	for i := range servers {
		s := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("t", "round 0")}})
		fleet = append(fleet, s)
		fmt.Fprintf(&b, "  - {name: s%02d, url: %q, schedule: \"@every 1s\", timeout: 2s}\n", i, s.ServeStreamable(t, mcptest.HTTPOptions{}))
	}
	cfgPath := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, cfgPath, b.String())

	type approvalKey struct {
		server   string
		seq      uint64
		baseline string
	}
	acknowledged := map[approvalKey]bool{}
	written := 0
	for round := 1; round <= rounds; round++ {
		for i, s := range fleet {
			s.SetTools(tool("t", fmt.Sprintf("round %d server %d", round, i)), tool(fmt.Sprint("r", round), "new"))
		}
		roundStart := time.Now()
		d := startDaemon(t, cfgPath)
		// Approve s00's new drift through the daemon, then kill it while
		// the other servers' snapshots are being written.
		if ap, ok := approveThroughSocket(t, sock, "s00", roundStart); ok {
			acknowledged[approvalKey{"s00", ap.Seq, ap.BaselineID}] = true
		}
		time.Sleep(time.Duration(rand.IntN(250)) * time.Millisecond) // a random point in the writes
		if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-d.done
		written += d.count("msg=snapshot")

		db, err := store.Open(dbPath, store.Options{LockTimeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("round %d: open after kill -9: %v", round, err)
		}
		if err := db.Check(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		have := map[approvalKey]bool{}
		names, err := db.Servers()
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			aps, err := db.Approvals(name)
			if err != nil {
				t.Fatalf("round %d: approvals of %s: %v", round, name, err)
			}
			for _, ap := range aps {
				have[approvalKey{name, ap.Seq, ap.BaselineID}] = true
			}
		}
		for k := range acknowledged {
			if !have[k] {
				t.Fatalf("round %d: approval %+v lost", round, k)
			}
		}
		// Trust-on-first-use approvals found now must survive later kills.
		for k := range have {
			acknowledged[k] = true
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d snapshots written and %d approvals kept over %d kills", written, len(acknowledged), rounds)
	if len(acknowledged) < rounds {
		t.Errorf("only %d approvals over %d rounds", len(acknowledged), rounds)
	}
}

// approveThroughSocket waits until the server shows drift, then approves
// that snapshot through the admin socket. A server trusted on first use
// since since (its first snapshot ever) has nothing to approve: false.
func approveThroughSocket(t *testing.T, sock, server string, since time.Time) (report.Approval, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := admin.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for {
		rs, err := c.Diff(ctx, server)
		if err != nil {
			t.Fatal(err)
		}
		if rs.Status == "drift" {
			ap, err := c.Approve(ctx, approval.Request{Server: server, Snapshot: rs.Snapshot.ID, Comment: "kill -9 test"})
			if err != nil {
				t.Fatal(err)
			}
			return ap, true
		}
		if b := rs.Baseline; rs.Status == "ok" && b != nil && b.ApprovedBy == engine.ApproverTOFU && b.ApprovedAt.After(since) {
			return report.Approval{}, false
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("%s never showed drift", server)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDaemonTellsSystemd: under systemd (NOTIFY_SOCKET) the daemon says it
// is ready with a status line naming what it watches, reloads with
// RELOADING=1 and READY=1 around a SIGHUP, says in its status when a
// reload failed and the previous configuration stays, and STOPPING=1 on
// SIGTERM.
func TestDaemonTellsSystemd(t *testing.T) {
	dir := t.TempDir()
	srv := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("search", "Search.")}})
	url := srv.ServeStreamable(t, mcptest.HTTPOptions{})
	sock := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var got syncbuf.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			got.Write(append(buf[:n:n], '\n'))
		}
	}()
	waitFor := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for strings.Count(got.String(), what) < n {
			if time.Now().After(deadline) {
				t.Fatalf("no %d× %q from the daemon; it sent:\n%s", n, what, got.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// http listens on a port of its own: never the default one a daemon
	// on the host may hold.
	head := fmt.Sprintf("storage: {path: %s}\nhttp: {listen: \"127.0.0.1:0\"}\nadmin: {socket: %s}\nservers:\n", filepath.Join(dir, "db"), filepath.Join(dir, "admin.sock"))
	entry := func(name string) string {
		return fmt.Sprintf("  - {name: %s, url: %q, schedule: \"@every 1h\", timeout: 5s}\n", name, url)
	}
	cfgPath := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, cfgPath, head+entry("a"))
	d := startDaemon(t, cfgPath, "NOTIFY_SOCKET="+sock)
	waitFor("STATUS=watching 1 server\n", 1)
	waitFor("READY=1", 1)

	writeFile(t, cfgPath, "servers: [\n")
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor("STATUS=configuration reload failed, the previous one stays: ", 1)
	waitFor("READY=1", 2)
	if !strings.Contains(got.String(), "RELOADING=1") {
		t.Errorf("no RELOADING=1 before the reload:\n%s", got.String())
	}

	writeFile(t, cfgPath, head+entry("a")+entry("b"))
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor("STATUS=watching 2 servers", 1)
	d.stop(syscall.SIGTERM)
	waitFor("STOPPING=1", 1)
}
