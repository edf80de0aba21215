package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/build"
)

func newNotifyCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Work with the configured notifiers",
	}
	var timeout time.Duration
	test := &cobra.Command{
		Use:   "test [NOTIFIER]",
		Short: "Send a clearly marked test message through every (or one) notifier",
		Long: `Send a test alert ("mcpdrift test message — no action needed") through every
configured notifier, or only NOTIFIER, right now (not through the daemon's
outbox), and report success or the real error for each. Secrets are read
from their *_file at this moment, so this also checks a rotated secret.

Exit status: 0 when every message was accepted, 1 when any failed, 2 on a
usage or config error.`,
		Example: `  mcpdrift notify test
  mcpdrift notify test secops`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if len(cfg.Notifiers) == 0 {
				return usageError("no notifiers are configured (see docs/configuration.md, \"notifiers\")")
			}
			ns, err := build.Build(cfg.Notifiers, build.Deps{Logger: a.logger})
			if err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			names := make([]string, 0, len(ns))
			for name := range ns {
				names = append(names, name)
			}
			slices.Sort(names)
			if len(args) == 1 {
				if _, ok := ns[args[0]]; !ok {
					return usageError("unknown notifier %q (configured: %s)", args[0], strings.Join(names, ", "))
				}
				names = []string{args[0]}
			}
			now := time.Now().UTC()
			failed := 0
			out := cmd.OutOrStdout()
			for _, name := range names {
				n, _ := cfg.Notifier(name)
				alert := testAlert(now)
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				start := time.Now()
				retry, err := ns[name].Notify(ctx, &alert)
				cancel()
				if err != nil {
					failed++
					kind := "permanent"
					if retry {
						kind = "retryable"
					}
					fmt.Fprintf(out, "FAIL  %s (%s): %s error: %s\n", name, n.Type, kind, render.ShowName(err.Error()))
					continue
				}
				fmt.Fprintf(out, "ok    %s (%s) in %s\n", name, n.Type, time.Since(start).Round(time.Millisecond))
			}
			if failed > 0 {
				return &ExitError{Code: ExitDrift, Err: fmt.Errorf("%d of %d notifiers failed", failed, len(names))}
			}
			return nil
		},
	}
	test.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "time allowed per notifier")
	cmd.AddCommand(test)
	return cmd
}

// testAlert is the alert `notify test` sends: its kind makes every channel
// mark it as a test.
func testAlert(now time.Time) notifiers.Alert {
	return notifiers.Alert{
		Incident:  fmt.Sprintf("test/%d", now.UnixNano()),
		Kind:      notifiers.KindTest,
		Server:    "mcpdrift",
		Severity:  severity.Info,
		At:        now,
		FirstSeen: now,
		Reason:    "mcpdrift notify test",
		Report: report.Server{Server: "mcpdrift", Status: report.StatusOK,
			Changes: []report.Change{}, Findings: []report.Finding{}},
	}
}
