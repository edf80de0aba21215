package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// historyEntry is one line of `history`: a run of consecutive observations
// of the same snapshot (or the same error), or an approval.
type historyEntry struct {
	Type       string    `json:"type"` // snapshot, error, approval
	At         time.Time `json:"at"`
	Until      time.Time `json:"until,omitzero"`
	Count      int       `json:"count,omitempty"`
	SnapshotID string    `json:"snapshot,omitempty"`
	BaselineID string    `json:"baseline,omitempty"`
	PreviousID string    `json:"previous,omitempty"`
	Approver   string    `json:"approver,omitempty"`
	Method     string    `json:"method,omitempty"`
	Comment    string    `json:"comment,omitempty"`
	Tools      []string  `json:"tools,omitempty"`
	Client     string    `json:"client,omitempty"`
	Protocol   string    `json:"protocol,omitempty"`
	Error      string    `json:"error,omitempty"`
}

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
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			servers, err := selectServers(cfg, args)
			if err != nil {
				return err
			}
			name := servers[0].Name
			db, err := a.openStore(cfg, true)
			if err != nil {
				return err
			}
			defer db.Close()
			obs, err := db.Observations(name, limit)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			apps, err := db.Approvals(name)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			entries := historyEntries(obs, apps)
			return renderHistory(cmd.OutOrStdout(), name, entries, format.value)
		},
	}
	format = addFormatFlag(cmd, "text", "json", "markdown")
	cmd.Flags().IntVar(&limit, "limit", 1000, "most recent observations to read (approvals are always all shown)")
	return cmd
}

// historyEntries merges observations and approvals (both newest first) into
// one newest-first list, folding runs of identical observations.
func historyEntries(obs []store.Observation, apps []store.Approval) []historyEntry {
	var out []historyEntry
	for _, o := range obs {
		typ := "snapshot"
		if o.Error != "" {
			typ = "error"
		}
		if n := len(out); n > 0 && out[n-1].Type == typ && out[n-1].SnapshotID == o.SnapshotID && out[n-1].Error == o.Error {
			// obs is newest first: extend the run backwards in time.
			out[n-1].Count++
			out[n-1].At = o.TakenAt
			continue
		}
		out = append(out, historyEntry{Type: typ, At: o.TakenAt, Until: o.TakenAt, Count: 1,
			SnapshotID: o.SnapshotID, Client: o.Client, Protocol: o.Protocol, Error: o.Error})
	}
	for _, ap := range apps {
		out = append(out, historyEntry{Type: "approval", At: ap.At, SnapshotID: ap.SnapshotID,
			BaselineID: ap.BaselineID, PreviousID: ap.PreviousID, Approver: ap.Approver,
			Method: ap.Method, Comment: ap.Comment, Tools: ap.Tools})
	}
	// Stable sort newest first by the latest time each entry covers.
	latest := func(e historyEntry) time.Time {
		if e.Until.After(e.At) {
			return e.Until
		}
		return e.At
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && latest(out[j]).After(latest(out[j-1])); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func renderHistory(w io.Writer, server string, entries []historyEntry, format string) error {
	if format == "json" {
		return report.WriteJSON(w, struct {
			Server  string         `json:"server"`
			History []historyEntry `json:"history"`
		}{server, entries})
	}
	rows := make([][]string, 0, len(entries))
	for _, e := range entries {
		when := e.At.UTC().Format(time.RFC3339)
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
			what = fmt.Sprintf("snapshot %s (%s, %s)", report.ShortID(e.SnapshotID), e.Client, e.Protocol)
		}
		if e.Count > 1 {
			what += fmt.Sprintf(" x%d until %s", e.Count, e.Until.UTC().Format(time.RFC3339))
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
