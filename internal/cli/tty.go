package cli

import (
	"io"
	"os"
)

// isTerminal reports whether w is a character device, so colour is used
// only for people at a terminal, never in pipes, files or CI logs.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// isInteractive reports whether r is a terminal a person answers on (not a
// pipe, a file or /dev/null), so that a command may ask before it acts.
func isInteractive(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isatty(f.Fd())
}
