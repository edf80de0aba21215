package cli

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
	"github.com/mcpdrift/mcpdrift/internal/version"
)

type reportOptions struct {
	format *formatFlag
	failOn string
	// summary and full select the text rendering (render.Options).
	summary, full bool
	// sarif anchors SARIF results to a file (the lockfile or the config);
	// commands that know none leave it zero.
	sarif render.SARIFOptions
}

func (o *reportOptions) addFlags(cmd *cobra.Command) {
	o.format = addFormatFlag(cmd, "text", "json", "markdown", "sarif", "junit")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "low", "lowest severity that makes the exit status 1: info, low, medium, high, critical")
	cmd.Flags().BoolVar(&o.summary, "summary", false, "text: a summary that fits a screen (counts, the riskiest changes, the rest folded)")
	cmd.Flags().BoolVar(&o.full, "full", false, "text: show the whole definition of added and removed entities, not one line")
}

// print renders rep and turns it into the DESIGN exit code.
func (o *reportOptions) print(cmd *cobra.Command, rep *report.Report) error {
	failOn, err := parseFailOn(o.failOn)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	switch o.format.value {
	case "sarif":
		so := o.sarif
		so.ToolVersion = version.Get().Version
		err = render.WriteSARIF(w, rep, so)
	case "junit":
		err = render.WriteJUnit(w, rep, render.JUnitOptions{FailOn: failOn})
	default:
		err = render.Report(w, rep, o.format.value, render.Options{Color: isTerminal(w), Summary: o.summary, Full: o.full})
	}
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if code := rep.ExitCode(failOn); code != ExitOK {
		return &ExitError{Code: code, Quiet: true}
	}
	return nil
}

func (o *reportOptions) validate() error {
	if err := o.format.check(); err != nil {
		return err
	}
	if (o.summary || o.full) && o.format.value != "text" {
		return usageError("--summary and --full apply to --format text only; --format %s always carries everything", o.format.value)
	}
	if o.summary && o.full {
		return usageError("--summary and --full exclude each other: pick one")
	}
	_, err := parseFailOn(o.failOn)
	return err
}

// checkOptions are check's own flags.
type checkOptions struct {
	reportOptions
	lock string
	as   []string
}

func newCheckCommand(a *app) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check [SERVER...]",
		Short: "Snapshot servers now and compare them with their baselines",
		Long: `Probe the named servers (all enabled servers by default), store each
snapshot, and compare it with the server's approved baseline.

A server seen for the first time is trusted on first use (baselined) unless
trust_on_first_use is false or its first snapshot carries a high or critical
lint finding; it then stays unapproved until 'mcpdrift approve'.

With --lock FILE the baselines are the lockfile's manifests instead (see
'mcpdrift lock'): the database is never opened, nothing is stored or
approved, and a server missing from the lockfile is unapproved. A manifest
edited by hand in the lockfile is compared as written, and the edit is noted.

--as CLIENT (repeatable) probes each server again as another client and
reports every difference from what the configured client saw as a
client.divergence change (high): a server showing different faces to
different clients. CLIENT is NAME/VERSION, optionally followed by
capabilities (claude-code/1.0+roots+sampling), or a named identity: bare
(the configured client advertising no capabilities) or full (advertising
roots, sampling and elicitation).

--format sarif writes SARIF 2.1.0 for GitHub code scanning, each result
anchored to its server's entry in the lockfile (or the config file);
--format junit writes one test suite per server, failing at --fail-on.

Exit status: 0 no change at or above --fail-on, 1 drift or an unapproved
server, 2 usage or config error, 3 a server could not be probed (and no drift
elsewhere), 4 mcpdrift itself failed (e.g. the database is unavailable).`,
		Example: `  mcpdrift check
  mcpdrift check github files --format json
  mcpdrift check --fail-on high
  mcpdrift check --lock mcp.lock.json --format sarif > mcpdrift.sarif
  mcpdrift check github --as claude-code/1.0+roots --as bare`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			if _, err := service.Identities(o.as); err != nil {
				return serviceError(err)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if o.lock != "" {
				return a.checkLock(cmd, cfg, o, args)
			}
			o.sarif = a.configSARIF(cfg)
			svc, done, err := a.backend(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer done()
			rep, err := svc.Check(cmd.Context(), args, o.as...)
			if err != nil {
				return serviceError(err)
			}
			return o.print(cmd, &rep)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.lock, "lock", "", "compare with this lockfile's manifests instead of the database (which is not opened)")
	cmd.Flags().StringArrayVar(&o.as, "as", nil, "also probe as this client (NAME/VERSION[+CAPABILITY...], bare or full) and report divergences; repeatable")
	return cmd
}

// checkLock compares live servers with a lockfile, without the database.
func (a *app) checkLock(cmd *cobra.Command, cfg *config.Config, o *checkOptions, names []string) error {
	f, err := readLockfile(o.lock)
	if err != nil {
		return err
	}
	if _, err := service.Select(cfg, names); err != nil {
		return serviceError(err)
	}
	a.warnUnconfigured(cfg, f)
	rep, err := service.CheckLock(cmd.Context(), cfg, f, names, o.as, a.logger, a.secrets)
	if err != nil {
		return serviceError(err)
	}
	o.sarif = render.SARIFOptions{Artifact: artifactPath(o.lock), Line: f.Line}
	return o.print(cmd, &rep)
}

// readLockfile reads and decodes a lockfile; any problem is a usage error.
func readLockfile(path string) (*lockfile.File, error) {
	f, _, err := readLockfileData(path)
	return f, err
}

// readLockfileData is readLockfile that also returns the bytes read.
func readLockfileData(path string) (*lockfile.File, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, usageError("lockfile: %w", err)
	}
	f, err := lockfile.Decode(data)
	if err != nil {
		return nil, nil, usageError("lockfile %s: %w", path, err)
	}
	return f, data, nil
}

// warnUnconfigured logs lockfile servers the config does not know: stale
// pins, or a config for another host.
func (a *app) warnUnconfigured(cfg *config.Config, f *lockfile.File) {
	for _, s := range f.Servers {
		if _, ok := cfg.Server(s.Name); !ok {
			a.logger.Warn("lockfile server is not in the config", slog.String("server", render.ShowName(s.Name)))
		}
	}
}

// artifactPath is path as SARIF wants it: relative to the working
// directory (the repository root in CI) when inside it, slash separated.
func artifactPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, abs); err == nil && filepath.IsLocal(rel) {
			return filepath.ToSlash(rel)
		}
	}
	return filepath.ToSlash(abs)
}
