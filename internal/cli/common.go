package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/store"
)

// loadConfig resolves and loads the config; any problem is a usage error
// (exit 2) listing every `file:line: key: problem`.
func (a *app) loadConfig() (*config.Config, error) {
	cfg, err := a.readConfig()
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	a.secrets.Store(cfg.Redactor())
	return cfg, nil
}

// readConfig loads the config file --config, $MCPDRIFT_CONFIG or the
// host's search list names; one nobody named must be safe to use
// (config.LoadImplicit).
func (a *app) readConfig() (*config.Config, error) {
	return a.readConfigFile(a.configFile())
}

// readConfigFile loads the config at path, checked when implicit.
func (a *app) readConfigFile(path string, implicit bool) (*config.Config, error) {
	var cfg *config.Config
	var err error
	if implicit {
		cfg, err = config.LoadImplicit(path, a.env, a.host.UID)
	} else {
		cfg, err = config.LoadEnv(path, a.env)
	}
	if err != nil {
		return nil, err
	}
	// The database and socket named on the command line are as private as
	// the ones the file names: no stdio server may see them.
	if a.opts.dbPath != "" {
		cfg.Private.UseDatabase(a.opts.dbPath)
	}
	if a.opts.socket != "" {
		cfg.Private.Hide(a.opts.socket)
	}
	return cfg, nil
}

func (a *app) configPath() string {
	path, _ := a.configFile()
	return path
}

// configFile is the config file and whether nobody named it.
func (a *app) configFile() (path string, implicit bool) {
	return config.Find(a.opts.configPath, a.env, a.host.ConfigSearch)
}

// configSARIF anchors SARIF results to the config file, each at the line
// of its server's entry.
func (a *app) configSARIF(cfg *config.Config) render.SARIFOptions {
	return render.SARIFOptions{
		Artifact: artifactPath(a.configPath()),
		Line:     func(server, _, _ string) int { return cfg.Line(server) },
	}
}

// dbPath is --db, else the config's storage.path.
func (a *app) dbPath(cfg *config.Config) string {
	if a.opts.dbPath != "" {
		return a.opts.dbPath
	}
	return cfg.Storage.Path
}

// openStore opens the database named by --db or the config.
func (a *app) openStore(cfg *config.Config, readOnly bool) (*store.DB, error) {
	path := a.dbPath(cfg)
	db, err := store.Open(path, store.Options{LockTimeout: cfg.Storage.LockTimeout, ReadOnly: readOnly})
	if readOnly && errors.Is(err, fs.ErrNotExist) {
		// A read-only command never creates the database: nothing was
		// checked with this config yet.
		err = fmt.Errorf("no database at %s yet: run `mcpdrift check` (or start the daemon) to take the first snapshots: %w", path, err)
	}
	if err != nil {
		return nil, &ExitError{Code: ExitFailure, Err: err}
	}
	return db, nil
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
