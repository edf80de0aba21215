package cli

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

func newAuthCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "OAuth grants of servers with an auth block (login, status, logout)",
		Long: `Manage the OAuth grants mcpdrift holds for servers configured with auth:
(docs/auth.md). Grants are stored in the database, sealed with the key in
auth.key_file; no command ever prints a token, client secret or code.

These commands open the database themselves: stop the daemon first (bbolt
lets one process hold it), or run them before starting it.`,
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
			db, err := a.openStore(cfg, false)
			if err != nil {
				return err
			}
			defer db.Close()
			t, err := engine.Target(s)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			rec, err := oauth.Login(cmd.Context(), s, oauth.LoginOptions{
				Vault: &oauth.Vault{Store: db, KeyFile: cfg.Auth.KeyFile}, TLS: t.TLS, Out: cmd.OutOrStdout(), Timeout: timeout,
			})
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("auth login %s: %w", s.Name, err)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Logged in: %s at %s, client %s (%s), granted scopes: %s, token expires %s\n",
				s.Name, report.ShowName(rec.Issuer), report.ShowName(rec.ClientID), rec.Registration,
				scopeList(rec.Granted), expiry(rec))
			return nil
		},
	}
	login.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the browser")

	status := &cobra.Command{
		Use:   "status [SERVER...]",
		Short: "Show each OAuth server's mode, issuer, client, granted scopes, expiry, last refresh and last error",
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			db, err := a.openStore(cfg, true)
			if err != nil {
				return err
			}
			defer db.Close()
			v := &oauth.Vault{Store: db, KeyFile: cfg.Auth.KeyFile}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "SERVER\tMODE\tISSUER\tCLIENT\tGRANTED SCOPES\tEXPIRES\tLAST REFRESH\tSTATE")
			n := 0
			for i := range cfg.Servers {
				s := &cfg.Servers[i]
				if s.Auth == nil || (len(args) > 0 && !slices.Contains(args, s.Name)) {
					continue
				}
				n++
				rec, err := v.Load(s.Name)
				switch {
				case err != nil:
					fmt.Fprintf(w, "%s\t%s\t-\t-\t-\t-\t-\terror: %s\n", s.Name, s.Auth.Mode, report.ShowName(err.Error()))
				case rec == nil:
					fmt.Fprintf(w, "%s\t%s\t-\t-\t-\t-\t-\tnot logged in (%s)\n", s.Name, s.Auth.Mode, loginHint(s))
				default:
					state := "ok"
					if rec.NeedsLogin {
						state = "auth-required: " + oauth.LoginCommand(s.Name)
					}
					if rec.LastError != "" {
						state += " (last error: " + report.ShowName(rec.LastError) + ")"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, rec.Mode, report.ShowName(rec.Issuer),
						report.ShowName(rec.ClientID), scopeList(rec.Granted), expiry(rec), when(rec.LastRefresh), state)
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if n == 0 && len(args) > 0 {
				return usageError("no server named %s has an auth block", strings.Join(args, ", "))
			}
			return nil
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
			db, err := a.openStore(cfg, false)
			if err != nil {
				return err
			}
			defer db.Close()
			t, err := engine.Target(s)
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			secret, err := s.Auth.ClientSecret.Reveal()
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: fmt.Errorf("auth.client_secret: %w", err)}
			}
			revoked, err := oauth.Logout(cmd.Context(), &oauth.Vault{Store: db, KeyFile: cfg.Auth.KeyFile}, s.Name, secret, t.TLS)
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
			db, err := a.openStore(cfg, false)
			if err != nil {
				return err
			}
			defer db.Close()
			var names []string
			for _, s := range cfg.Servers {
				if s.Auth != nil {
					names = append(names, s.Name)
				}
			}
			n, err := (&oauth.Vault{Store: db, KeyFile: cfg.Auth.KeyFile}).Rekey(names, args[0])
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

func loginHint(s *config.Server) string {
	if s.Auth.Mode == config.AuthClientCredentials {
		return "the daemon or check obtains it"
	}
	return "run: " + oauth.LoginCommand(s.Name)
}

func scopeList(l []string) string {
	if len(l) == 0 {
		return "(none)"
	}
	return report.ShowName(strings.Join(l, " "))
}

func expiry(r *oauth.Record) string {
	if r.Token == nil || r.Token.Expiry.IsZero() {
		return "-"
	}
	return r.Token.Expiry.UTC().Format(time.RFC3339)
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
