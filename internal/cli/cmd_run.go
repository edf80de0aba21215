package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/httpd"
	"github.com/mcpdrift/mcpdrift/internal/monitor"
	"github.com/mcpdrift/mcpdrift/internal/reaper"
	"github.com/mcpdrift/mcpdrift/internal/systemd"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/build"
	"github.com/mcpdrift/mcpdrift/store"
)

func newRunCommand(a *app) *cobra.Command {
	var allowRoot bool
	cmd := &cobra.Command{
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

The log level defaults to info for this command.

mcpdrift refuses to run as root: it starts the stdio MCP servers you
configure, and they would run as root too. Use a dedicated user (see
deploy/systemd), or pass --allow-root (or set MCPDRIFT_ALLOW_ROOT=1) in a
container that is itself unprivileged.

Under systemd (Type=notify) it reports READY=1 once its listeners are up,
pings the watchdog, and reports reloads and shutdown.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if v, _ := a.env("MCPDRIFT_ALLOW_ROOT"); os.Geteuid() == 0 && !allowRoot && v != "1" {
				return usageError("refusing to run as root: the stdio MCP servers it starts would run as root too; run it as a dedicated user (deploy/systemd), or pass --allow-root")
			}
			if !cmd.Flags().Changed("log-level") {
				logger, err := a.newLogger(cmd.ErrOrStderr(), "info", a.opts.logFormat)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				a.logger = logger
			}
			return a.runDaemon(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&allowRoot, "allow-root", false, "run even as root (containers whose root is unprivileged)")
	return cmd
}

// runDaemon wires the daemon: store, notifiers, monitor, health and
// metrics listener, admin socket, SIGHUP reloads. It returns once ctx is
// cancelled and everything has stopped and the database is closed.
func (a *app) runDaemon(ctx context.Context) error {
	// A reload reads the file found at start, never another one.
	path, implicit := a.configFile()
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	log := a.logger
	warnReadableSecrets(log, path, cfg)

	sd := systemd.FromEnv()
	// The stdio servers the daemon starts must not talk to systemd as us.
	for _, k := range []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"} {
		_ = os.Unsetenv(k)
	}

	db, err := store.Open(a.dbPath(cfg), store.Options{
		LockTimeout: cfg.Storage.LockTimeout,
		// Upgrades migrate the schema forward; keep a copy of the old file.
		BeforeMigrate: func(path string, from, to int) error {
			_ = sd.ExtendTimeout(5 * time.Minute)
			dst := fmt.Sprintf("%s.schema-v%d.bak", path, from)
			log.Info("backing up the database before migrating it", "from", from, "to", to, "backup", dst)
			return copyFile(path, dst)
		},
	})
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			err = fmt.Errorf("cannot start the daemon, another process (most likely another `mcpdrift run`) holds the database: %w", err)
		}
		return &ExitError{Code: ExitFailure, Err: err}
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
		LoadConfig: func() (*config.Config, error) { return a.readConfigFile(path, implicit) },
		Secrets:    a.secrets,
	})
	if err != nil {
		return &ExitError{Code: ExitUsage, Err: err}
	}

	ctx, cancel := context.WithCancel(ctx)
	// Whatever a stdio server detaches re-parents to the daemon, not to
	// init: it stays a descendant the admin socket refuses, and is reaped.
	if err := reaper.BecomeSubreaper(ctx, log); err != nil {
		log.Warn("cannot become a child subreaper; processes a stdio server detaches escape to init", "error", err.Error())
	}
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	if cfg.HTTP.Listen != "" {
		srv, err := httpd.Listen(httpd.Options{Listen: cfg.HTTP.Listen, WebConfigFile: cfg.HTTP.WebConfigFile,
			Gatherer: app.Registry(), Ready: app, Logger: log})
		if err != nil {
			return &ExitError{Code: ExitFailure, Err: err}
		}
		wg.Go(func() {
			if err := srv.Serve(ctx); err != nil {
				log.Error("health and metrics listener stopped", "error", err.Error())
			}
		})
	}

	// Clients use this daemon only when it holds the database they name.
	dbID, err := admin.IdentifyDatabase(db.Path())
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("cannot start the daemon: %w", err)}
	}
	sock := a.daemonSocketPath(cfg, db.Path())
	ln, err := admin.Listen(sock)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("cannot start the daemon: %w", err)}
	}
	adminOpts := admin.Options{Logger: log, Backup: db.WriteTo, Database: dbID,
		Operators: func() []string { return app.Config().Admin.Operators }}
	wg.Go(func() {
		if err := admin.Serve(ctx, ln, app.Service(), adminOpts); err != nil {
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
				_ = sd.Reloading()
				if err := app.Reload(); err != nil { // logged and exported by the monitor
					_ = sd.Status("configuration reload failed, the previous one stays: " + err.Error())
				} else {
					_ = sd.Status(watching(app))
				}
				_ = sd.Ready()
			}
		}
	})

	_ = sd.Status(watching(app))
	if err := sd.Ready(); err != nil {
		log.Warn("sd_notify READY failed", "error", err.Error())
	}
	if sd.Enabled() {
		wg.Go(func() {
			_ = sd.RunWatchdog(ctx, func() bool { return ctx.Err() == nil }, func(err error) {
				log.Warn("sd_notify WATCHDOG failed", "error", err.Error())
			})
		})
	}
	defer func() { _ = sd.Stopping() }()
	if err := app.Run(ctx); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	return nil
}

// watching is the daemon's one-line status for `systemctl status`.
func watching(app *monitor.App) string {
	n := len(app.Config().Servers)
	if n == 1 {
		return "watching 1 server"
	}
	return fmt.Sprintf("watching %d servers", n)
}

// copyFile copies src to dst (0600), syncing it, for the pre-migration
// backup.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("backup before migration: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup before migration: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return fmt.Errorf("backup before migration: %w", err)
	}
	if err := out.Sync(); err != nil {
		_ = out.Close()
		return fmt.Errorf("backup before migration: %w", err)
	}
	return out.Close()
}

// daemonSocketPath is --socket, else admin.socket, else the default location.
func (a *app) daemonSocketPath(cfg *config.Config, dbPath string) string {
	switch {
	case a.opts.socket != "":
		return a.opts.socket
	case cfg.Admin.Socket != "":
		return cfg.Admin.Socket
	default:
		return a.locator().DefaultSocketPath(dbPath)
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
