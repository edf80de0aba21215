package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/service"
	"github.com/mcpdrift/mcpdrift/store"
)

// service loads the config and returns the backend for a command.
func (a *app) service(cmd *cobra.Command, readOnly bool) (service.Service, func(), error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	return a.backend(cmd.Context(), cfg, readOnly)
}

// backend returns the service a command works through, and a function to
// release it: the admin socket of the daemon holding the database when one
// runs (bbolt lets one process hold it), else the database opened directly.
func (a *app) backend(ctx context.Context, cfg *config.Config, readOnly bool) (service.Service, func(), error) {
	c, ignored, err := a.connect(ctx, cfg, a.dbPath(cfg))
	switch {
	case err == nil:
		return c, c.Close, nil
	case !errors.Is(err, admin.ErrNoDaemon):
		return nil, nil, &ExitError{Code: ExitFailure, Err: err}
	}
	db, err := a.openStore(cfg, readOnly)
	if err != nil {
		return nil, nil, withIgnored(err, ignored)
	}
	svc := service.NewLocal(cfg, db, a.logger)
	return svc, func() {
		if err := db.Close(); err != nil {
			a.logger.Warn("close database", slog.String("error", err.Error()))
		}
	}, nil
}

// locator finds admin sockets from the host's environment and user.
func (a *app) locator() admin.Locator {
	return admin.Locator{Env: a.env, UID: a.host.UID, RunDir: a.host.RunDir}
}

// connect finds the daemon holding the database at dbPath (--socket, else
// admin.socket, else where daemons listen by default), naming the one it
// uses at info and every other it found, and why it skipped it, at warn
// (info for sockets it could not use at all).
func (a *app) connect(ctx context.Context, cfg *config.Config, dbPath string) (*admin.Client, []admin.Ignored, error) {
	socket := a.opts.socket
	if socket == "" {
		socket = cfg.Admin.Socket
	}
	c, ignored, err := admin.Connect(ctx, socket, dbPath, a.locator())
	for _, ig := range ignored {
		if ig.Daemon.PID != 0 {
			a.logger.Warn("ignoring a daemon that holds another database", slog.String("socket", ig.Socket),
				slog.Int("pid", ig.Daemon.PID), slog.String("reason", ig.Reason.Error()))
		} else {
			a.logger.Info("admin socket not used", slog.String("socket", ig.Socket), slog.String("reason", ig.Reason.Error()))
		}
	}
	if err == nil {
		d := c.Daemon()
		a.logger.Info("using the daemon that holds the database", slog.String("socket", c.Path()),
			slog.Int("pid", d.PID), slog.String("database", d.Database.Path), slog.String("version", d.Version.Version))
	}
	return c, ignored, err
}

// withIgnored adds to a failure to open the database (most likely: locked)
// the daemons found but not used, so the operator sees which one may hold
// it and why it was skipped.
func withIgnored(err error, ignored []admin.Ignored) error {
	if len(ignored) == 0 || !errors.Is(err, store.ErrLocked) {
		return err
	}
	parts := make([]string, len(ignored))
	for i, ig := range ignored {
		parts[i] = "admin socket " + ig.Socket
		if ig.Daemon.PID != 0 {
			parts[i] += fmt.Sprintf(" (daemon pid %d)", ig.Daemon.PID)
		}
		parts[i] += ": " + ig.Reason.Error()
	}
	code := ExitFailure
	if ee := (*ExitError)(nil); errors.As(err, &ee) {
		code = ee.Code
	}
	return &ExitError{Code: code, Err: fmt.Errorf("%w; daemons found but not used: %s", err, strings.Join(parts, "; "))}
}

// localUser is the approver recorded when the CLI opens the database itself:
// the OS user running it.
func localUser() string {
	u, err := user.Current()
	if err != nil || u.Username == "" {
		return "uid:" + strconv.Itoa(uidOf(u))
	}
	return u.Username
}

func uidOf(u *user.User) int {
	if u == nil {
		return -1
	}
	n, _ := strconv.Atoi(u.Uid)
	return n
}

// serviceError maps service errors to exit codes.
func serviceError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, service.ErrUsage), errors.Is(err, service.ErrNotFound):
		// A server, snapshot or tool that does not exist is the caller's
		// to correct, like any other bad argument: exit 2, not 4.
		return &ExitError{Code: ExitUsage, Err: err}
	default:
		return &ExitError{Code: ExitFailure, Err: err}
	}
}
