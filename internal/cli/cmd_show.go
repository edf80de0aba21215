package cli

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

func newShowCommand(a *app) *cobra.Command {
	var req service.ShowRequest
	cmd := &cobra.Command{
		Use:   "show SERVER [--snapshot ID | --baseline]",
		Short: "Print a canonical manifest as JSON (latest snapshot by default)",
		Long: `Print the canonical manifest JSON of a server: the latest snapshot, a given
snapshot (--snapshot: the full sha256: id or a unique prefix of 8+ hex
digits), or the approved baseline (--baseline). The JSON is exactly what is
fingerprinted, indented for reading. Invisible and control characters are
written as \uXXXX escapes: the JSON means the same, and nothing hidden
reaches your terminal.`,
		Example: `  mcpdrift show github
  mcpdrift show github --baseline
  mcpdrift show github --snapshot 3f2a9c41`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := a.service(cmd, true)
			if err != nil {
				return err
			}
			defer done()
			req.Server = args[0]
			doc, err := svc.Show(cmd.Context(), req)
			if err != nil {
				return serviceError(err)
			}
			var out bytes.Buffer
			if err := json.Indent(&out, doc, "", "  "); err != nil {
				return &ExitError{Code: ExitFailure, Err: fmt.Errorf("manifest of %s: %w", req.Server, err)}
			}
			out.WriteByte('\n')
			_, err = cmd.OutOrStdout().Write(escape.InertJSON(out.Bytes()))
			return err
		},
	}
	cmd.Flags().StringVar(&req.Snapshot, "snapshot", "", "snapshot id or unique prefix (8+ hex digits)")
	cmd.Flags().BoolVar(&req.Baseline, "baseline", false, "show the approved baseline")
	return cmd
}
