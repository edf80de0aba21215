//go:build !linux

package probe

import "io/fs"

// hashKeyOf has no change time to trust here: every probe hashes again.
func hashKeyOf(fs.FileInfo) (fileHashKey, bool) { return fileHashKey{}, false }
