package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/store"
)

// backupMode is the mode of a backup file: it holds everything the
// database does, so it is as private as the database.
const backupMode fs.FileMode = 0o600

type backupOptions struct {
	force bool
}

func newBackupCommand(a *app) *cobra.Command {
	var o backupOptions
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the database to FILE",
		Long: `Write a consistent copy of the database to FILE (mode 0600), from one bbolt
read transaction, then open the copy and run a full consistency check on it
before it takes FILE's name. A failed or interrupted backup leaves no FILE
behind, and never a partial one.

While 'mcpdrift run' holds the database, the copy is streamed by the daemon
through its admin socket (hot: the daemon keeps working). Otherwise the
database is opened read-only. Restore by stopping the daemon and copying
FILE back (see docs/operations.md).`,
		Example: `  mcpdrift backup /var/backups/mcpdrift-$(date +%F).db
  mcpdrift backup --db ./state/mcpdrift.db --force ./mcpdrift.bak`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.backupConfig()
			if err != nil {
				return err
			}
			src := cfg.Storage.Path
			if a.opts.dbPath != "" {
				src = a.opts.dbPath
			}
			res, ignored, err := a.backupViaDaemon(cmd, cfg, src, args[0], o)
			if errors.Is(err, admin.ErrNoDaemon) {
				res, err = a.backupDirect(cfg, src, args[0], o, ignored)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "backed up %s (schema %d, %d bytes) to %s in %s\n",
				src, res.schema, res.bytes, res.path, res.took.Round(time.Millisecond))
			return err
		},
	}
	cmd.Flags().BoolVar(&o.force, "force", false, "replace FILE if it exists")
	return cmd
}

// backupConfig loads the config. With --db it is read only when --config or
// $MCPDRIFT_CONFIG names it: a backup needs nothing but the file, and the
// system config may reference variables only the service sets
// (${CREDENTIALS_DIRECTORY}), which would fail an operator's backup.
func (a *app) backupConfig() (*config.Config, error) {
	if a.opts.dbPath != "" && a.opts.configPath == "" {
		if v, set := a.env(config.EnvConfig); !set || v == "" {
			return config.Default(), nil
		}
	}
	return a.loadConfig()
}

type backupResult struct {
	path   string
	bytes  int64
	schema int
	took   time.Duration
}

// backupViaDaemon streams the copy from the admin socket of the daemon
// holding src; admin.ErrNoDaemon when none runs, with the daemons found
// but not used.
func (a *app) backupViaDaemon(cmd *cobra.Command, cfg *config.Config, src, dst string, o backupOptions) (backupResult, []admin.Ignored, error) {
	c, ignored, err := a.connect(cmd.Context(), cfg, src)
	if err != nil {
		if errors.Is(err, admin.ErrNoDaemon) {
			return backupResult{}, ignored, err
		}
		return backupResult{}, ignored, &ExitError{Code: ExitFailure, Err: err}
	}
	defer c.Close()
	res, err := writeBackup(src, dst, o, 0, func(w io.Writer) (int64, error) { return c.Backup(cmd.Context(), w) })
	return res, nil, err
}

// backupDirect copies the database at src to dst by opening it itself.
func (a *app) backupDirect(cfg *config.Config, src, dst string, o backupOptions, ignored []admin.Ignored) (backupResult, error) {
	db, err := store.Open(src, store.Options{LockTimeout: cfg.Storage.LockTimeout, ReadOnly: true})
	if err != nil {
		return backupResult{}, withIgnored(a.backupOpenError(cfg, src, err), ignored)
	}
	defer func() {
		if err := db.Close(); err != nil {
			a.logger.Warn("close database", slog.String("path", src), slog.String("error", err.Error()))
		}
	}()
	return writeBackup(src, dst, o, db.SchemaVersion(), db.WriteTo)
}

// writeBackup writes a copy through write into a temporary file next to
// dst, verifies it opens and passes a consistency check (and has schema
// wantSchema unless 0), then renames it to dst.
func writeBackup(src, dst string, o backupOptions, wantSchema int, write func(io.Writer) (int64, error)) (backupResult, error) {
	start := time.Now()
	dst, err := filepath.Abs(dst)
	if err != nil {
		return backupResult{}, usageError("backup file %s: %w", dst, err)
	}
	if err := checkBackupTarget(src, dst, o.force); err != nil {
		return backupResult{}, err
	}

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return backupResult{}, &ExitError{Code: ExitFailure, Err: fmt.Errorf("create backup file in %s: %w", filepath.Dir(dst), err)}
	}
	tmpPath := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			_ = tmp.Close()
			_ = os.Remove(tmpPath)
		}
	}()
	fail := func(format string, args ...any) (backupResult, error) {
		return backupResult{}, &ExitError{Code: ExitFailure, Err: fmt.Errorf(format, args...)}
	}
	// CreateTemp already uses 0600; say so explicitly whatever it does in
	// the future.
	if err := tmp.Chmod(backupMode); err != nil {
		return fail("set mode of backup file %s: %w", tmpPath, err)
	}
	n, err := write(tmp)
	if err != nil {
		return fail("write backup file %s: %w", tmpPath, err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("flush backup file %s: %w", tmpPath, err)
	}
	if err := tmp.Close(); err != nil {
		return fail("close backup file %s: %w", tmpPath, err)
	}
	schema, err := verifyBackup(tmpPath, wantSchema)
	if err != nil {
		return fail("verify backup of %s: %w", src, err)
	}
	// A target created while we copied is not ours to replace.
	if err := checkBackupTarget(src, dst, o.force); err != nil {
		return backupResult{}, err
	}
	if err := os.Rename(tmpPath, dst); err != nil {
		return fail("move backup into place at %s: %w", dst, err)
	}
	keep = true
	syncDir(filepath.Dir(dst))
	return backupResult{path: dst, bytes: n, schema: schema, took: time.Since(start)}, nil
}

// checkBackupTarget refuses a target that is the database itself, a
// directory, or an existing file without --force.
func checkBackupTarget(src, dst string, force bool) error {
	fi, err := os.Stat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("backup file %s: %w", dst, err)}
	case fi.IsDir():
		return usageError("backup file %s is a directory; name the file to write", dst)
	}
	if sfi, err := os.Stat(src); err == nil && os.SameFile(fi, sfi) {
		return usageError("backup file %s is the database itself", dst)
	}
	if !force {
		return usageError("backup file %s exists; pass --force to replace it", dst)
	}
	return nil
}

// verifyBackup opens the copy on its own and checks every page, so a
// backup that is written is one that restores.
func verifyBackup(path string, wantSchema int) (int, error) {
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("open copy: %w", err)
	}
	defer db.Close()
	if got := db.SchemaVersion(); wantSchema != 0 && got != wantSchema {
		return 0, fmt.Errorf("copy has schema %d, the database %d", got, wantSchema)
	}
	if err := db.Check(); err != nil {
		return 0, fmt.Errorf("check copy: %w", err)
	}
	return db.SchemaVersion(), nil
}

// backupOpenError explains why the database could not be opened for a
// backup, and what to do instead.
func (a *app) backupOpenError(cfg *config.Config, src string, err error) error {
	switch {
	case errors.Is(err, store.ErrLocked):
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf(
			"back up %s: the database is held by a running daemon that did not answer on its admin socket %s (a daemon that answers streams the backup itself): check --socket, or stop it (systemctl stop mcpdrift), run the backup again, then start it: %w",
			src, a.daemonSocketHint(cfg, src), err)}
	case errors.Is(err, store.ErrSchemaTooOld):
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf(
			"back up %s: the database predates this build's schema and only a read-write open migrates it; back it up with the mcpdrift version that wrote it, or stop every mcpdrift process and copy the file: %w",
			src, err)}
	default:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("back up %s: %w", src, err)}
	}
}

// daemonSocketHint names the admin socket of the daemon that holds the
// database: the configured one, else the first default location where a
// socket exists, else every location looked at.
func (a *app) daemonSocketHint(cfg *config.Config, dbPath string) string {
	if a.opts.socket != "" {
		return a.opts.socket
	}
	if cfg.Admin.Socket != "" {
		return cfg.Admin.Socket
	}
	candidates := a.locator().Candidates(dbPath)
	for _, p := range candidates {
		if fi, err := os.Stat(p); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			return p
		}
	}
	return "one of " + strings.Join(candidates, ", ")
}

// syncDir makes a rename durable. Failure is not worth failing a backup
// that is complete and verified: the rename itself has happened.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
