package sandbox

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func supported() error { return nil }

// argsFile is bwrap's options, NUL-separated, in a memory file positioned
// at its start, for --args.
func argsFile(args []string) (*os.File, error) {
	fd, err := unix.MemfdCreate("bwrap-args", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("creating the bwrap options file: %w", err)
	}
	f := os.NewFile(uintptr(fd), "bwrap-args")
	if _, err := f.WriteString(strings.Join(args, "\x00") + "\x00"); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("writing the bwrap options file: %w", err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("rewinding the bwrap options file: %w", err)
	}
	return f, nil
}
