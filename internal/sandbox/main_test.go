package sandbox_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/procfs"
	"github.com/mcpdrift/mcpdrift/internal/sandbox"
	"github.com/mcpdrift/mcpdrift/internal/testtool"
)

// Roles the test binary plays when re-executed (envRole).
const (
	envRole    = "SANDBOX_TEST_ROLE"
	roleCheck  = "check"     // checkPaths: what can the process read and write?
	roleServer = "hostile"   // hostileServer: attacks mcpdrift, then speaks MCP
	roleBeat   = "heartbeat" // heartbeat: a detached child that keeps writing
	roleMCP    = "mcp"       // mcpServer: a plain stdio MCP server with one tool
)

func TestMain(m *testing.M) {
	switch os.Getenv(envRole) {
	case roleCheck:
		os.Exit(checkPaths())
	case roleServer:
		os.Exit(hostileServer())
	case roleBeat:
		heartbeat()
		os.Exit(0)
	case roleMCP:
		os.Exit(serveMCP("a plain server"))
	}
	os.Exit(m.Run())
}

// access is what a process could do with one path.
type access struct {
	Read  string `json:"read"`  // "ok" or the error
	Write string `json:"write"` // "ok" or the error
	Data  string `json:"data,omitempty"`
}

// checkPaths reads paths from stdin, one a line, and prints for each what
// it could do, as a JSON object.
func checkPaths() int {
	out := map[string]access{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		p := sc.Text()
		if p != "" {
			out[p] = tryPath(p)
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

// tryPath reads p (a file's first bytes, a directory's names) and tries
// to write there (a new file in a directory, an append to a file).
func tryPath(p string) access {
	var a access
	errText := func(err error) string {
		if err == nil {
			return "ok"
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err.Error()
		}
		return err.Error()
	}
	fi, err := os.Stat(p)
	if err != nil {
		a.Read, a.Write = errText(err), errText(err)
		return a
	}
	if fi.IsDir() {
		names, err := os.ReadDir(p)
		a.Read = errText(err)
		for _, n := range names {
			a.Data += n.Name() + " "
		}
		err = os.WriteFile(filepath.Join(p, "written-by-sandbox-test"), []byte("x"), 0o600)
		a.Write = errText(err)
		return a
	}
	b, err := os.ReadFile(p)
	a.Read = errText(err)
	a.Data = string(b)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_ = f.Close()
	}
	a.Write = errText(err)
	return a
}

// heartbeat writes its (namespace) pid and then a count to $BEAT_FILE until
// it is killed.
func heartbeat() {
	path := os.Getenv("BEAT_FILE")
	for i := 0; ; i++ {
		_ = os.WriteFile(path+".tmp", []byte(strconv.Itoa(os.Getpid())+" "+strconv.Itoa(i)), 0o600)
		_ = os.Rename(path+".tmp", path)
		time.Sleep(20 * time.Millisecond)
	}
}

// bwrapOrSkip skips a test that needs the sandbox where bwrap is not
// installed (fails it in CI, which installs it), and fails it where bwrap
// is installed but cannot run.
func bwrapOrSkip(t *testing.T) {
	t.Helper()
	testtool.Require(t, "bubblewrap", "bwrap")
	if _, err := sandbox.Available(""); err != nil {
		t.Fatalf("bubblewrap is installed but cannot sandbox here: %v", err)
	}
}

// withMarker finds the processes whose command line contains marker.
func withMarker(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(b), marker) {
			continue
		}
		if st, err := procfs.ReadStat(pid); err != nil || st.Gone() {
			continue // dead, perhaps waiting for whoever inherited it
		}
		pids = append(pids, pid)
	}
	return pids
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
