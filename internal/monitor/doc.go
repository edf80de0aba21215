// Package monitor is the daemon behind `mcpdrift run`: it schedules a
// snapshot of every configured server (cron schedules with start-up stagger,
// per-run jitter and bounded concurrency), holds watch sessions open to
// servers with `watch: true` and re-snapshots them on list_changed (the
// watch session lists too, as a long-lived client: session.go), runs the
// persisted alert lifecycle (drift, reminders, resolution, unreachable,
// flapping: flap.go) with a per-server rate limit (ratelimit.go), and
// delivers alerts from the persisted outbox through one worker per notifier.
// It also owns the daemon's Prometheus metrics and readiness, and applies
// configuration reloads atomically.
//
// monitor decides when to check and whom to tell. It does not probe, diff or
// store snapshots itself (the engine does), does not render or send
// messages (notifiers do), and does not serve HTTP or the admin socket
// (httpd and admin do, from what App exposes).
//
// Time comes from a Clock so tests can drive schedules, reminders and
// retries with a fake one. Per-check deadlines are real time: they guard
// against real hangs.
package monitor
