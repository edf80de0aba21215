// Package monitor is the daemon behind `mcpdrift run`: App joins its
// parts over one open store. Each part takes only what it uses:
//
//   - package schedule decides when each configured server is checked
//     (its cron schedule, start-up stagger, per-run jitter) and keeps the
//     watch sessions of servers with `watch: true` running; the watch
//     session re-snapshots on list_changed (watcher.go) and lists too, as
//     a long-lived client (session.go). App.check (check.go) runs each
//     check through the engine under the shared concurrency limit, a
//     server's checks never overlapping.
//   - the alert lifecycle: package incident decides, as pure functions,
//     what a check or a re-read of the stored drift means for a server's
//     incidents (drift, reminders, resolution, unreachable, flapping, the
//     per-server rate limit); lifecycle.go persists its decisions with
//     their deliveries in one transaction and wakes the outbox.
//   - package outbox delivers the persisted outbox through one worker per
//     notifier.
//
// App also owns the daemon's Prometheus metrics and readiness, and applies
// configuration reloads atomically.
//
// monitor decides when to check and whom to tell. It does not probe, diff or
// store snapshots itself (the engine does), does not render or send
// messages (notifiers do), and does not serve HTTP or the admin socket
// (httpd and admin do, from what App exposes).
//
// Time comes from a clock.Clock; tests run the daemon in a testing/synctest
// bubble, where the real clock is a fake one. Per-check deadlines are real
// time: they guard against real hangs.
package monitor
