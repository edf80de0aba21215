package admin

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// maxAncestry bounds the walk up the process tree; a real chain is a few
// dozen deep at most.
const maxAncestry = 4096

// descendantOf reports whether process pid descends from ancestor (a
// process is not its own descendant), walking the parent pids in
// /proc/<pid>/stat. It stops at init, or at a parent outside this PID
// namespace (ppid 0, such as a `docker exec`'d process's). An ancestor of
// 1 (the daemon as a container's init) is matched before stopping.
func descendantOf(pid, ancestor int) (bool, error) {
	for range maxAncestry {
		ppid, err := parentOf(pid)
		if err != nil {
			return false, err
		}
		if ppid == ancestor {
			return true, nil
		}
		if ppid <= 1 {
			return false, nil
		}
		pid = ppid
	}
	return false, fmt.Errorf("process ancestry deeper than %d", maxAncestry)
}

// parentOf reads a process's parent pid from /proc/<pid>/stat.
func parentOf(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read parent of process %d: %w", pid, err)
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses,
	// so the fields that follow start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("read parent of process %d: unexpected /proc/%d/stat", pid, pid)
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 {
		return 0, fmt.Errorf("read parent of process %d: unexpected /proc/%d/stat", pid, pid)
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, fmt.Errorf("read parent of process %d: %w", pid, err)
	}
	return ppid, nil
}
