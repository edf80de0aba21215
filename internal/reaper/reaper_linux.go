package reaper

import (
	"context"

	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mcpdrift/mcpdrift/internal/procfs"
)

// rescan is how often children are looked at without a SIGCHLD, in case
// one was coalesced with another while a scan ran.
const rescan = 30 * time.Second

func setSubreaper(on bool) error {
	v := 0
	if on {
		v = 1
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, uintptr(v), 0, 0, 0); err != nil {
		return fmt.Errorf("becoming a child subreaper: %w", err)
	}
	return nil
}

func loop(ctx context.Context, log *slog.Logger) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGCHLD)
	defer signal.Stop(sigs)
	tick := time.NewTicker(rescan)
	defer tick.Stop()
	sid, _ := unix.Getsid(0)
	for {
		reapOrphans(sid, log)
		select {
		case <-ctx.Done():
			return
		case <-sigs:
		case <-tick.C:
		}
	}
}

// reapOrphans reaps every zombie child that no one waits for: not
// registered, and in another session than ours.
func reapOrphans(sid int, log *slog.Logger) {
	for _, pid := range children() {
		st, err := procfs.ReadStat(pid)
		if err != nil || st.State != 'Z' || st.Session == sid {
			continue
		}
		reapIf(pid, func(pid int) bool {
			var ws unix.WaitStatus
			got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
			if err != nil || got != pid {
				return false
			}
			log.Debug("reaped an orphaned process", "pid", pid, "status", describe(ws))
			return true
		})
	}
}

// children lists this process's children, from every thread's children
// file, or by scanning /proc where the kernel has no such files.
func children() []int {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	if len(files) == 0 {
		return scanChildren()
	}
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(s); err == nil {
				out = append(out, pid)
			}
		}
	}
	return out
}

func scanChildren() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := procfs.ReadStat(pid); err == nil && st.PPID == self {
			out = append(out, pid)
		}
	}
	return out
}

func describe(ws unix.WaitStatus) string {
	switch {
	case ws.Exited():
		return "exit status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		return "signal " + ws.Signal().String()
	}
	return "unknown"
}
