//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package cli

// isatty is false where terminals are not detected: commands that would
// ask want their answer as a flag.
func isatty(uintptr) bool { return false }
