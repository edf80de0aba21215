// Package procfs reads what mcpdrift needs to know about a process from
// Linux's /proc: its state, parent, process group and session. It only
// reads, and reports a process it cannot read (gone, another system) as
// not found.
package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// maxStat bounds what is read of /proc/PID/stat.
const maxStat = 64 << 10

// Stat is part of /proc/PID/stat.
type Stat struct {
	State   byte // R, S, D, Z (zombie), X (dead)...
	PPID    int
	PGID    int
	Session int
}

// Gone reports a process that has exited: a zombie waiting to be reaped,
// or dead.
func (s Stat) Gone() bool { return s.State == 'Z' || s.State == 'X' }

// ReadStat reads /proc/PID/stat.
func ReadStat(pid int) (Stat, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStat))
	if err != nil {
		return Stat{}, err
	}
	return parseStat(b)
}

// parseStat parses the fields that follow the command name, which is in
// parentheses and may hold anything, ')' and spaces included.
func parseStat(b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, errors.New("procfs: stat without a command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 4 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("procfs: short stat %q", excerpt(b[i+1:]))
	}
	var s Stat
	s.State = f[0][0]
	var err error
	for j, p := range []*int{&s.PPID, &s.PGID, &s.Session} {
		if *p, err = strconv.Atoi(f[j+1]); err != nil {
			return Stat{}, fmt.Errorf("procfs: stat field %d: %w", j+2, err)
		}
	}
	return s, nil
}

func excerpt(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
