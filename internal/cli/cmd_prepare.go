package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/service"
	"github.com/mcpdrift/mcpdrift/internal/target"
)

// prepareHeartbeat is how often prepare says an install is still running:
// npm prints nothing while it downloads.
const prepareHeartbeat = 15 * time.Second

func newPrepareCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "prepare [SERVER...]",
		Short: "Install the npx/uvx packages of stdio servers now, without a deadline",
		Long: `Install what the named stdio servers (all enabled ones by default) need
before they start: the package of every server started through npx (or npm
exec) or uvx (or uv tool run). The install runs exactly as the probe starts
the server (the same command, environment, HOME and sandbox, so the same
npm or uv cache) but with a no-op in place of the server, so nothing of
the server runs; it has no deadline, and the launcher's output is shown as
it comes. A broken npx cache entry (an interrupted install leaves one, and
npx then fails with "npm error code ENOENT") is removed first.

Run it once after adding a server, on a machine whose npm or uv cache is
cold, and whenever a check says so: the first probe otherwise has to
install the package within first_run_timeout (default 5m). Run it as the
user the daemon runs as (sudo -u mcpdrift mcpdrift prepare): the servers'
HOMEs are that user's. Other servers are listed as skipped.

Exit status: 0 every server prepared or skipped, 2 usage or config error,
3 an install failed.`,
		Example: `  mcpdrift prepare
  sudo -u mcpdrift mcpdrift prepare files
  docker compose exec mcpdrift mcpdrift prepare`,
		RunE: func(cmd *cobra.Command, names []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			servers, err := service.Select(cfg, names)
			if err != nil {
				return serviceError(err)
			}
			failed := 0
			for _, s := range servers {
				if !a.prepareServer(cmd, s) {
					failed++
				}
			}
			if failed > 0 {
				return &ExitError{Code: ExitUnreachable, Err: fmt.Errorf("%d of %d servers could not be prepared", failed, len(servers))}
			}
			return nil
		},
	}
}

// prepareServer installs one server's package, reporting on the command's
// streams; false when it failed.
func (a *app) prepareServer(cmd *cobra.Command, s *config.Server) bool {
	out, errOut := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if s.Transport != config.TransportStdio {
		fmt.Fprintf(out, "%s: skipped (HTTP server: nothing to install)\n", s.Name)
		return true
	}
	t, err := target.For(s)
	if err != nil {
		fmt.Fprintf(errOut, "%s: %v\n", s.Name, err)
		return false
	}
	redactor := t.Redactor()
	launcher := probe.Launcher(t)
	if launcher != "" {
		fmt.Fprintf(out, "%s: installing through %s (HOME %s)\n", s.Name, launcher, t.Sandbox.Home)
	}
	// The launcher writes from other goroutines while the heartbeat
	// writes from this one, and its output may hold the server's secrets.
	progress := &redactingWriter{w: errOut, replace: redactor.Replace}
	stop := heartbeat(progress, s.Name, prepareHeartbeat)
	res, err := probe.Install(cmd.Context(), t, probe.InstallOptions{Out: progress, Log: a.logger, UID: a.host.UID})
	stop()
	switch {
	case errors.Is(err, probe.ErrNothingToPrepare):
		why := "not started through npx or uvx"
		if launcher != "" {
			why = strings.TrimPrefix(redactor.Replace(err.Error()), probe.ErrNothingToPrepare.Error()+": ")
		}
		fmt.Fprintf(out, "%s: skipped (%s)\n", s.Name, why)
		return true
	case err != nil:
		fmt.Fprintf(errOut, "%s: %s\n", s.Name, redactor.Replace(err.Error()))
		return false
	}
	how := "unsandboxed"
	if res.Sandboxed {
		how = "sandboxed"
	}
	fmt.Fprintf(out, "%s: prepared %s in %s (%s)\n", s.Name, strings.Join(res.Packages, ", "), res.Duration.Round(100*time.Millisecond), how)
	return true
}

// heartbeat writes a line to w every interval until stop is called.
func heartbeat(w io.Writer, name string, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(w, "%s: still installing (%s)\n", name, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// redactingWriter passes output on with the server's secrets replaced,
// one write at a time (the launcher's output and the heartbeat come from
// different goroutines). Each write is redacted on its own: a secret split
// across two writes is not caught (npm and uv write whole lines).
type redactingWriter struct {
	mu      sync.Mutex
	w       io.Writer
	replace func(string) string
}

func (r *redactingWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := io.WriteString(r.w, r.replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
