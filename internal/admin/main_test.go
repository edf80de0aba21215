package admin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/approval"
)

// Environment of the test binary re-executed as an admin client, to play
// a process the "daemon" (this test process) started, or did not.
const (
	envChildSocket = "MCPDRIFT_ADMIN_TEST_APPROVE"     // socket to approve through
	envChildDepth  = "MCPDRIFT_ADMIN_TEST_GENERATIONS" // "2": start a grandchild to do it
	envChildFind   = "MCPDRIFT_ADMIN_TEST_CONNECT"     // socket to Connect to, for the database in envChildDB
	envChildDB     = "MCPDRIFT_ADMIN_TEST_DB"
)

func TestMain(m *testing.M) {
	if sock := os.Getenv(envChildSocket); sock != "" {
		os.Exit(approveChild(sock))
	}
	if sock := os.Getenv(envChildFind); sock != "" {
		os.Exit(connectChild(sock, os.Getenv(envChildDB)))
	}
	os.Exit(m.Run())
}

// approveChild approves server "a" through sock and prints "approved" or
// the error. With envChildDepth 2 it has its own child do it.
func approveChild(sock string) int {
	if os.Getenv(envChildDepth) == "2" {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), envChildDepth+"=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return 1
		}
		return 0
	}
	c, err := Dial(context.Background(), sock)
	if err != nil {
		fmt.Println("dial:", err)
		return 1
	}
	defer c.Close()
	if _, err := c.Approve(context.Background(), approval.Request{Server: "a", Comment: "reviewed with alice, LGTM"}); err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Println("approved")
	return 0
}

// approveFromChild runs this test binary as a child process that approves
// through sock (through a grandchild when generations is 2) and returns
// what it printed.
func approveFromChild(t *testing.T, sock string, generations int) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envChildSocket+"="+sock, fmt.Sprintf("%s=%d", envChildDepth, generations))
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// connectChild connects as the CLI does to the daemon of db on sock and
// prints what it found: "connected", or the error and each socket skipped
// with its reason.
func connectChild(sock, db string) int {
	c, ignored, err := Connect(context.Background(), sock, db, Locator{})
	if err == nil {
		c.Close()
		fmt.Println("connected")
		return 0
	}
	fmt.Println(err)
	for _, ig := range ignored {
		fmt.Printf("skipped %s: %v\n", ig.Socket, ig.Reason)
	}
	return 1
}
