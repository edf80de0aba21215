package admin

import "golang.org/x/sys/unix"

func fdCred(fd int) (Peer, error) {
	u, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return Peer{}, err
	}
	return Peer{UID: int(u.Uid), GID: int(u.Gid), PID: int(u.Pid)}, nil
}
