package cli

import (
	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/report"
)

type reportOptions struct {
	format *formatFlag
	failOn string
}

func (o *reportOptions) addFlags(cmd *cobra.Command) {
	o.format = addFormatFlag(cmd, "text", "json", "markdown")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "low", "lowest severity that makes the exit status 1: info, low, medium, high, critical")
}

// print renders rep and turns it into the DESIGN exit code.
func (o *reportOptions) print(cmd *cobra.Command, rep *report.Report) error {
	failOn, err := parseFailOn(o.failOn)
	if err != nil {
		return err
	}
	if err := report.Render(cmd.OutOrStdout(), rep, o.format.value, report.Options{Color: isTerminal(cmd.OutOrStdout())}); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if code := rep.ExitCode(failOn); code != ExitOK {
		return &ExitError{Code: code, Quiet: true}
	}
	return nil
}

func (o *reportOptions) validate() error {
	if err := o.format.check(); err != nil {
		return err
	}
	_, err := parseFailOn(o.failOn)
	return err
}

func newCheckCommand(a *app) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "check [SERVER...]",
		Short: "Snapshot servers now and compare them with their baselines",
		Long: `Probe the named servers (all enabled servers by default), store each
snapshot, and compare it with the server's approved baseline.

A server seen for the first time is trusted on first use (baselined) unless
trust_on_first_use is false or its first snapshot carries a high or critical
lint finding; it then stays unapproved until 'mcpdrift approve'.

Exit status: 0 no change at or above --fail-on, 1 drift or an unapproved
server, 2 usage or config error, 3 a server could not be probed (and no drift
elsewhere), 4 mcpdrift itself failed (e.g. the database is unavailable).`,
		Example: `  mcpdrift check
  mcpdrift check github files --format json
  mcpdrift check --fail-on high`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			svc, done, err := a.backend(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer done()
			rep, err := svc.Check(cmd.Context(), args)
			if err != nil {
				return serviceError(err)
			}
			return o.print(cmd, &rep)
		},
	}
	o.addFlags(cmd)
	return cmd
}
