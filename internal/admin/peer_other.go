//go:build !linux && !darwin && !freebsd

package admin

import (
	"fmt"
	"runtime"
)

// fdCred fails: without kernel credentials no approval can be attributed.
func fdCred(int) (Peer, error) {
	return Peer{}, fmt.Errorf("not supported on %s", runtime.GOOS)
}
