package cli

import (
	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/report"
)

func newDiffCommand(a *app) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "diff SERVER",
		Short: "Show pending changes: the latest snapshot against the approved baseline",
		Long: `Compare the latest stored snapshot of SERVER with its approved baseline,
without probing (run 'mcpdrift check SERVER' first for a fresh snapshot).
The server's current severity overrides and ignore rules apply, so changing
them in the config re-evaluates what is pending.

Changes come riskiest first: lint findings and escalations (a tool that may
now write, a widened schema, new instructions), then description and
instruction edits, then additions, then the rest; removals and info last.
Every change shows its kind, severity and a diff: a word diff for one-line
text, a unified line diff otherwise, with invisible characters shown as
<U+200B>. Whole tools, prompts and resources added or removed show on one
line; --full shows their definitions (or 'mcpdrift show'). --summary fits
any upgrade on a screen: counts per kind and severity, the riskiest changes
one line each, the rest folded (100 resources test://r/{1..100} removed). Approve with 'mcpdrift approve SERVER --snapshot ID'.
--format sarif anchors each result to the server's entry in the config
file, as GitHub code scanning requires.

Exit status as for check: 0 nothing at or above --fail-on, 1 drift.`,
		Example: `  mcpdrift diff github
  mcpdrift diff github --summary
  mcpdrift diff github --format markdown > review.md`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			o.sarif = a.configSARIF(cfg)
			svc, done, err := a.backend(cmd.Context(), cfg, true)
			if err != nil {
				return err
			}
			defer done()
			rs, err := svc.Diff(cmd.Context(), args[0])
			if err != nil {
				return serviceError(err)
			}
			return o.print(cmd, &report.Report{Servers: []report.Server{rs}})
		},
	}
	o.addFlags(cmd)
	return cmd
}
