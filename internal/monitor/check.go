package monitor

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/monitor/logonce"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// What started a check, for logs, besides the schedule's
// (schedule.TriggerStartup, schedule.TriggerSchedule).
const (
	triggerListChanged = "list_changed"
	triggerManual      = "manual"
)

// check runs one check of s: it takes the server's busy token (or skips,
// unless wait is set), a concurrency slot, and runs the check under the
// server's deadline. A check that overruns its deadline by CheckGrace has
// its slot handed on, so a hung server never holds up the others; the
// server itself is not checked again until the hung check returns.
func (a *App) check(ctx context.Context, s *config.Server, trigger string, wait bool) (report.Server, bool) {
	busy := a.sched.Busy(s.Name)
	if wait {
		select {
		case busy <- struct{}{}:
		case <-ctx.Done():
			return report.Server{}, false
		}
	} else {
		select {
		case busy <- struct{}{}:
		default:
			a.m.skipped.WithLabelValues(s.Name).Inc()
			a.log.Debug("previous check still running; tick skipped", "server", s.Name, "trigger", trigger)
			return report.Server{}, false
		}
	}
	release, err := a.engine.Limit.Acquire(ctx)
	if err != nil {
		<-busy
		return report.Server{}, false
	}
	if !a.track() {
		release()
		<-busy
		return report.Server{}, false
	}
	done := make(chan struct{})
	var rs report.Server
	var ok bool
	go func() {
		defer a.wg.Done()
		defer func() { <-busy }()
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				a.log.Error("check panicked", "server", s.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
		}()
		rs, ok = a.runCheck(ctx, s, trigger)
	}()
	watchdog := time.NewTimer(engine.CheckDeadline(s) + a.opts.CheckGrace)
	defer watchdog.Stop()
	select {
	case <-done:
		release()
		return rs, ok
	case <-watchdog.C:
		release()
		a.log.Error("check overran its deadline; its concurrency slot is released and the server is skipped until it returns",
			"server", s.Name, "timeout", s.Timeout)
		return report.Server{}, false
	}
}

// runCheck checks s and feeds the outcome to the logs, the alert
// lifecycle, readiness and the metrics.
func (a *App) runCheck(ctx context.Context, s *config.Server, trigger string) (report.Server, bool) {
	cctx, cancel := context.WithTimeout(ctx, engine.CheckDeadline(s)+a.opts.CheckGrace)
	defer cancel()
	gen := a.life.generation(s.Name)
	start := time.Now()
	rs := a.engine.CheckServer(cctx, s)
	dur := time.Since(start)
	if ctx.Err() != nil {
		// Shutting down or the server was removed: not the server's fault.
		a.log.Debug("check cancelled", "server", s.Name)
		return rs, false
	}
	now := a.clock.Now()
	a.observeTools(rs)
	a.logCheck(s.Name, rs, dur, trigger)
	a.life.observe(s, rs, gen)
	a.sched.Completed(s.Name, now)
	// Counted last: a check counted in mcpdrift_checks_total has been
	// fed to the alert lifecycle and readiness.
	a.m.observeCheck(rs, now)
	return rs, true
}

// logCheck writes the one line per snapshot: its result at info, or its
// error at warn the first time it occurs and at debug while it repeats,
// then the recovery at info.
func (a *App) logCheck(name string, rs report.Server, dur time.Duration, trigger string) {
	a.checkLogsMu.Lock()
	el := a.checkLogs[name]
	if el == nil {
		el = &logonce.Log{}
		a.checkLogs[name] = el
	}
	a.checkLogsMu.Unlock()
	attrs := []any{"server", name, "trigger", trigger, "duration", dur.Round(time.Millisecond)}
	if rs.Status == report.StatusError {
		el.Fail(a.log, "snapshot failed", rs.Error, attrs...)
		return
	}
	el.Recover(a.log, "server recovered", attrs...)
	snap := ""
	if rs.Snapshot != nil {
		snap = rs.Snapshot.ID
	}
	a.log.Info("snapshot", append(attrs, "result", rs.Status, "snapshot", snap, "severity", rs.MaxSeverity().String(), "changes", len(rs.Changes))...)
}
