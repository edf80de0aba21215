//go:build unix

package admin

import (
	"io/fs"
	"syscall"
)

// fileID returns a file's device and inode.
func fileID(fi fs.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), st.Ino, true //nolint:unconvert // Dev is narrower on some platforms
}
