package admin

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

// A process the daemon started (a probed server, or what it left behind)
// may not approve; a process it did not start may. This test process plays
// the daemon; its child processes play probes, and a sibling plays the
// daemon when the children must not descend from it.
func TestProbeDescendantsRefused(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: the ancestry check is Linux-only")
	}
	// A process that stays up, and whose descendants the children are not.
	sibling := exec.Command("sleep", "300")
	if err := sibling.Start(); err != nil {
		t.Skipf("no sleep(1): %v", err)
	}
	t.Cleanup(func() { _ = sibling.Process.Kill(); _ = sibling.Wait() })

	for _, tt := range []struct {
		name        string
		daemonPID   int
		generations int
		refused     bool
	}{
		{"child of the daemon", 0, 1, true},
		{"grandchild of the daemon", 0, 2, true},
		{"not started by the daemon", sibling.Process.Pid, 1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &fake{approval: report.Approval{Server: "a", Seq: 1, BaselineID: "sha256:" + strings.Repeat("c", 64)}}
			ts := serve(t, f, Options{DaemonPID: tt.daemonPID})
			out := approveFromChild(t, ts.path, tt.generations)
			f.mu.Lock()
			reached := f.approveReq.Server != ""
			f.mu.Unlock()
			if tt.refused {
				if reached || !strings.Contains(out, "started by a probe") {
					t.Errorf("approval from a descendant: reached the service %v, child said %q", reached, out)
				}
				return
			}
			if !reached || strings.TrimSpace(out) != "approved" {
				t.Errorf("approval from a non-descendant: reached the service %v, child said %q", reached, out)
			}
		})
	}
}

func TestDescendantOf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc: the ancestry check is Linux-only")
	}
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep(1): %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	child := cmd.Process.Pid
	for _, tt := range []struct {
		name          string
		pid, ancestor int
		want          bool
	}{
		{"child", child, os.Getpid(), true},
		{"grandchild of the parent", child, os.Getppid(), true},
		{"itself", os.Getpid(), os.Getpid(), false},
		{"parent is not a descendant", os.Getppid(), os.Getpid(), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := descendantOf(tt.pid, tt.ancestor)
			if err != nil || got != tt.want {
				t.Errorf("descendantOf(%d, %d) = %v, %v; want %v", tt.pid, tt.ancestor, got, err, tt.want)
			}
		})
	}
	if _, err := descendantOf(1<<30, os.Getpid()); err == nil {
		t.Error("a process that does not exist: no error")
	}
}

// admin.operators: only the users listed may approve or import; the
// daemon's own user is refused unless listed.
func TestOperators(t *testing.T) {
	self := os.Getuid()
	for _, tt := range []struct {
		name      string
		operators []string
		uid       int
		want      string // "" when allowed, else part of the error
	}{
		{"no operators: anyone who can connect", nil, 4321, ""},
		{"no operators: the daemon's user too", nil, self, ""},
		{"listed by uid", []string{"alice", "uid:4321"}, 4321, ""},
		{"not listed", []string{"alice"}, 4321, "uid:4321 (uid 4321): not in admin.operators (alice)"},
		{"the daemon's own user", []string{"alice"}, self, "the daemon's own user"},
		{"the daemon's own user, listed", []string{"uid:" + strconv.Itoa(self)}, self, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &handler{opts: Options{Operators: func() []string { return tt.operators }}}
			ctx := context.WithValue(context.Background(), peerKey{}, &peerConn{peer: Peer{UID: tt.uid}})
			p, err := h.writer(ctx, "approve")
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want == "" && p.UID != tt.uid:
				t.Errorf("peer %+v", p)
			case tt.want != "" && (!errors.Is(err, service.ErrForbidden) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want ErrForbidden containing %q", err, tt.want)
			}
		})
	}
}
