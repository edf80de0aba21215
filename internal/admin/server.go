package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/service"
	"github.com/mcpdrift/mcpdrift/internal/version"
)

// Defaults of Options.
const (
	DefaultRequestTimeout  = time.Minute
	DefaultCheckTimeout    = 15 * time.Minute
	DefaultShutdownTimeout = 5 * time.Second
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxImportBytes  = 256 << 20

	readHeaderTimeout = 5 * time.Second
	bodyReadTimeout   = 10 * time.Second
	idleTimeout       = time.Minute
	maxHeaderBytes    = 64 << 10
	// writeSlack lets a handler that ran into its deadline still write its
	// error reply.
	writeSlack = 5 * time.Second
)

// Options tune Serve. The zero value is usable.
type Options struct {
	// Logger gets one debug line per request (component=admin, peer,
	// endpoint, status, duration; never bodies) and handler panics at
	// error. Nil discards.
	Logger *slog.Logger
	// Version is what /v1/ping reports; zero means version.Get().
	Version version.Info
	// RequestTimeout bounds every request but check (default 1m).
	RequestTimeout time.Duration
	// CheckTimeout bounds POST /v1/check, which probes servers (default 15m).
	CheckTimeout time.Duration
	// ShutdownTimeout is how long Serve waits for in-flight replies after
	// ctx is cancelled before closing connections (default 5s).
	ShutdownTimeout time.Duration
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxImportBytes bounds a lockfile sent for import (default 256 MiB).
	MaxImportBytes int64
	// Backup, when set, writes a consistent copy of the database (the
	// daemon passes its store's WriteTo); GET /v1/backup streams it.
	Backup func(w io.Writer) (int64, error)
	// BackupTimeout bounds a backup (default 30m).
	BackupTimeout time.Duration
	// Database is the database the daemon holds, reported on /v1/ping so
	// that a client uses only the daemon of its own database.
	Database Database
	// Operators, when set and returning any names, are the OS users who
	// may approve and import (admin.operators, re-read on each request so a
	// reload applies); anyone else, the daemon's own user included unless
	// listed, is refused. Entries are user names or "uid:N".
	Operators func() []string
	// DaemonPID is the process whose descendants are refused on every
	// endpoint but ping: the daemon starts nothing but probes, so a
	// descendant is a probed server or something it left behind. Zero
	// means this process.
	DaemonPID int
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BackupTimeout <= 0 {
		o.BackupTimeout = 30 * time.Minute
	}
	if o.Version == (version.Info{}) {
		o.Version = version.Get()
	}
	if o.DaemonPID <= 0 {
		o.DaemonPID = os.Getpid()
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxImportBytes <= 0 {
		o.MaxImportBytes = DefaultMaxImportBytes
	}
	return o
}

// Serve answers admin requests on ln with svc until ctx is cancelled, then
// shuts down: in-flight requests see their context cancelled and get up to
// Options.ShutdownTimeout to reply before connections are closed. It
// closes ln. It returns nil after a shutdown caused by ctx, and refuses a
// listener that is not a unix socket. Each connection is served on its own
// goroutine, so a slow client holds up nobody else.
func Serve(ctx context.Context, ln net.Listener, svc service.Service, opts Options) error {
	if ln.Addr().Network() != "unix" {
		_ = ln.Close()
		return fmt.Errorf("admin: refusing to serve on a %s listener (%s): the admin API is unix-socket only", ln.Addr().Network(), ln.Addr())
	}
	opts = opts.withDefaults()
	log := opts.Logger.With("component", "admin")
	srv := &http.Server{
		Handler:           newHandler(svc, opts, log),
		ReadHeaderTimeout: readHeaderTimeout,
		// No ReadTimeout or WriteTimeout: both would count a long check
		// against the connection, and an expired read deadline cancels the
		// request's context. Handlers set their own deadlines instead.
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		BaseContext:    func(net.Listener) context.Context { return ctx },
		ConnContext:    withPeer,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	log.Info("admin socket listening", "socket", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve admin socket %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opts.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("admin socket: in-flight requests cut off at shutdown", "err", err)
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve admin socket %s: %w", ln.Addr(), err)
	}
	log.Info("admin socket closed", "socket", ln.Addr().String())
	return nil
}

type handler struct {
	svc  service.Service
	opts Options
	log  *slog.Logger
}

func newHandler(svc service.Service, opts Options, log *slog.Logger) http.Handler {
	h := &handler{svc: svc, opts: opts, log: log}
	mux := http.NewServeMux()
	// Ping answers anyone who can connect: it is the health check and
	// says who is asking. Everything else refuses the daemon's probes.
	mux.HandleFunc("GET "+pathPing, h.ping)
	mux.HandleFunc("GET "+pathStatus, h.notFromProbe(h.status))
	mux.HandleFunc("GET "+pathInv, h.notFromProbe(h.inventory))
	mux.HandleFunc("GET "+pathAuth, h.notFromProbe(h.authStatus))
	mux.HandleFunc("POST "+pathLogin, h.notFromProbe(h.authLogin))
	mux.HandleFunc("POST "+pathLogout, h.notFromProbe(h.authLogout))
	mux.HandleFunc("POST "+pathCheck, h.notFromProbe(h.check))
	mux.HandleFunc("GET "+pathDiff, h.notFromProbe(h.diff))
	mux.HandleFunc("POST "+pathApprove, h.notFromProbe(h.approve))
	mux.HandleFunc("GET "+pathHistory, h.notFromProbe(h.history))
	mux.HandleFunc("GET "+pathShow, h.notFromProbe(h.show))
	mux.HandleFunc("GET "+pathBackup, h.notFromProbe(h.backup))
	mux.HandleFunc("POST "+pathImport, h.notFromProbe(h.importLock))
	mux.HandleFunc("/", h.unknown)
	return h.middleware(mux)
}

// recorder remembers the status for the request log and whether a panic
// can still be answered.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's deadlines.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// middleware bounds each request in time, turns panics into 500 replies
// and logs the request.
func (h *handler) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		timeout := h.opts.RequestTimeout
		if r.URL.Path == pathCheck {
			timeout = h.opts.CheckTimeout
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		rec := &recorder{ResponseWriter: w}
		// Deadlines are per connection: set them for every request, as a
		// keep-alive connection carries the previous one's.
		_ = http.NewResponseController(rec).SetWriteDeadline(start.Add(timeout + writeSlack))
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				h.log.Error("admin handler panicked", "endpoint", r.Method+" "+r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(rec, KindInternal, http.StatusInternalServerError, "internal error in the daemon's admin handler (see the daemon log)")
				}
			}
			h.logRequest(r, rec.status, time.Since(start))
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

func (h *handler) logRequest(r *http.Request, status int, took time.Duration) {
	ctx := r.Context()
	if !h.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []any{"endpoint", r.Method + " " + r.URL.Path, "status", status, "duration", took}
	if p, err := peerOf(ctx); err == nil {
		attrs = append(attrs, "user", p.User, "uid", p.UID, "gid", p.GID, "pid", p.PID)
	} else {
		attrs = append(attrs, "peer_err", err.Error())
	}
	h.log.DebugContext(ctx, "admin request", attrs...)
}

func (h *handler) ping(w http.ResponseWriter, r *http.Request) {
	// A health check works even where the kernel names no peer.
	p, _ := peerOf(r.Context())
	writeJSON(w, Ping{Service: "mcpdrift", Version: h.opts.Version, PID: os.Getpid(), Peer: p, Database: h.opts.Database})
}

func (h *handler) status(w http.ResponseWriter, r *http.Request) {
	servers, err := h.svc.Status(r.Context(), r.URL.Query()["server"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, statusResponse{Servers: servers})
}

func (h *handler) inventory(w http.ResponseWriter, r *http.Request) {
	servers, err := h.svc.Inventory(r.Context(), r.URL.Query()["server"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, inventoryResponse{Servers: servers})
}

func (h *handler) authStatus(w http.ResponseWriter, r *http.Request) {
	servers, err := h.svc.AuthStatus(r.Context(), r.URL.Query()["server"])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, authStatusResponse{Servers: servers})
}

// authLogin stores the grant an operator's auth login obtained; like
// approve, only an operator may.
func (h *handler) authLogin(w http.ResponseWriter, r *http.Request) {
	var req authLoginRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.writer(r.Context(), "store an OAuth grant"); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.svc.AuthLogin(r.Context(), req.Grant); err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, struct{}{})
}

// authLogout revokes and deletes a server's grant; only an operator may.
func (h *handler) authLogout(w http.ResponseWriter, r *http.Request) {
	var req authLogoutRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.writer(r.Context(), "log out"); err != nil {
		h.fail(w, r, err)
		return
	}
	revoked, err := h.svc.AuthLogout(r.Context(), req.Server)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, authLogoutResponse{Revoked: revoked})
}

func (h *handler) check(w http.ResponseWriter, r *http.Request) {
	var req checkRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	rep, err := h.svc.Check(r.Context(), req.Servers, req.As...)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, rep)
}

func (h *handler) diff(w http.ResponseWriter, r *http.Request) {
	name, err := serverParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.svc.Diff(r.Context(), name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, s)
}

// approve records the socket peer as the approver and the daemon's own
// method, whatever the body says.
func (h *handler) approve(w http.ResponseWriter, r *http.Request) {
	var req approveRequest
	if err := h.decode(w, r, &req); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.writer(r.Context(), "approve")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if (req.Approver != "" && req.Approver != p.User) || (req.Method != "" && req.Method != service.MethodCLI) {
		h.log.Debug("approve: ignoring the approver and method the client sent",
			"sent_approver", req.Approver, "sent_method", req.Method, "user", p.User, "uid", p.UID)
	}
	a, err := h.svc.Approve(r.Context(), approval.Request{
		Server: req.Server, Snapshot: req.Snapshot, Tools: req.Tools, Comment: req.Comment,
		Method: service.MethodCLI, Approver: p.User,
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, a)
}

// importLock imports a lockfile's servers as baselines, approved by the
// socket peer. A lockfile can be far larger than any other request.
func (h *handler) importLock(w http.ResponseWriter, r *http.Request) {
	var req importRequest
	if err := h.decodeLimit(w, r, &req, h.opts.MaxImportBytes); err != nil {
		h.fail(w, r, err)
		return
	}
	p, err := h.writer(r.Context(), "import")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.svc.ImportLock(r.Context(), service.ImportRequest{
		Lockfile: req.Lockfile, Servers: req.Servers, Approver: p.User,
		Comment: req.Comment, AcceptEdits: req.AcceptEdits,
	})
	if err != nil {
		if len(res) > 0 {
			done := make([]string, len(res))
			for i, r := range res {
				done[i] = r.Server
			}
			err = fmt.Errorf("%w (done before the failure: %s)", err, strings.Join(done, ", "))
		}
		h.fail(w, r, err)
		return
	}
	out := make([]imported, len(res))
	for i, r := range res {
		out[i] = imported{Server: r.Server, Unchanged: r.Unchanged, Edited: r.Edited}
		if !r.Unchanged {
			out[i].Approval = &r.Approval
		}
	}
	writeJSON(w, out)
}

func (h *handler) history(w http.ResponseWriter, r *http.Request) {
	name, err := serverParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 {
			h.fail(w, r, fmt.Errorf("%w: limit %q is not a non-negative integer", service.ErrUsage, v))
			return
		}
	}
	hist, err := h.svc.History(r.Context(), name, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, hist)
}

func (h *handler) show(w http.ResponseWriter, r *http.Request) {
	name, err := serverParam(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	req := service.ShowRequest{Server: name, Snapshot: q.Get("snapshot")}
	if v := q.Get("baseline"); v != "" {
		if req.Baseline, err = strconv.ParseBool(v); err != nil {
			h.fail(w, r, fmt.Errorf("%w: baseline %q is not true or false", service.ErrUsage, v))
			return
		}
	}
	doc, err := h.svc.Show(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(doc)
}

// backup streams the database from one read transaction. Once bytes have
// been sent a failure can only cut the stream short; the client detects the
// short copy (length and consistency check) and discards it.
func (h *handler) backup(w http.ResponseWriter, r *http.Request) {
	if h.opts.Backup == nil {
		h.fail(w, r, fmt.Errorf("%w: this daemon cannot stream backups", service.ErrUsage))
		return
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(h.opts.BackupTimeout))
	w.Header().Set("Content-Type", "application/octet-stream")
	if _, err := h.opts.Backup(w); err != nil {
		h.log.Error("admin backup failed", "error", err.Error())
	}
}

func (h *handler) unknown(w http.ResponseWriter, r *http.Request) {
	writeError(w, KindUsage, http.StatusNotFound, fmt.Sprintf(
		"the daemon (mcpdrift %s) has no endpoint %s %s: is the CLI newer than the daemon?",
		h.opts.Version.Version, r.Method, r.URL.Path))
}

func serverParam(r *http.Request) (string, error) {
	name := r.URL.Query().Get("server")
	if name == "" {
		return "", fmt.Errorf("%w: missing server", service.ErrUsage)
	}
	return name, nil
}

// decode reads a bounded JSON body within bodyReadTimeout. Unknown fields
// are refused: a daemon that ignored an option from a newer CLI (say, one
// narrowing an approval) would do more than asked.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	return h.decodeLimit(w, r, v, h.opts.MaxBodyBytes)
}

// decodeLimit is decode with a body of at most limit bytes.
func (h *handler) decodeLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(bodyReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	// Clear the deadline before the service runs: once the body is read,
	// net/http watches the connection, and an expired deadline there would
	// cancel the request's context.
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return fmt.Errorf("%w: request body larger than %d bytes", service.ErrUsage, mbe.Limit)
		}
		return fmt.Errorf("read request body: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %w", service.ErrUsage, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: request body: data after the JSON value", service.ErrUsage)
	}
	return nil
}

// fail writes err with its kind. The message is the service's own: the
// CLI prints it as a local run would.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	kind, status := kindOf(err)
	if kind == KindInternal {
		h.log.Warn("admin request failed", "endpoint", r.Method+" "+r.URL.Path, "err", err)
	}
	writeError(w, kind, status, err.Error())
}

func writeError(w http.ResponseWriter, kind string, status int, msg string) {
	b, _ := json.Marshal(errorBody{Error: msg, Kind: kind})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, KindInternal, http.StatusInternalServerError, fmt.Sprintf("encode reply: %v", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(b, '\n'))
}
