package cli

import (
	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/render"
)

func newStatusCommand(a *app) *cobra.Command {
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "status [SERVER...]",
		Short: "One row per server: state, severity, baseline, last snapshot, last error",
		Long: `Show what mcpdrift last saw of each configured server, without probing:
its state (ok, drift, baselined, unapproved, error), the highest pending
severity, the approved baseline and its age, the last snapshot and the last
probe error. Run 'mcpdrift check' to probe now.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			svc, done, err := a.service(cmd, true)
			if err != nil {
				return err
			}
			defer done()
			rows, err := svc.Status(cmd.Context(), args)
			if err != nil {
				return serviceError(err)
			}
			if err := render.Status(cmd.OutOrStdout(), rows, format.value, render.Options{}); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return nil
		},
	}
	format = addFormatFlag(cmd, "text", "json", "markdown")
	return cmd
}
