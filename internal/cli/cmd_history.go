package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

func newHistoryCommand(a *app) *cobra.Command {
	var format *formatFlag
	var limit int
	cmd := &cobra.Command{
		Use:   "history SERVER",
		Short: "Snapshots observed and approvals, newest first",
		Long: `List what mcpdrift observed of a server and every approval of its baseline,
newest first. Consecutive polls that saw the same manifest are folded into
one line with a count. Approvals are an append-only audit trail: approver,
time, comment, previous and new baseline.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := format.check(); err != nil {
				return err
			}
			svc, done, err := a.service(cmd, true)
			if err != nil {
				return err
			}
			defer done()
			h, err := svc.History(cmd.Context(), args[0], limit)
			if err != nil {
				return serviceError(err)
			}
			return renderHistory(cmd.OutOrStdout(), h, format.value)
		},
	}
	format = addFormatFlag(cmd, "text", "json", "markdown")
	cmd.Flags().IntVar(&limit, "limit", 1000, "most recent observations to read (approvals are always all shown)")
	return cmd
}

func renderHistory(w io.Writer, h service.History, format string) error {
	if format == "json" {
		return render.WriteJSON(w, h)
	}
	rows := make([][]string, 0, len(h.History))
	for _, e := range h.History {
		// A folded run is placed (and shown) at its newest observation, so
		// the times read strictly newest first.
		when := e.At.UTC().Format(time.RFC3339)
		if e.Until.After(e.At) {
			when = e.Until.UTC().Format(time.RFC3339)
		}
		var what string
		switch e.Type {
		case "approval":
			what = fmt.Sprintf("baseline %s approved by %s", report.ShortID(e.BaselineID), e.Approver)
			if e.BaselineID != e.SnapshotID && e.SnapshotID != "" {
				what += " from snapshot " + report.ShortID(e.SnapshotID)
			}
			if len(e.Tools) > 0 {
				what += " (only " + strings.Join(e.Tools, ", ") + ")"
			}
			if e.PreviousID != "" {
				what += ", replacing " + report.ShortID(e.PreviousID)
			}
			if e.Comment != "" {
				what += fmt.Sprintf(": %q", e.Comment)
			}
		case "error":
			what = "probe failed: " + e.Error
		default:
			server := strings.TrimSpace(e.ServerName + " " + e.ServerVersion)
			if server == "" {
				server = "server info unknown"
			}
			what = fmt.Sprintf("snapshot %s (%s, protocol %s)", report.ShortID(e.SnapshotID), server, e.Protocol)
		}
		if e.Count > 1 {
			what += fmt.Sprintf(" x%d since %s", e.Count, e.At.UTC().Format(time.RFC3339))
		}
		rows = append(rows, []string{when, e.Type, escape.Line(what)})
	}
	if format == "markdown" {
		var b strings.Builder
		fmt.Fprintf(&b, "| time | event | detail |\n|---|---|---|\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", r[0], r[1], strings.ReplaceAll(r[2], "|", `\|`))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "TIME\tEVENT\tDETAIL\n")
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}
