package reaper_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mcpdrift/mcpdrift/internal/procfs"
	"github.com/mcpdrift/mcpdrift/internal/reaper"
)

// subreaper makes the test process a child subreaper until the test ends.
func subreaper(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := reaper.BecomeSubreaper(ctx, nil); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(cancel)
}

// startLeader starts script as a probe starts a server: in a new session,
// registered. It prints the pid of what it leaves behind and exits.
func startLeader(t *testing.T, script string) (orphan int) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := reaper.Start(cmd); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the orphan's pid: %v", err)
	}
	orphan, err = strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(orphan, syscall.SIGKILL) })
	if err := cmd.Wait(); err != nil {
		t.Fatalf("leader: %v", err)
	}
	reaper.Done(cmd.Process.Pid)
	return orphan
}

// stat returns a process's state and parent, and whether it exists.
func stat(pid int) (state byte, ppid int, ok bool) {
	st, err := procfs.ReadStat(pid)
	return st.State, st.PPID, err == nil
}

func poll(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// TestReapsOrphans: what a server leaves behind, in its session or a new
// one, re-parents to the daemon (not init), and its zombie is reaped.
func TestReapsOrphans(t *testing.T) {
	subreaper(t)
	tests := []struct{ name, script string }{
		{"in the server's session", "sleep 300 & echo $!"},
		{"detached with setsid", "setsid sleep 300 & echo $!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orphan := startLeader(t, tt.script)
			if !poll(20*time.Second, func() bool { _, ppid, _ := stat(orphan); return ppid == os.Getpid() }) {
				_, ppid, _ := stat(orphan)
				t.Fatalf("orphan %d has parent %d, want this process %d (the subreaper)", orphan, ppid, os.Getpid())
			}
			if err := syscall.Kill(orphan, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// Unreaped, it would stay a zombie child of this process.
			if !poll(20*time.Second, func() bool { _, _, ok := stat(orphan); return !ok }) {
				state, _, _ := stat(orphan)
				t.Fatalf("orphan %d is still there in state %c: not reaped", orphan, state)
			}
		})
	}
}

// TestLeavesWaitedChildren: zombies someone will wait for, registered or
// in the daemon's own session, are still there for cmd.Wait after the
// reaper has reaped an orphan next to them.
func TestLeavesWaitedChildren(t *testing.T) {
	subreaper(t)
	registered := exec.Command("sh", "-c", "exit 3")
	registered.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := reaper.Start(registered); err != nil {
		t.Fatal(err)
	}
	plain := exec.Command("sh", "-c", "exit 4")
	if err := plain.Start(); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []*exec.Cmd{registered, plain} {
		pid := cmd.Process.Pid
		if !poll(20*time.Second, func() bool { state, _, _ := stat(pid); return state == 'Z' }) {
			t.Fatalf("process %d did not exit", pid)
		}
	}
	// An orphan reaped means a scan passed over both zombies.
	orphan := startLeader(t, "sleep 300 & echo $!")
	if !poll(20*time.Second, func() bool { _, ppid, _ := stat(orphan); return ppid == os.Getpid() }) {
		t.Fatal("the orphan was not re-parented here")
	}
	_ = syscall.Kill(orphan, syscall.SIGKILL)
	if !poll(20*time.Second, func() bool { _, _, ok := stat(orphan); return !ok }) {
		t.Fatal("the orphan was not reaped")
	}
	if err := checkExit("registered", registered.Wait(), 3); err != nil {
		t.Error(err)
	}
	reaper.Done(registered.Process.Pid)
	if err := checkExit("plain", plain.Wait(), 4); err != nil {
		t.Error(err)
	}
}

// TestKeepsExitStatuses: while orphans are reaped around them, processes
// started through Start, and processes started plainly in the daemon's own
// session, keep their exit statuses for cmd.Wait.
func TestKeepsExitStatuses(t *testing.T) {
	subreaper(t)
	const n = 40
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		code := i % 7
		wg.Go(func() { // a registered server, in its own session
			cmd := exec.Command("sh", "-c", fmt.Sprintf("exit %d", code))
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			if err := reaper.Start(cmd); err != nil {
				errs <- err
				return
			}
			err := cmd.Wait()
			reaper.Done(cmd.Process.Pid)
			errs <- checkExit("registered", err, code)
		})
		wg.Go(func() { // anything else the daemon runs, in its session
			errs <- checkExit("plain", exec.Command("sh", "-c", fmt.Sprintf("exit %d", code)).Run(), code)
		})
		wg.Go(func() { // a server that leaves a short-lived orphan
			cmd := exec.Command("sh", "-c", "(sleep 0.01) & exit 0")
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			if err := reaper.Start(cmd); err != nil {
				errs <- err
				return
			}
			err := cmd.Wait()
			reaper.Done(cmd.Process.Pid)
			errs <- checkExit("leader", err, 0)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func checkExit(what string, err error, want int) error {
	var ee *exec.ExitError
	switch {
	case want == 0 && err == nil:
		return nil
	case errors.As(err, &ee) && ee.ExitCode() == want:
		return nil
	}
	return fmt.Errorf("%s process: %w, want exit status %d", what, err, want)
}

// TestSubreaperEnds: when the last caller's context ends, orphans go to
// init again.
func TestSubreaperEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := reaper.BecomeSubreaper(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if !isSubreaper(t) {
		t.Fatal("not a subreaper after BecomeSubreaper")
	}
	cancel()
	if !poll(20*time.Second, func() bool { return !isSubreaper(t) }) {
		t.Error("still a subreaper after its context ended")
	}
}

func isSubreaper(t *testing.T) bool {
	t.Helper()
	var v int32
	if err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&v)), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	return v != 0
}
