// Package httpd serves the daemon's health and metrics over HTTP:
// /healthz (the process is alive), /readyz (the daemon says it is fit to
// serve) and /metrics (Prometheus exposition of a given registry). It owns
// the listener and nothing else: what "ready" means and which metrics
// exist are the caller's.
//
// TLS and basic auth come from a Prometheus exporter-toolkit web config
// file (Options.WebConfigFile, the same format node_exporter and
// Prometheus read), applied to the whole listener and re-read on every
// request, as the toolkit does.
package httpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"
)

// Timeouts of the listener. Scrapes and probes are small requests: a
// client that dribbles headers or never reads is cut off.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	// DefaultShutdownTimeout bounds how long Serve waits for requests in
	// flight once its context is cancelled.
	DefaultShutdownTimeout = 5 * time.Second
)

// Readiness is what /readyz asks: nil when ready, else why not.
type Readiness interface {
	Ready() error
}

// Options configure a Server.
type Options struct {
	// Listen is host:port, e.g. "127.0.0.1:9464"; port 0 picks one.
	Listen string
	// WebConfigFile is an exporter-toolkit web config (tls_server_config,
	// basic_auth_users, ...) protecting the listener; empty serves plain
	// HTTP to anyone who can connect.
	WebConfigFile string
	// Gatherer is exposed on /metrics.
	Gatherer prometheus.Gatherer
	// Ready backs /readyz.
	Ready  Readiness
	Logger *slog.Logger
	// ShutdownTimeout defaults to DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// Server is a bound health and metrics listener.
type Server struct {
	ln        net.Listener
	srv       *http.Server
	log       *slog.Logger
	shutdown  time.Duration
	webConfig string
}

// Listen binds the address now, so that a port in use is reported at
// start-up rather than once serving begins.
func Listen(opts Options) (*Server, error) {
	switch {
	case opts.Listen == "":
		return nil, errors.New("httpd: empty listen address")
	case opts.Gatherer == nil || opts.Ready == nil || opts.Logger == nil:
		return nil, errors.New("httpd: Gatherer, Ready and Logger are required")
	}
	// The toolkit reads the file per request; a broken one must fail the
	// start, not every scrape.
	if err := web.Validate(opts.WebConfigFile); err != nil {
		return nil, fmt.Errorf("http.web_config_file %s: %w", opts.WebConfigFile, err)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on http.listen %s: %w", opts.Listen, err)
	}
	log := opts.Logger.With("component", "httpd")
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	return &Server{ln: ln, log: log, shutdown: opts.ShutdownTimeout, webConfig: opts.WebConfigFile, srv: &http.Server{
		Handler:           Handler(opts.Gatherer, opts.Ready, log),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}}, nil
}

// Addr returns the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx is cancelled, then shuts down within the
// shutdown timeout, closing connections still open by then.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	flags := &web.FlagConfig{WebConfigFile: &s.webConfig}
	go func() { errc <- web.Serve(s.ln, s.srv, flags, s.log) }()
	s.log.Info("serving health and metrics", "addr", s.Addr(), "web_config_file", s.webConfig)
	select {
	case err := <-errc:
		return fmt.Errorf("serve http on %s: %w", s.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdown)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		_ = s.srv.Close()
		return fmt.Errorf("shut down http on %s: %w", s.Addr(), err)
	}
	return nil
}

// Handler returns the mux: /healthz, /readyz, /metrics.
func Handler(g prometheus.Gatherer, ready Readiness, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "not ready: %s\n", err)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:          slogPromLogger{log},
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	}))
	return mux
}

// slogPromLogger adapts slog to promhttp's error logger.
type slogPromLogger struct{ l *slog.Logger }

func (p slogPromLogger) Println(v ...any) { p.l.Error("metrics: " + fmt.Sprint(v...)) }
