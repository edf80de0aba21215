package monitor

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/logonce"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/target"
)

// stableSession is how long a watch session must have lasted for the
// reconnection backoff to start over.
const stableSession = time.Minute

// watch holds a watch session open to s for as long as ctx lives,
// reconnecting with exponential backoff, and re-snapshots s (on a fresh
// session, through the scheduler's check) when it reports a list change.
// The session behaves as a long-lived client: it lists when it opens, and
// every check of s lists in it again (App.instrumentedProbe), so what a
// client that keeps its session is served after a list_changed is
// compared with the baseline too, and with what a fresh session gets.
func (a *App) watch(ctx context.Context, s *config.Server) {
	log := a.log.With("server", s.Name)
	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default:
		}
	}
	a.goLoop(ctx, func(ctx context.Context) { a.triggerLoop(ctx, s, trigger) })

	backoff := a.opts.ReconnectMin
	failed := false
	// wasOpen: a session was open since the last snapshot this loop
	// asked for. A server that comes back from a lost session may be
	// another version, whatever it advertises now: it is snapshotted at
	// once, not at its next scheduled poll.
	wasOpen := false
	var el logonce.Log
	for ctx.Err() == nil {
		t, err := target.For(s)
		if err != nil {
			el.Fail(log, "watch session cannot start", err.Error())
			if !clock.Sleep(ctx, a.clock, a.opts.ReconnectMax) {
				return
			}
			continue
		}
		t.Logger = a.opts.Logger
		if t.OAuth, err = a.authorizer(s, t); err != nil {
			el.Fail(log, "watch session cannot start", err.Error())
			if !clock.Sleep(ctx, a.clock, a.opts.ReconnectMax) {
				return
			}
			continue
		}
		opened := a.clock.Now()
		var session *probe.WatchSession
		err = a.opts.Watch(ctx, t, probe.WatchOptions{
			OnSession: func(ws *probe.WatchSession) {
				session = ws
				a.sessions.set(s.Name, ws)
			},
			OnChange: func(list string) {
				a.m.listChanged.WithLabelValues(s.Name).Inc()
				poke()
			},
			OnReady: func() {
				a.m.watching.WithLabelValues(s.Name).Set(1)
				if !failed {
					wasOpen = true
					log.Info("watch session open")
					return
				}
				el.Recover(log, "watch session reopened")
				// Changes made while the session was down went unannounced.
				wasOpen = true
				poke()
			},
			PingInterval: a.opts.WatchPing,
		})
		a.m.watching.WithLabelValues(s.Name).Set(0)
		if session != nil {
			a.sessions.drop(s.Name, session)
		}
		if ctx.Err() != nil {
			return
		}
		failed = true
		if errors.Is(err, probe.ErrNoListChanged) {
			el.Fail(log, "not watching: the server advertises no listChanged; its schedule still applies", err.Error())
			if wasOpen {
				// Reconnected to a server that no longer offers
				// listChanged: likely a new version. Snapshot it now.
				wasOpen = false
				poke()
			}
			if !clock.Sleep(ctx, a.clock, a.opts.ReconnectMax) {
				return
			}
			continue
		}
		if a.clock.Now().Sub(opened) >= stableSession {
			backoff = a.opts.ReconnectMin
		}
		msg := "watch session ended; reconnecting"
		if err == nil {
			msg = "watch session closed; reconnecting"
			err = errors.New("closed")
		}
		el.Fail(log, msg, err.Error(), "backoff", backoff)
		// Full jitter over the upper half keeps reconnecting daemons apart.
		wait := backoff/2 + rand.N(backoff/2+1) //nolint:gosec // jitter needs no cryptographic randomness
		if !clock.Sleep(ctx, a.clock, wait) {
			return
		}
		backoff = min(2*backoff, a.opts.ReconnectMax)
	}
}

// triggerLoop turns list_changed notifications into snapshots: the first
// of a burst waits Debounce for the rest, snapshots are at least
// WatchMinInterval apart however fast notifications come, and
// notifications that arrive during a snapshot cause one more afterwards.
// Each snapshot goes through the shared concurrency limit and takes one
// slot at most, so a flooding server cannot starve the others.
func (a *App) triggerLoop(ctx context.Context, s *config.Server, trigger <-chan struct{}) {
	drain := func() {
		select {
		case <-trigger:
		default:
		}
	}
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
		}
		if !clock.Sleep(ctx, a.clock, a.opts.Debounce) {
			return
		}
		if !last.IsZero() {
			if wait := last.Add(a.opts.WatchMinInterval).Sub(a.clock.Now()); wait > 0 && !clock.Sleep(ctx, a.clock, wait) {
				return
			}
		}
		// What arrived until now is covered by the snapshot about to start.
		drain()
		last = a.clock.Now()
		a.check(ctx, s, triggerListChanged, true)
	}
}
