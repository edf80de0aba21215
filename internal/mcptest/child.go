package mcptest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Environment of a stdio child. A child is the test binary re-executed;
// MaybeRunChild reads these and becomes the server.
const (
	EnvRole       = "MCPTEST_ROLE"        // "sdk", "raw" or "sleep"
	EnvConfig     = "MCPTEST_CONFIG"      // JSON Config (sdk) or Raw (raw)
	EnvCallLog    = "MCPTEST_CALL_LOG"    // file the child appends received methods to
	EnvPIDFile    = "MCPTEST_PID_FILE"    // file the child appends its pid (and its grandchild's) to
	EnvGrandchild = "MCPTEST_GRANDCHILD"  // "1": spawn a long-lived grandchild in the same process group
	EnvIgnoreTerm = "MCPTEST_IGNORE_TERM" // "1": ignore SIGTERM, so only SIGKILL ends the process
	EnvStderr     = "MCPTEST_STDERR"      // written to stderr at start
)

// MaybeRunChild turns the process into a test server when it was started
// as one (EnvRole is set), and never returns in that case. Call it first in
// TestMain:
//
//	func TestMain(m *testing.M) {
//		mcptest.MaybeRunChild()
//		os.Exit(m.Run())
//	}
func MaybeRunChild() {
	role := os.Getenv(EnvRole)
	if role == "" {
		return
	}
	os.Exit(runChild(role))
}

func runChild(role string) int {
	if os.Getenv(EnvIgnoreTerm) == "1" {
		signal.Ignore(syscall.SIGTERM)
	}
	if s := os.Getenv(EnvStderr); s != "" {
		fmt.Fprintln(os.Stderr, s)
	}
	appendLine(os.Getenv(EnvPIDFile), strconv.Itoa(os.Getpid()))
	if role == "sleep" {
		for {
			time.Sleep(time.Hour)
		}
	}
	if os.Getenv(EnvGrandchild) == "1" {
		if err := spawnGrandchild(); err != nil {
			fmt.Fprintln(os.Stderr, "mcptest:", err)
			return 2
		}
	}
	callLog := os.Getenv(EnvCallLog)
	onCall := func(method string) { appendLine(callLog, method) }
	switch role {
	case "sdk":
		var cfg Config
		if err := json.Unmarshal([]byte(os.Getenv(EnvConfig)), &cfg); err != nil {
			fmt.Fprintln(os.Stderr, "mcptest: bad config:", err)
			return 2
		}
		s := newServer(cfg, onCall)
		if err := s.SDK.Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, "mcptest: server stopped:", err)
		}
		return 0
	case "raw":
		var r Raw
		if err := json.Unmarshal([]byte(os.Getenv(EnvConfig)), &r); err != nil {
			fmt.Fprintln(os.Stderr, "mcptest: bad config:", err)
			return 2
		}
		serveRawStdio(newRawCore(r, onCall), os.Stdin, os.Stdout)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "mcptest: unknown role %q\n", role)
		return 2
	}
}

// spawnGrandchild starts a sleeping copy of the test binary that inherits
// the process group, as npx's node child does, and does not wait for it.
func spawnGrandchild() error {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	// The grandchild's pid is written here, once it exists, so that a test
	// never races its start.
	cmd.Env = append(os.Environ(), EnvRole+"=sleep", EnvGrandchild+"=0", EnvPIDFile+"=")
	cmd.Stderr = os.Stderr // holds the pipe open, as real grandchildren do
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting grandchild: %w", err)
	}
	appendLine(os.Getenv(EnvPIDFile), strconv.Itoa(cmd.Process.Pid))
	go func() { _ = cmd.Wait() }()
	return nil
}

// appendLine appends one line to path. O_APPEND writes of a short line are
// atomic, so concurrent writers need no lock.
func appendLine(path, line string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = fmt.Fprintln(f, line)
}

// ChildOptions tunes a stdio child's process behaviour.
type ChildOptions struct {
	// Grandchild makes the server spawn a long-lived grandchild in its
	// process group.
	Grandchild bool
	// IgnoreSIGTERM makes the server (and grandchild) ignore SIGTERM.
	IgnoreSIGTERM bool
	// Stderr is written to the server's stderr at start.
	Stderr string
}

// Child is a stdio server command: the test binary re-executed in a role.
type Child struct {
	Command string
	Args    []string
	Env     map[string]string

	callLog string
	pidFile string
}

// ConfigEntry is the child as an entry of an mcpdrift config's servers
// list, named name, with extra (further keys, each line indented by four
// spaces and ending in a newline) added.
func (c *Child) ConfigEntry(name, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    command: %q\n%s    args: [", name, c.Command, extra)
	for i, a := range c.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", a)
	}
	b.WriteString("]\n    env: {")
	first := true
	for k, v := range c.Env {
		if !first {
			b.WriteString(", ")
		}
		first = false
		// $$ keeps a literal $ from ${VAR} expansion.
		fmt.Fprintf(&b, "%s: %q", k, strings.ReplaceAll(v, "$", "$$"))
	}
	b.WriteString("}\n")
	return b.String()
}

// StdioSDK returns the command for a go-sdk server with cfg over stdio.
func StdioSDK(t testing.TB, cfg Config, opts ChildOptions) *Child {
	t.Helper()
	return newChild(t, "sdk", cfg, opts)
}

// StdioRaw returns the command for a raw server over stdio.
func StdioRaw(t testing.TB, r Raw, opts ChildOptions) *Child {
	t.Helper()
	return newChild(t, "raw", r, opts)
}

func newChild(t testing.TB, role string, config any, opts ChildOptions) *Child {
	t.Helper()
	b, err := json.Marshal(config)
	if err != nil {
		t.Fatalf("mcptest: encoding child config: %v", err)
	}
	dir := t.TempDir()
	c := &Child{
		Command: os.Args[0],
		// If TestMain forgot MaybeRunChild, run no tests and exit.
		Args:    []string{"-test.run=^$"},
		callLog: filepath.Join(dir, "calls"),
		pidFile: filepath.Join(dir, "pids"),
	}
	c.Env = map[string]string{
		EnvRole:    role,
		EnvConfig:  string(b),
		EnvCallLog: c.callLog,
		EnvPIDFile: c.pidFile,
	}
	if opts.Grandchild {
		c.Env[EnvGrandchild] = "1"
	}
	if opts.IgnoreSIGTERM {
		c.Env[EnvIgnoreTerm] = "1"
	}
	if opts.Stderr != "" {
		c.Env[EnvStderr] = opts.Stderr
	}
	return c
}

// Calls returns the methods the child received so far.
func (c *Child) Calls(t testing.TB) Calls {
	t.Helper()
	calls := Calls{}
	for _, l := range readLines(t, c.callLog) {
		calls[l]++
	}
	return calls
}

// PIDs returns the pids the child and its grandchildren wrote at start.
func (c *Child) PIDs(t testing.TB) []int {
	t.Helper()
	var pids []int
	for _, l := range readLines(t, c.pidFile) {
		pid, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("mcptest: bad pid %q in %s", l, c.pidFile)
		}
		pids = append(pids, pid)
	}
	return pids
}

func readLines(t testing.TB, path string) []string {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatalf("mcptest: %v", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// ProcessGone reports whether pid no longer runs: it does not exist, or it
// is a zombie waiting for whoever inherited it to reap it.
func ProcessGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err) || strings.Contains(err.Error(), "no such process")
	}
	// The state follows the parenthesised command name, which may itself
	// contain spaces or parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return false
	}
	return s[i+2] == 'Z' || s[i+2] == 'X'
}

// WaitGone polls until every pid is gone or the timeout passes, and returns
// the pids still running.
func WaitGone(pids []int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for {
		var alive []int
		for _, p := range pids {
			if !ProcessGone(p) {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 || time.Now().After(deadline) {
			return alive
		}
		time.Sleep(20 * time.Millisecond)
	}
}
