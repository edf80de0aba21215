package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/store"
)

// loadConfig resolves and loads the config; any problem is a usage error
// (exit 2) listing every `file:line: key: problem`.
func (a *app) loadConfig() (*config.Config, error) {
	path := a.configPath()
	cfg, err := config.LoadEnv(path, a.env)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	return cfg, nil
}

func (a *app) configPath() string {
	if a.opts.configPath != "" {
		return a.opts.configPath
	}
	if v, ok := a.env("MCPDRIFT_CONFIG"); ok && v != "" {
		return v
	}
	return config.ConfigPath("")
}

// openStore opens the database named by --db or the config.
func (a *app) openStore(cfg *config.Config, readOnly bool) (*store.DB, error) {
	path := cfg.Storage.Path
	if a.opts.dbPath != "" {
		path = a.opts.dbPath
	}
	db, err := store.Open(path, store.Options{LockTimeout: cfg.Storage.LockTimeout, ReadOnly: readOnly})
	if err != nil {
		return nil, &ExitError{Code: ExitFailure, Err: err}
	}
	return db, nil
}

// selectServers returns the configured servers named in args (all enabled
// ones when args is empty). An unknown name is a usage error.
func selectServers(cfg *config.Config, args []string) ([]*config.Server, error) {
	if len(args) == 0 {
		var out []*config.Server
		for i := range cfg.Servers {
			if !cfg.Servers[i].Disabled {
				out = append(out, &cfg.Servers[i])
			}
		}
		return out, nil
	}
	var out []*config.Server
	var unknown []string
	for _, name := range args {
		s, ok := cfg.Server(name)
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		out = append(out, s)
	}
	if len(unknown) > 0 {
		names := make([]string, len(cfg.Servers))
		for i, s := range cfg.Servers {
			names[i] = s.Name
		}
		return nil, usageError("unknown server %s (configured: %s)", strings.Join(quoteAll(unknown), ", "), strings.Join(names, ", "))
	}
	return out, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// formatFlag is the --format flag shared by report commands.
type formatFlag struct {
	value   string
	allowed []string
}

func addFormatFlag(cmd *cobra.Command, allowed ...string) *formatFlag {
	f := &formatFlag{value: allowed[0], allowed: allowed}
	cmd.Flags().StringVar(&f.value, "format", allowed[0], "output format: "+strings.Join(allowed, ", "))
	return f
}

func (f *formatFlag) check() error {
	if !slices.Contains(f.allowed, f.value) {
		return usageError("--format %q: want one of %s", f.value, strings.Join(f.allowed, ", "))
	}
	return nil
}

func parseFailOn(s string) (severity.Level, error) {
	lv, err := severity.Parse(s)
	if err != nil || lv == severity.None {
		return 0, usageError("--fail-on %q: want one of %s", s, strings.Join(severity.Names(), ", "))
	}
	return lv, nil
}

// isNotFound reports a missing record as a user-facing error.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
