package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newConfigCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration, or import servers from agents' configs",
	}
	var print bool
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the config; exit 2 listing every problem as file:line: key: problem",
		Long: `Validate the config file strictly: unknown keys, wrong types, bad schedules,
missing secrets and every other problem are listed, one per line, as
file:line: key.path: problem. Exit status 0 when valid, 2 otherwise.

Secrets are never printed: --print shows the effective config (defaults
applied) with every secret replaced by [REDACTED].`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if print {
				b, err := cfg.Redacted()
				if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				_, err = out.Write(b)
				return err
			}
			_, err = fmt.Fprintf(out, "%s: valid (%d servers, %d notifiers)\n", a.configPath(), len(cfg.Servers), len(cfg.Notifiers))
			return err
		},
	}
	check.Flags().BoolVar(&print, "print", false, "print the effective config with secrets redacted")
	cmd.AddCommand(check, newConfigImportCommand(a))
	return cmd
}
