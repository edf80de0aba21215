// Package logonce logs a repeated identical error once, then its recovery:
// the daemon's loops (scheduled checks, watch sessions, notifier workers)
// fail the same way many times in a row, and one line says it.
package logonce

import (
	"log/slog"
	"sync"
	"time"
)

// Log logs a run of failures and the recovery that ends it. The zero
// value is ready; it is safe for concurrent use.
type Log struct {
	mu    sync.Mutex
	last  string
	count int
	since time.Time
}

// Fail logs msg with err at warn the first time err occurs and at debug
// while it repeats.
func (e *Log) Fail(log *slog.Logger, msg, err string, attrs ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count++
	if e.count == 1 {
		e.since = time.Now()
	}
	if err == e.last {
		log.Debug(msg+" again", append(attrs, "error", err, "times", e.count)...)
		return
	}
	e.last = err
	log.Warn(msg, append(attrs, "error", err)...)
}

// Recover logs msg at info, with how many failures it ends and for how
// long, if any failure was logged since the last recovery.
func (e *Log) Recover(log *slog.Logger, msg string, attrs ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.count == 0 {
		return
	}
	log.Info(msg, append(attrs, "failures", e.count, "failing_for", time.Since(e.since).Round(time.Second))...)
	e.last, e.count = "", 0
}
