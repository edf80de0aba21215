// Package cli implements the mcpdrift command line: one file per
// subcommand, each writing to the command's own output streams so tests can
// drive it with SetArgs and SetOut. It parses and wires; the work is done by
// the packages it calls.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/redact"
)

// Exit codes shared by every command (DESIGN "CLI contract").
const (
	ExitOK          = 0 // nothing at or above --fail-on
	ExitDrift       = 1 // drift, or an unapproved server
	ExitUsage       = 2 // usage or configuration error
	ExitUnreachable = 3 // a server could not be probed, and no drift elsewhere
	ExitFailure     = 4 // mcpdrift itself failed: database unavailable, I/O error
)

// ExitError carries an exit code up to Run.
type ExitError struct {
	Code int
	Err  error
	// Quiet suppresses printing Err: the command already reported.
	Quiet bool
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

func usageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// Env looks up an environment variable; tests inject their own.
type Env func(string) (string, bool)

// Host is what the command line takes from the machine it runs on. Run
// passes the real one; tests pass their own, so that no command reaches a
// daemon, socket or config file outside the test's own directories.
type Host struct {
	// Env is the environment; nil means an empty one.
	Env Env
	// UID is the invoking user: where its daemon's socket is by default,
	// and whose config files found implicitly are trusted.
	UID int
	// Stdin is where approve reads a confirmation; nil means no input.
	Stdin io.Reader
	// RunDir is the system daemon's runtime directory; empty means
	// admin.RunDir (/run/mcpdrift).
	RunDir string
	// ConfigSearch is where the config is looked for when neither --config
	// nor $MCPDRIFT_CONFIG names one (config.DefaultSearch()).
	ConfigSearch []string
}

// RealHost is the process's own environment, user, stdin and paths.
func RealHost(env Env) Host {
	if env == nil {
		env = os.LookupEnv
	}
	return Host{Env: env, UID: os.Getuid(), Stdin: os.Stdin, RunDir: admin.RunDir, ConfigSearch: config.DefaultSearch()}
}

// globalOptions are the flags every command accepts.
type globalOptions struct {
	configPath string
	dbPath     string
	socket     string
	logLevel   string
	logFormat  string
}

// app is what every subcommand shares: global options, streams and the
// host. It holds no open resources between commands.
type app struct {
	opts   globalOptions
	host   Host
	env    Env // host.Env
	stderr io.Writer
	logger *slog.Logger
	// accepted is set once cobra accepted the command line (flags parsed,
	// arguments validated) and a command is about to run: an error
	// before that is the command line's (exit 2).
	accepted bool
	// secrets redacts every log record: it holds the loaded
	// configuration's secrets once loadConfig has run (the daemon swaps
	// them on reload).
	secrets *redact.Live
}

// Run executes the command line args on this machine (RealHost) and
// returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, env Env) int {
	return RunHost(ctx, args, stdout, stderr, RealHost(env))
}

// RunHost is Run on the given host.
func RunHost(ctx context.Context, args []string, stdout, stderr io.Writer, h Host) int {
	root, a := newRoot(h)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if !ee.Quiet && ee.Err != nil {
			fmt.Fprintf(stderr, "mcpdrift: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "mcpdrift: %v\nRun 'mcpdrift --help' for usage.\n", err)
	if !a.accepted {
		// Cobra refused the command line before any command ran
		// (unknown command or flag, bad flag value, wrong arguments).
		return ExitUsage
	}
	return ExitFailure
}

// newApp is the state the commands of one command line share, on host h.
func newApp(h Host) *app {
	return &app{host: h, env: h.Env, secrets: &redact.Live{}}
}

// newRoot builds the command tree for the given host, and the state its
// commands share.
func newRoot(h Host) (*cobra.Command, *app) {
	if h.Env == nil {
		h.Env = func(string) (string, bool) { return "", false }
	}
	if h.Stdin == nil {
		h.Stdin = strings.NewReader("")
	}
	a := newApp(h)
	root := &cobra.Command{
		Use:   "mcpdrift",
		Short: "Watch MCP servers for tool-manifest drift",
		Long: `mcpdrift snapshots the tools, prompts, resources and instructions of the MCP
servers you trust, compares every snapshot with the last baseline a person
approved, and reports what changed: a rewritten tool description, a widened
schema, a read-only tool that became destructive.

Start with 'mcpdrift config check', then 'mcpdrift check' to take the first
snapshots (trusted on first use unless configured otherwise).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.accepted = true
			logger, err := a.newLogger(cmd.ErrOrStderr(), a.opts.logLevel, a.opts.logFormat)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			a.logger = logger
			a.stderr = cmd.ErrOrStderr()
			return nil
		},
	}
	root.SetIn(h.Stdin)
	f := root.PersistentFlags()
	f.StringVar(&a.opts.configPath, "config", "", "config file (default $MCPDRIFT_CONFIG, then ./mcpdrift.yaml, then /etc/mcpdrift/config.yaml)")
	f.StringVar(&a.opts.dbPath, "db", "", "database file (default: storage.path from the config)")
	f.StringVar(&a.opts.socket, "socket", "", "admin socket of a running daemon")
	f.StringVar(&a.opts.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	f.StringVar(&a.opts.logFormat, "log-format", "text", "log format: text or json")

	root.AddCommand(
		newVersionCommand(),
		newConfigCommand(a),
		newCheckCommand(a),
		newStatusCommand(a),
		newHistoryCommand(a),
		newShowCommand(a),
		newInventoryCommand(a),
		newDiffCommand(a),
		newApproveCommand(a),
		newLockCommand(a),
		newLintCommand(a),
		newNotifyCommand(a),
		newAuthCommand(a),
		newDemoServerCommand(a),
		newRunCommand(a),
		newBackupCommand(a),
		newHealthcheckCommand(a),
		newPrepareCommand(a),
	)
	return root, a
}

// newLogger builds the logger every command logs through: every record's
// message and attributes pass through the configuration's redactor.
func (a *app) newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	hopts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(w, hopts)
	case "json":
		h = slog.NewJSONHandler(w, hopts)
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
	return slog.New(redact.NewHandler(h, a.secrets.Load)), nil
}
