package reaper

import (
	"bytes"
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
		state, session, ok := stat(pid)
		if !ok || state != 'Z' || session == sid {
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
		if ppid, ok := parent(pid); ok && ppid == self {
			out = append(out, pid)
		}
	}
	return out
}

// statFields returns the fields of /proc/PID/stat after the command name
// (state, ppid, pgrp, session, ...).
func statFields(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	// The name is in parentheses and may hold anything, ')' included.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, false
	}
	f := strings.Fields(string(b[i+1:]))
	return f, len(f) >= 4
}

func stat(pid int) (state byte, session int, ok bool) {
	f, ok := statFields(pid)
	if !ok || f[0] == "" {
		return 0, 0, false
	}
	s, err := strconv.Atoi(f[3])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], s, true
}

func parent(pid int) (int, bool) {
	f, ok := statFields(pid)
	if !ok {
		return 0, false
	}
	p, err := strconv.Atoi(f[1])
	return p, err == nil
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
