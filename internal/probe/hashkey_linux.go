package probe

import (
	"io/fs"
	"syscall"
)

// hashKeyOf identifies a file's content as the kernel tracks it: device,
// inode, size, modification and change time. Writing to the file or
// replacing it changes the change time, which no unprivileged process can
// set back, so an equal key means the bytes hashed before.
func hashKeyOf(fi fs.FileInfo) (fileHashKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileHashKey{}, false
	}
	return fileHashKey{
		dev: st.Dev, ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(),
	}, true
}
