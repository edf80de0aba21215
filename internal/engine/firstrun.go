package engine

import (
	"errors"
	"log/slog"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/store"
)

// launcherBased reports whether s starts through a package launcher (npx,
// uvx, pipx), which installs the package on its first run.
func launcherBased(s *config.Server) bool {
	return s.Transport == config.TransportStdio && probe.Launcher(probe.Target{Command: s.Command, Args: s.Args}) != ""
}

// CheckDeadline is the longest a check of s may take: first_run_timeout
// for a launcher-based server (its first probe may install the package),
// else timeout. The daemon bounds every check with it; the probe's own
// deadline is the shorter timeout once a snapshot is stored.
func CheckDeadline(s *config.Server) time.Duration {
	if launcherBased(s) && s.FirstRunTimeout > s.Timeout {
		return s.FirstRunTimeout
	}
	return s.Timeout
}

// probeTimeout is the deadline of the next probe of s: first_run_timeout
// while no snapshot of a launcher-based server is stored (a failed first
// run, killed during the install, gets it again), else timeout.
func (e *Engine) probeTimeout(s *config.Server) time.Duration {
	if CheckDeadline(s) == s.Timeout {
		return s.Timeout
	}
	if _, err := e.Store.LatestSnapshot(s.Name); !errors.Is(err, store.ErrNotFound) {
		return s.Timeout
	}
	e.Logger.Info("first probe of a launcher-based server: it may be installing its package, so its deadline is first_run_timeout",
		slog.String("server", s.Name), slog.Duration("first_run_timeout", s.FirstRunTimeout))
	return s.FirstRunTimeout
}

// StatelessProbeTimeout is the deadline of a probe with no database to
// tell a first run by (check --lock): first_run_timeout for a
// launcher-based server unless its package is known to be installed in
// the server's npx cache, else timeout.
func StatelessProbeTimeout(s *config.Server, t probe.Target) time.Duration {
	if CheckDeadline(s) == s.Timeout {
		return s.Timeout
	}
	if installed, known := probe.PackageInstalled(t); known && installed {
		return s.Timeout
	}
	return s.FirstRunTimeout
}
