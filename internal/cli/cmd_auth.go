package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/admin"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/target"
	"github.com/mcpdrift/mcpdrift/store"
)

func newAuthCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "OAuth grants of servers with an auth block (login, status, logout, rekey)",
		Long: `Manage the OAuth grants mcpdrift holds for servers configured with auth:
(docs/auth.md). Grants are stored in the database, sealed with the key in
auth.key_file; no command ever prints a token, client secret or code.

status, login and logout work whether or not the daemon runs: through its
admin socket when it holds the database (login runs the browser flow here
and hands the grant to the daemon, which seals it with its key). rekey
needs the database to itself: stop the daemon first.`,
	}
	var timeout time.Duration
	login := &cobra.Command{
		Use:   "login SERVER",
		Short: "Authorize mcpdrift for SERVER once, in a browser (authorization code with PKCE)",
		Long: `Run the OAuth authorization code flow with PKCE for SERVER: mcpdrift
listens on a loopback port of 127.0.0.1, prints the authorization URL and
waits for the redirect. Open the URL in any browser; over SSH, forward the
printed port first (ssh -L PORT:127.0.0.1:PORT host). mcpdrift never opens a
browser itself. Exactly the configured auth.scopes are requested; the grant
is stored sealed and refreshed by the daemon from then on.`,
		Example: `  mcpdrift auth login notion`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, s, err := a.authServer(args[0])
			if err != nil {
				return err
			}
			if s.Auth.Mode != config.AuthAuthorizationCode {
				return usageError("server %s uses auth mode %s: nothing to log in to (its grant is obtained by the daemon)", s.Name, s.Auth.Mode)
			}
			t, err := target.For(s)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			v, daemon, done, err := a.authBackend(cmd, cfg, "auth login "+s.Name, true)
			if err != nil {
				return err
			}
			defer done()
			o := oauth.LoginOptions{Vault: v, TLS: t.TLS, Out: cmd.OutOrStdout(), Timeout: timeout}
			if daemon != nil {
				o.Keep = daemon.AuthLogin
			}
			rec, err := oauth.Login(cmd.Context(), s, o)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("auth login %s: %w", s.Name, err)}
			}
			g := oauth.Status{Stored: true, Granted: rec.Granted}
			if rec.Token != nil {
				g.Expiry = rec.Token.Expiry
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in: %s at %s, client %s (%s), granted scopes: %s, token expires %s\n",
				s.Name, render.ShowName(rec.Issuer), render.ShowName(rec.ClientID), rec.Registration,
				scopeList(g), when(g.Expiry))
			return nil
		},
	}
	login.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the browser")

	status := &cobra.Command{
		Use:   "status [SERVER...]",
		Short: "Show each OAuth server's mode, issuer, client, granted scopes, expiry, last refresh and last error",
		Long: `Show the stored OAuth grant of each server with an auth block (or of the
servers named): mode, issuer, client id, granted scopes, access token
expiry, last refresh, state (ok, auth-required, not logged in) and the
authorization server's last error. Through the daemon's admin socket when
one holds the database. No token or secret is ever shown.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := a.service(cmd, true)
			if err != nil {
				return err
			}
			defer done()
			grants, err := svc.AuthStatus(cmd.Context(), args)
			if err != nil {
				return serviceError(err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SERVER\tMODE\tISSUER\tCLIENT\tGRANTED SCOPES\tEXPIRES\tLAST REFRESH\tSTATE\tLAST ERROR")
			for _, g := range grants {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", render.ShowName(g.Server), g.Mode, dash(g.Issuer),
					dash(g.ClientID), scopeList(g), when(g.Expiry), when(g.LastRefresh), grantState(g), dash(g.LastError))
			}
			return w.Flush()
		},
	}

	logout := &cobra.Command{
		Use:   "logout SERVER",
		Short: "Revoke SERVER's tokens where supported (RFC 7009) and delete its stored grant",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, s, err := a.authServer(args[0])
			if err != nil {
				return err
			}
			v, daemon, done, err := a.authBackend(cmd, cfg, "auth logout "+s.Name, true)
			if err != nil {
				return err
			}
			defer done()
			var revoked bool
			if daemon != nil {
				// The daemon revokes with its own configuration's secret.
				revoked, err = daemon.AuthLogout(cmd.Context(), s.Name)
			} else {
				t, terr := target.For(s)
				if terr != nil {
					return &ExitError{Code: ExitUsage, Err: terr}
				}
				secret, serr := s.Auth.ClientSecret.Reveal()
				if serr != nil {
					return &ExitError{Code: ExitUsage, Err: fmt.Errorf("auth.client_secret: %w", serr)}
				}
				revoked, err = oauth.Logout(cmd.Context(), v, s.Name, secret, t.TLS)
			}
			if revoked {
				fmt.Fprintf(cmd.OutOrStdout(), "Revoked the tokens of %s at its authorization server.\n", s.Name)
			}
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("auth logout %s: %w", s.Name, err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted the stored grant of %s.\n", s.Name)
			return nil
		},
	}
	rekey := &cobra.Command{
		Use:   "rekey NEW_KEY_FILE",
		Short: "Re-seal every stored OAuth grant with the key in NEW_KEY_FILE (key rotation)",
		Long: `Re-seal every stored OAuth grant, opened with the current auth.key_file,
with the key in NEW_KEY_FILE; then point auth.key_file at NEW_KEY_FILE (or
move the new key into its place) before the next check. Tokens are not
renewed and nothing is sent to any server. docs/auth.md, "Rotating the key".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			v, _, done, err := a.authBackend(cmd, cfg, "auth rekey", false)
			if err != nil {
				return err
			}
			defer done()
			var names []string
			for _, s := range cfg.Servers {
				if s.Auth != nil {
					names = append(names, s.Name)
				}
			}
			n, err := v.Rekey(names, args[0])
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("auth rekey: %d grants re-sealed before: %w", n, err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Re-sealed %d grant(s) with %s. Now set auth.key_file to it.\n", n, args[0])
			return nil
		},
	}
	cmd.AddCommand(login, status, logout, rekey)
	return cmd
}

// authServer loads the config and finds the server named, which must have
// an auth block.
func (a *app) authServer(name string) (*config.Config, *config.Server, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	for i := range cfg.Servers {
		if s := &cfg.Servers[i]; s.Name == name {
			if s.Auth == nil {
				return nil, nil, usageError("server %s has no auth block (docs/auth.md)", name)
			}
			return cfg, s, nil
		}
	}
	return nil, nil, usageError("no server named %q in the configuration", name)
}

// authBackend is where a command that writes grants works: the daemon
// holding the database (its admin client) when viaDaemon allows, else the
// database opened directly (the vault). A command that needs the database
// to itself (rekey) fails at once while a daemon holds it, saying which
// daemon and what to do, rather than waiting for the lock and failing
// with "database locked".
func (a *app) authBackend(cmd *cobra.Command, cfg *config.Config, what string, viaDaemon bool) (*oauth.Vault, *admin.Client, func(), error) {
	c, ignored, err := a.connect(cmd.Context(), cfg, a.dbPath(cfg))
	switch {
	case err == nil && viaDaemon:
		return nil, c, c.Close, nil
	case err == nil:
		d := c.Daemon()
		c.Close()
		return nil, nil, nil, &ExitError{Code: ExitFailure, Err: fmt.Errorf(
			"the daemon (pid %d, admin socket %s) holds the database %s, and %s writes to it: stop the daemon (systemctl stop mcpdrift), run mcpdrift %s again, then start it (systemctl start mcpdrift)",
			d.PID, c.Path(), a.dbPath(cfg), what, what)}
	case !errors.Is(err, admin.ErrNoDaemon):
		return nil, nil, nil, &ExitError{Code: ExitFailure, Err: err}
	}
	db, err := a.openStore(cfg, false)
	if errors.Is(err, store.ErrLocked) {
		err = fmt.Errorf("%w; mcpdrift %s needs the database to itself: stop the process holding it (the daemon: systemctl stop mcpdrift), then run it again", err, what)
		err = withIgnored(&ExitError{Code: ExitFailure, Err: err}, ignored)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return &oauth.Vault{Store: db, KeyFile: cfg.Auth.KeyFile}, nil, func() {
		if err := db.Close(); err != nil {
			a.logger.Warn("close database", slog.String("error", err.Error()))
		}
	}, nil
}

// grantState is the STATE column of auth status.
func grantState(g oauth.Status) string {
	switch {
	case g.Error != "":
		return "error: " + render.ShowName(g.Error)
	case !g.Stored && g.Mode == config.AuthClientCredentials:
		return "no token yet (the daemon or check obtains it)"
	case !g.Stored:
		return "not logged in (run: " + oauth.LoginCommand(g.Server) + ")"
	case g.NeedsLogin:
		return "auth-required (run: " + oauth.LoginCommand(g.Server) + ")"
	}
	return "ok"
}

func scopeList(g oauth.Status) string {
	switch {
	case !g.Stored:
		return "-"
	case len(g.Granted) == 0:
		return "(none)"
	}
	return render.ShowName(strings.Join(g.Granted, " "))
}

// dash is s escaped for a terminal, or "-" for nothing.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return render.ShowName(s)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
