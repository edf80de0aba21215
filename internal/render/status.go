package render

import (
	"fmt"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// statusView is a report.Server without changes and findings: the `status --format
// json` object.
type statusView struct {
	report.Server
	Changes  []report.Change  `json:"changes,omitempty"`
	Findings []report.Finding `json:"findings,omitempty"`
}

// Status writes one row per server: state, severity, baseline id and
// age, last snapshot, last error.
func Status(w io.Writer, servers []report.Server, format string, o Options) error {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	switch format {
	case "json":
		views := make([]statusView, len(servers))
		for i, s := range servers {
			views[i] = statusView{Server: s}
		}
		return WriteJSON(w, struct {
			Servers []statusView `json:"servers"`
		}{views})
	case "markdown":
		var b strings.Builder
		b.WriteString("| server | status | severity | baseline | approved | last snapshot | last error |\n|---|---|---|---|---|---|---|\n")
		for _, r := range statusRows(servers, now) {
			for i := range r {
				r[i] = md(r[i])
			}
			fmt.Fprintf(&b, "| %s |\n", strings.Join(r, " | "))
		}
		_, err := io.WriteString(w, b.String())
		return err
	case "text":
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SERVER\tSTATUS\tSEVERITY\tBASELINE\tAPPROVED\tLAST SNAPSHOT\tLAST ERROR")
		for _, r := range statusRows(servers, now) {
			fmt.Fprintln(tw, strings.Join(r, "\t"))
		}
		return tw.Flush()
	default:
		return fmt.Errorf("unknown status format %q", format)
	}
}

func statusRows(servers []report.Server, now time.Time) [][]string {
	rows := make([][]string, 0, len(servers))
	for _, s := range servers {
		base, approved, snap := "-", "-", "-"
		if s.Baseline != nil {
			base = report.ShortID(s.Baseline.ID)
			approved = line(s.Baseline.ApprovedBy) + ", " + age(s.Baseline.ApprovedAt, now)
		}
		if s.Snapshot != nil {
			snap = report.ShortID(s.Snapshot.ID) + ", " + age(s.Snapshot.TakenAt, now)
		}
		errText := "-"
		if s.Error != "" {
			errText = line(s.Error)
			if len(errText) > 120 {
				errText = errText[:117] + "..."
			}
		}
		rows = append(rows, []string{line(s.Server), s.StatusText(), s.Severity.String(), base, approved, snap, errText})
	}
	return rows
}
