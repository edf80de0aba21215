// Package admin owns the daemon's admin API: HTTP/1.1 with JSON bodies over
// a unix socket, so that every CLI command works while `mcpdrift run` holds
// the bbolt database (bbolt allows one process at a time). It serves a
// service.Service (Serve), implements one as a client (Client), finds the
// daemon of a database (Connect, Locator) and manages the socket file
// (Listen).
//
// admin decides nothing about checks, drift or approvals: it carries
// requests to the Service and its answers and errors back, keeping each
// error's kind (service.ErrUsage, service.ErrNotFound, store.ErrConflict,
// service.ErrForbidden) and message. It never listens on TCP.
//
// Which daemon: /v1/ping reports the database the daemon holds (Database:
// absolute path, device and inode), and Connect uses a daemon only when it
// holds the database the caller names; every other daemon it finds is
// skipped and returned with the reason. Socket discovery takes the
// environment, uid and system runtime directory as parameters (Locator),
// never from the process.
//
// Identity: the approver of an approval made through the socket is the
// peer's OS user as the kernel reports it (SO_PEERCRED), resolved with
// os/user and falling back to "uid:N". A name the client sends is ignored,
// and so is a method: the daemon records its own (service.MethodCLI).
//
// Access: the socket is mode 0660, so the daemon's user and group may
// connect and nobody else. Operators who may approve join the daemon's
// group (the socket gets the daemon's primary group, or its directory's
// group when that directory is setgid). With systemd: User=mcpdrift,
// Group=mcpdrift, RuntimeDirectory=mcpdrift, RuntimeDirectoryMode=0750.
// Behind that, the daemon refuses what a probe could fake: every endpoint
// but ping refuses a process descended from the daemon (Linux, from the
// parent pids in /proc: the daemon starts nothing but probes), and when
// Options.Operators names users (admin.operators) only they may approve,
// import, or store and revoke OAuth grants, so the daemon's own user,
// which its probes run as, may not unless listed.
//
// Endpoints (curl --unix-socket PATH http://mcpdrift/v1/...):
//
//	GET  /v1/ping                                  Ping
//	GET  /v1/status?server=a&server=b              {"servers": [report.Server]}
//	POST /v1/check    {"servers": ["a"]}           report.Report
//	GET  /v1/diff?server=a                         report.Server
//	POST /v1/approve  {"server", "snapshot", "tools", "comment"}
//	GET  /v1/history?server=a&limit=N              service.History
//	GET  /v1/show?server=a[&snapshot=ID|&baseline=true]   the manifest
//	GET  /v1/auth/status?server=a                  {"servers": [oauth.Status]} (no token or secret)
//	POST /v1/auth/login   {"grant": oauth.Record}  {} (operators only; the daemon seals it)
//	POST /v1/auth/logout  {"server": "a"}          {"revoked": bool} (operators only)
//
// Errors are {"error": "...", "kind": "usage|not_found|conflict|forbidden|internal"}
// with status 400, 404, 409, 403 or 500.
package admin
