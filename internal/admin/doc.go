// Package admin owns the daemon's admin API: HTTP/1.1 with JSON bodies over
// a unix socket, so that every CLI command works while `mcpdrift run` holds
// the bbolt database (bbolt allows one process at a time). It serves a
// service.Service (Serve), implements one as a client (Client), and
// manages the socket file (Listen, DefaultSocketPath).
//
// admin decides nothing about checks, drift or approvals: it carries
// requests to the Service and its answers and errors back, keeping each
// error's kind (service.ErrUsage, service.ErrNotFound, store.ErrConflict)
// and message. It never listens on TCP.
//
// Identity: the approver of an approval made through the socket is the
// peer's OS user as the kernel reports it (SO_PEERCRED), resolved with
// os/user and falling back to "uid:N". A name the client sends is ignored.
//
// Access: the socket is mode 0660, so the daemon's user and group may
// connect and nobody else. Operators who may approve join the daemon's
// group (the socket gets the daemon's primary group, or its directory's
// group when that directory is setgid). With systemd: User=mcpdrift,
// Group=mcpdrift, RuntimeDirectory=mcpdrift, RuntimeDirectoryMode=0750.
//
// Endpoints (curl --unix-socket PATH http://mcpdrift/v1/...):
//
//	GET  /v1/ping                                  Ping
//	GET  /v1/status?server=a&server=b              {"servers": [report.Server]}
//	POST /v1/check    {"servers": ["a"]}           report.Report
//	GET  /v1/diff?server=a                         report.Server
//	POST /v1/approve  {"server", "snapshot", "tools", "comment", "method"}
//	GET  /v1/history?server=a&limit=N              service.History
//	GET  /v1/show?server=a[&snapshot=ID|&baseline=true]   the manifest
//
// Errors are {"error": "...", "kind": "usage|not_found|conflict|internal"}
// with status 400, 404, 409 or 500.
package admin
