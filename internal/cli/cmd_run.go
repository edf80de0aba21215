package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/httpd"
	"github.com/mcpdrift/mcpdrift/internal/monitor"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/build"
	"github.com/mcpdrift/mcpdrift/store"
)

func newRunCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: scheduled and list_changed snapshots, alerts, health and metrics",
		Long: `Run mcpdrift as a daemon. Every enabled server is snapshotted at start-up
and then on its schedule (and on list_changed when it sets watch: true).
Drift, reminders, resolutions and unreachable servers are alerted through
the configured notifiers, with undelivered alerts kept in the database
across restarts.

The daemon holds the database; other commands reach it through its admin
socket. http.listen serves /healthz, /readyz and /metrics.

Signals: SIGTERM and SIGINT stop it gracefully; SIGHUP reloads the
configuration (a configuration that fails to load leaves the running one
in place, logs the error and sets mcpdrift_config_last_reload_successful
to 0).

The log level defaults to info for this command.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("log-level") {
				logger, err := newLogger(cmd.ErrOrStderr(), "info", a.opts.logFormat)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				a.logger = logger
			}
			return a.runDaemon(cmd.Context())
		},
	}
}

// runDaemon wires the daemon: store, notifiers, monitor, health and
// metrics listener, admin socket, SIGHUP reloads. It returns once ctx is
// cancelled and everything has stopped and the database is closed.
func (a *app) runDaemon(ctx context.Context) error {
	path := a.configPath()
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	log := a.logger
	warnReadableSecrets(log, path, cfg)

	db, err := a.openStore(cfg, false)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("cannot start the daemon, another process (most likely another `mcpdrift run`) holds the database: %w", err)}
		}
		return err
	}
	defer func() {
		if err := db.Close(); err != nil {
			log.Error("close database", "error", err.Error())
		}
	}()

	app, err := monitor.New(monitor.Options{
		Config: cfg,
		Store:  db,
		Logger: log,
		Notifiers: func(cfg *config.Config) (map[string]notifiers.Notifier, error) {
			return build.Build(cfg.Notifiers, build.Deps{Threads: db, Logger: log})
		},
		LoadConfig: func() (*config.Config, error) { return config.LoadEnv(path, a.env) },
	})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	if cfg.HTTP.Listen != "" {
		srv, err := httpd.Listen(httpd.Options{Listen: cfg.HTTP.Listen, Gatherer: app.Registry(), Ready: app, Logger: log})
		if err != nil {
			return &ExitError{Code: ExitFailure, Err: err}
		}
		wg.Go(func() {
			if err := srv.Serve(ctx); err != nil {
				log.Error("health and metrics listener stopped", "error", err.Error())
			}
		})
	}

	sock := a.daemonSocketPath(cfg, db.Path())
	ln, err := admin.Listen(sock)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("cannot start the daemon: %w", err)}
	}
	wg.Go(func() {
		if err := admin.Serve(ctx, ln, app.Service(), admin.Options{Logger: log}); err != nil {
			log.Error("admin socket stopped", "error", err.Error())
		}
	})

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading configuration", "config", path)
				_ = app.Reload() // logged and exported by the monitor
			}
		}
	})

	if err := app.Run(ctx); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	return nil
}

// daemonSocketPath is --socket, else admin.socket, else the default location.
func (a *app) daemonSocketPath(cfg *config.Config, dbPath string) string {
	switch {
	case a.opts.socket != "":
		return a.opts.socket
	case cfg.Admin.Socket != "":
		return cfg.Admin.Socket
	default:
		return admin.DefaultSocketPath(a.env, os.Getuid(), dbPath)
	}
}

// warnReadableSecrets warns when the config file holds secrets inline and
// others may read it.
func warnReadableSecrets(log *slog.Logger, path string, cfg *config.Config) {
	if !cfg.InlineSecrets() {
		return
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		log.Warn("the configuration holds secrets inline and is readable by others; use *_file or ${VAR}, or chmod 600 it",
			"config", path, "mode", fi.Mode().Perm().String())
	}
}
