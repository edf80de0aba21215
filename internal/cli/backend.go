package cli

import (
	"context"
	"errors"
	"log/slog"
	"os/user"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/service"
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
// release it: the daemon's admin socket when a daemon is running (it holds
// the database), else the database opened directly.
func (a *app) backend(ctx context.Context, cfg *config.Config, readOnly bool) (service.Service, func(), error) {
	socket := a.opts.socket
	if socket == "" {
		socket = cfg.Admin.Socket
	}
	c, err := admin.Connect(ctx, socket, a.dbPath(cfg))
	switch {
	case err == nil:
		a.logger.Debug("using the daemon's admin socket", slog.String("socket", c.Path()))
		return c, c.Close, nil
	case !errors.Is(err, admin.ErrNoDaemon):
		return nil, nil, &ExitError{Code: ExitFailure, Err: err}
	}
	db, err := a.openStore(cfg, readOnly)
	if err != nil {
		return nil, nil, err
	}
	svc := service.NewLocal(cfg, db, a.logger)
	return svc, func() {
		if err := db.Close(); err != nil {
			a.logger.Warn("close database", slog.String("error", err.Error()))
		}
	}, nil
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
	case errors.Is(err, service.ErrUsage):
		return &ExitError{Code: ExitUsage, Err: err}
	default:
		return &ExitError{Code: ExitFailure, Err: err}
	}
}
