package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

func newApproveCommand(a *app) *cobra.Command {
	var req approval.Request
	var latest bool
	var entities []string
	cmd := &cobra.Command{
		Use:   "approve SERVER (--snapshot ID | --latest) [--tool NAME | --entity KIND:NAME]... [--comment TEXT]",
		Short: "Make a snapshot (or some of its entities) the approved baseline",
		Long: `Approve what you reviewed: exactly the snapshot named by --snapshot (the
id 'mcpdrift diff SERVER' shows, in full or as a unique prefix of 8+ hex
digits), even if the server has changed since.

--latest approves whatever the latest snapshot is instead, which may be
newer than the one you reviewed. On a terminal, without either, approve
shows the latest snapshot's id and a summary and asks before approving
exactly that one (any answer but y approves nothing and exits 1);
elsewhere (scripts, CI) one of them is required.

With --tool or --entity, only those entities are approved: the new baseline
is the old one with them taken from the snapshot (added, changed, or
removed), and every other change stays pending. The same rule applies.
--entity KIND:NAME names any entity: tool:NAME, prompt:NAME, resource:URI,
resource_template:URI_TEMPLATE, or server:FIELD for a server field
(instructions, serverInfo, capabilities, protocolVersion). --tool NAME is
--entity tool:NAME. Findings that were on the manifest when it was approved
are acknowledged by the approval ('mcpdrift check' reports them, and does
not fail on them).

Every approval is appended to the audit trail ('mcpdrift history SERVER'):
who (your OS user, or the socket peer's when a daemon runs), when, the
comment, and the previous and new baseline ids.`,
		Example: `  mcpdrift diff github
  mcpdrift approve github --snapshot 3f2a9c41 --comment "reviewed new search tool"
  mcpdrift approve github --snapshot 3f2a9c41 --tool search_issues --tool list_repos
  mcpdrift approve github --snapshot 3f2a9c41 --entity prompt:summarize --entity server:instructions
  mcpdrift approve github --latest --comment "re-baselined after the upgrade"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Server = args[0]
			for i, t := range req.Tools {
				req.Tools[i] = approval.ToolRef(approval.EntityRef{Kind: "tool", Name: t})
			}
			for _, e := range entities {
				ref, err := approval.ParseEntityFlag(e)
				if err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
				req.Tools = append(req.Tools, ref)
			}
			if latest && req.Snapshot != "" {
				return usageError("--snapshot and --latest are exclusive: --snapshot approves the snapshot you reviewed, --latest whatever is newest")
			}
			interactive := !latest && req.Snapshot == "" && isInteractive(cmd.InOrStdin())
			if !latest && req.Snapshot == "" && !interactive {
				return usageError("approve %s: say which snapshot: --snapshot ID (the id 'mcpdrift diff %s' shows) approves what you reviewed; --latest approves whatever the latest snapshot is",
					render.ShowName(req.Server), render.ShowName(req.Server))
			}
			svc, done, err := a.service(cmd, false)
			if err != nil {
				return err
			}
			defer done()
			if interactive {
				id, err := confirmLatest(cmd.Context(), svc, req.Server, cmd.InOrStdin(), cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				// Exactly what was shown, even if a newer one arrives now.
				req.Snapshot = id
			}
			req.Approver = localUser()
			ap, err := svc.Approve(cmd.Context(), req)
			if err != nil {
				return serviceError(err)
			}
			out := cmd.OutOrStdout()
			what := "snapshot " + ap.SnapshotID
			if len(ap.Tools) > 0 {
				word := "tools"
				for _, ref := range ap.Tools {
					if approval.ParseEntityRef(ref).Kind != "tool" {
						word = "entities"
					}
				}
				what = fmt.Sprintf("%s %s of snapshot %s", word, strings.Join(ap.Tools, ", "), ap.SnapshotID)
			}
			fmt.Fprintf(out, "approved %s of %s by %s\n", what, render.ShowName(ap.Server), ap.Approver)
			fmt.Fprintf(out, "baseline: %s\n", ap.BaselineID)
			if ap.PreviousID != "" {
				fmt.Fprintf(out, "previous: %s\n", ap.PreviousID)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Snapshot, "snapshot", "", "the snapshot you reviewed: id or unique prefix (8+ hex digits), as 'mcpdrift diff' shows it")
	f.BoolVar(&latest, "latest", false, "approve the latest snapshot, whichever it is")
	f.StringArrayVar(&req.Tools, "tool", nil, "approve only this tool (repeatable)")
	f.StringArrayVar(&entities, "entity", nil, "approve only this entity, KIND:NAME: tool:NAME, prompt:NAME, resource:URI, resource_template:URI_TEMPLATE, server:FIELD (repeatable)")
	f.StringVar(&req.Comment, "comment", "", "why this is approved, kept in the audit trail")
	return cmd
}

// confirmLatest shows the latest snapshot of server, its id and a
// one-line summary of what is pending, asks on out and reads the answer
// from in. It returns the snapshot's id when the answer is yes.
func confirmLatest(ctx context.Context, svc service.Service, server string, in io.Reader, out io.Writer) (string, error) {
	s, err := svc.Diff(ctx, server)
	if err != nil {
		return "", serviceError(err)
	}
	if s.Snapshot == nil {
		return "", usageError("approve %s: it has no snapshot yet: run 'mcpdrift check %s'", render.ShowName(server), render.ShowName(server))
	}
	fmt.Fprintf(out, "latest snapshot of %s: %s, taken %s\n  %s\napprove this snapshot? [y/N] ",
		render.ShowName(server), s.Snapshot.ID, s.Snapshot.TakenAt.UTC().Format("2006-01-02 15:04:05Z"), pendingSummary(s))
	answer, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && answer == "" {
		fmt.Fprintln(out)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return s.Snapshot.ID, nil
	default:
		return "", &ExitError{Code: ExitDrift, Err: fmt.Errorf("not approved: nothing changed (approve it with --snapshot %s)", report.ShortID(s.Snapshot.ID))}
	}
}

// pendingSummary is one line on what approving s would accept.
func pendingSummary(s report.Server) string {
	switch {
	case s.Baseline == nil:
		return "no baseline yet: this would be the first"
	case len(s.Changes) == 0:
		return "no change against the baseline " + report.ShortID(s.Baseline.ID)
	}
	return fmt.Sprintf("%d change(s) against the baseline %s (approved by %s), highest severity %s",
		len(s.Changes), report.ShortID(s.Baseline.ID), render.ShowName(s.Baseline.ApprovedBy), s.Severity)
}
