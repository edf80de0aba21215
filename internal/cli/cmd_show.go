package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/report"
)

func newShowCommand(a *app) *cobra.Command {
	var snapshot string
	var baseline bool
	cmd := &cobra.Command{
		Use:   "show SERVER [--snapshot ID | --baseline]",
		Short: "Print a canonical manifest as JSON (latest snapshot by default)",
		Long: `Print the canonical manifest JSON of a server: the latest snapshot, a given
snapshot (--snapshot: the full sha256: id or a unique prefix of 8+ hex
digits), or the approved baseline (--baseline). The JSON is exactly what is
fingerprinted, indented for reading; strings are JSON-escaped, so no raw
control character reaches the terminal.`,
		Example: `  mcpdrift show github
  mcpdrift show github --baseline
  mcpdrift show github --snapshot 3f2a9c41`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if snapshot != "" && baseline {
				return usageError("--snapshot and --baseline are exclusive")
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
			var id string
			switch {
			case baseline:
				b, err := db.Baseline(name)
				if isNotFound(err) {
					return &ExitError{Code: ExitFailure, Err: fmt.Errorf("server %q has no approved baseline yet: run 'mcpdrift check %s'", name, name)}
				} else if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				id = b.BaselineID
			case snapshot != "":
				if id, err = db.ResolveSnapshot(name, snapshot); err != nil {
					return &ExitError{Code: ExitUsage, Err: err}
				}
			default:
				o, err := db.LatestSnapshot(name)
				if isNotFound(err) {
					return &ExitError{Code: ExitFailure, Err: fmt.Errorf("server %q has no snapshot yet: run 'mcpdrift check %s'", name, name)}
				} else if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				id = o.SnapshotID
			}
			doc, err := db.Manifest(id)
			if err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			var out bytes.Buffer
			if err := json.Indent(&out, doc, "", "  "); err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("manifest %s: %w", id, err)}
			}
			out.WriteByte('\n')
			_, err = cmd.OutOrStdout().Write(report.InertJSON(out.Bytes()))
			return err
		},
	}
	cmd.Flags().StringVar(&snapshot, "snapshot", "", "snapshot id or unique prefix (8+ hex digits)")
	cmd.Flags().BoolVar(&baseline, "baseline", false, "show the approved baseline")
	return cmd
}
