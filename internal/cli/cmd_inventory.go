package cli

import (
	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/render"
)

func newInventoryCommand(a *app) *cobra.Command {
	var format *formatFlag
	cmd := &cobra.Command{
		Use:   "inventory [SERVER...]",
		Short: "Each server's tools grouped by what they may do, riskiest first",
		Long: `List the tools of each server's latest snapshot, grouped by what their
annotations say they may do, riskiest first:

  unannotated   no annotations at all: the spec's defaults assume the worst
  destructive   not read-only, may delete or overwrite (destructiveHint,
                true unless said otherwise)
  writes        not read-only, destructiveHint false
  read-only     readOnlyHint true

A tool that may act outside the server (openWorldHint, true unless said
otherwise) is marked "open world", whatever its group, and comes first in
it. Each tool shows the number of lint findings on it. Annotations are what the
server claims, not a guarantee: use this to decide which tools stay out of
unsupervised runs, and the trust.max_risk policy to be alerted when one
moves up. Nothing is probed: run 'mcpdrift check' first.`,
		Example: `  mcpdrift inventory
  mcpdrift inventory github --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			svc, done, err := a.service(cmd, true)
			if err != nil {
				return err
			}
			defer done()
			// One call: each server's latest snapshot and the lint findings
			// on it (with the cross-server rules and suppressions).
			servers, err := svc.Inventory(cmd.Context(), args)
			if err != nil {
				return serviceError(err)
			}
			inv := inventory.Inventory{Servers: servers}
			if err := render.Inventory(cmd.OutOrStdout(), &inv, format.value); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return nil
		},
	}
	format = addFormatFlag(cmd, "text", "json", "markdown")
	return cmd
}
