// Package reaper keeps what stdio servers leave behind inside the daemon's
// process tree. BecomeSubreaper makes the daemon a child subreaper: a
// process a server detached (double fork, setsid) is re-parented to the
// daemon rather than to init, so it stays a descendant the admin socket can
// recognise, and its zombie is reaped here.
//
// Reaping must never take the exit status of a process someone is waiting
// for with os/exec: Start registers a process under a lock held across its
// start, and only unregistered zombies in another session than the
// daemon's are reaped (the probe starts every server in a new session, so
// all its descendants are in other sessions; anything else the daemon
// starts stays in its session and is never touched).
//
// The subreaper attribute and the registry belong to the whole process,
// which is why they are package state.
package reaper

import (
	"context"
	"log/slog"
	"os/exec"
	"sync"
)

var registry = struct {
	mu   sync.Mutex
	pids map[int]struct{}
}{pids: map[int]struct{}{}}

// Start starts cmd and registers its pid so that the reaper leaves it to
// cmd.Wait. Call Done with the pid once cmd.Wait has returned.
func Start(cmd *exec.Cmd) error {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	registry.pids[cmd.Process.Pid] = struct{}{}
	return nil
}

// Done unregisters a pid registered by Start, once its process has been
// waited for.
func Done(pid int) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	delete(registry.pids, pid)
}

// reapIf reaps pid, under the registry lock, unless it is registered.
func reapIf(pid int, reap func(int) bool) bool {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if _, ok := registry.pids[pid]; ok {
		return false
	}
	return reap(pid)
}

// The subreaper is shared by every caller of BecomeSubreaper (in tests,
// several daemons run in one process): it is on while any of them runs.
var sub = struct {
	mu    sync.Mutex
	users int
	stop  context.CancelFunc
	done  chan struct{}
}{}

// BecomeSubreaper makes the process a child subreaper and reaps orphaned
// zombies until ctx ends. It fails where the system has no subreapers
// (anything but Linux); the daemon logs that and carries on.
func BecomeSubreaper(ctx context.Context, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.users == 0 {
		if err := setSubreaper(true); err != nil {
			return err
		}
		lctx, cancel := context.WithCancel(context.Background())
		sub.stop, sub.done = cancel, make(chan struct{})
		go func() {
			defer close(sub.done)
			loop(lctx, log.With("component", "reaper"))
		}()
	}
	sub.users++
	go func() {
		<-ctx.Done()
		release()
	}()
	return nil
}

func release() {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	if sub.users--; sub.users > 0 {
		return
	}
	sub.stop()
	<-sub.done
	// Orphans from now on go to init again; those already here stay
	// children of this process.
	_ = setSubreaper(false)
}
