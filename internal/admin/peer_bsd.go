//go:build darwin || freebsd

package admin

import "golang.org/x/sys/unix"

// fdCred uses LOCAL_PEERCRED, which reports no pid; the first group is
// the effective gid.
func fdCred(fd int) (Peer, error) {
	x, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return Peer{}, err
	}
	p := Peer{UID: int(x.Uid), GID: -1}
	if x.Ngroups > 0 {
		p.GID = int(x.Groups[0])
	}
	return p, nil
}
