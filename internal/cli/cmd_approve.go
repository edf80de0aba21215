package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

func newApproveCommand(a *app) *cobra.Command {
	var req engine.ApproveRequest
	cmd := &cobra.Command{
		Use:   "approve SERVER [--snapshot ID] [--tool NAME]... [--comment TEXT]",
		Short: "Make a snapshot (or some of its tools) the approved baseline",
		Long: `Approve what you reviewed: the latest snapshot of SERVER, or exactly the
snapshot named by --snapshot (a full sha256: id or a unique prefix of 8+
hex digits), even if the server has changed since.

With --tool, only those tools are approved: the new baseline is the old one
with those tools taken from the snapshot (added, changed, or removed), and
every other change stays pending.

Every approval is appended to the audit trail ('mcpdrift history SERVER'):
who (your OS user, or the socket peer's when a daemon runs), when, the
comment, and the previous and new baseline ids.`,
		Example: `  mcpdrift diff github
  mcpdrift approve github --snapshot 3f2a9c41 --comment "reviewed new search tool"
  mcpdrift approve github --tool search_issues --tool list_repos`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := a.service(cmd, false)
			if err != nil {
				return err
			}
			defer done()
			req.Server = args[0]
			req.Approver = localUser()
			ap, err := svc.Approve(cmd.Context(), req)
			if err != nil {
				return serviceError(err)
			}
			out := cmd.OutOrStdout()
			what := "snapshot " + ap.SnapshotID
			if len(ap.Tools) > 0 {
				what = fmt.Sprintf("tools %s of snapshot %s", strings.Join(ap.Tools, ", "), ap.SnapshotID)
			}
			fmt.Fprintf(out, "approved %s of %s by %s\n", what, report.ShowName(ap.Server), ap.Approver)
			fmt.Fprintf(out, "baseline: %s\n", ap.BaselineID)
			if ap.PreviousID != "" {
				fmt.Fprintf(out, "previous: %s\n", ap.PreviousID)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Snapshot, "snapshot", "", "snapshot id or unique prefix (8+ hex digits); default: the latest")
	f.StringArrayVar(&req.Tools, "tool", nil, "approve only this tool (repeatable)")
	f.StringVar(&req.Comment, "comment", "", "why this is approved, kept in the audit trail")
	return cmd
}
