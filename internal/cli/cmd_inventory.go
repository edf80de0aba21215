package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
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
			// Status carries each server's latest snapshot id and the lint
			// findings on it (with the cross-server rules and suppressions).
			rows, err := svc.Status(cmd.Context(), args)
			if err != nil {
				return serviceError(err)
			}
			inv := report.Inventory{Servers: make([]report.InventoryServer, 0, len(rows))}
			for _, row := range rows {
				inv.Servers = append(inv.Servers, a.inventoryOf(cmd, svc, row))
			}
			if err := report.RenderInventory(cmd.OutOrStdout(), &inv, format.value); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return nil
		},
	}
	format = addFormatFlag(cmd, "text", "json", "markdown")
	return cmd
}

func (a *app) inventoryOf(cmd *cobra.Command, svc service.Service, row report.Server) report.InventoryServer {
	none := report.InventoryServer{Server: row.Server, Tools: []report.InventoryTool{}}
	if row.Snapshot == nil {
		none.Error = row.Note
		if row.Error != "" {
			none.Error = row.Error
		}
		if none.Error == "" {
			none.Error = fmt.Sprintf("no snapshot yet: run 'mcpdrift check %s'", row.Server)
		}
		return none
	}
	doc, err := svc.Show(cmd.Context(), service.ShowRequest{Server: row.Server, Snapshot: row.Snapshot.ID})
	if err != nil {
		none.Error = fmt.Sprintf("read snapshot %s: %v", row.Snapshot.ID, err)
		return none
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		none.Error = fmt.Sprintf("parse snapshot %s: %v", row.Snapshot.ID, err)
		return none
	}
	return report.BuildInventory(row.Server, row.Snapshot.ID, m, row.Findings)
}
