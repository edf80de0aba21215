package cli

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// On a terminal, approve without --snapshot or --latest shows the latest
// snapshot and asks; yes approves exactly that snapshot, anything else
// approves nothing.
func TestApproveConfirmsOnTerminal(t *testing.T) {
	env, _, pending := drifted(t)
	for _, tt := range []struct {
		answer   string
		code     int
		approved bool
	}{
		{"n\n", ExitDrift, false},
		{"\n", ExitDrift, false},
		{"yes\n", 0, true},
	} {
		t.Run(strings.TrimSpace(tt.answer), func(t *testing.T) {
			terminal, typeIn := openPTY(t)
			if _, err := typeIn.WriteString(tt.answer); err != nil {
				t.Fatal(err)
			}
			h := testHost(t, env)
			h.Stdin = terminal
			r := runOn(t, h, "approve", "live", "--comment", "looked at it")
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d: %+v", r.code, tt.code, r)
			}
			for _, want := range []string{"latest snapshot of live: " + pending.Snapshot.ID, "1 change(s) against the baseline", "approve this snapshot? [y/N]"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("prompt lacks %q: %q", want, r.stderr)
				}
			}
			if got := strings.Contains(r.stdout, "approved snapshot "+pending.Snapshot.ID); got != tt.approved {
				t.Errorf("approved = %v, want %v: %+v", got, tt.approved, r)
			}
			if !tt.approved && !strings.Contains(r.stderr, "not approved") {
				t.Errorf("a refusal does not say so: %q", r.stderr)
			}
		})
	}
}

// openPTY opens a pseudo-terminal: the terminal end a command reads, and
// the end a person types into.
func openPTY(t *testing.T) (terminal, typeIn *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the terminal end: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, m
}
