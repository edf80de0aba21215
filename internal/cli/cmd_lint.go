package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/lint"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
)

func newLintCommand(a *app) *cobra.Command {
	var format *formatFlag
	var failOn string
	var rules bool
	cmd := &cobra.Command{
		Use:   "lint FILE|SERVER",
		Short: "Run the tool-poisoning rules on a manifest file or a server's latest snapshot",
		Long: `Run mcpdrift's deterministic, offline tool-poisoning rules (hidden
instructions, concealment, sensitive paths, exfiltration, cross-tool
shadowing, invisible characters, confusable names, encoded payloads, schema
poisoning) on:

  FILE    a canonical manifest (the output of 'mcpdrift show') or a raw
          tools/list result ({"tools": [...]}); '-' reads standard input
  SERVER  the latest stored snapshot of a configured server, with that
          server's suppressions and the other servers' tools as context

Exit status: 0 when no unsuppressed finding is at or above --fail-on, 1
otherwise, 2 on usage errors. --rules lists every rule with its precision
measured on mcpdrift's committed labelled corpus of malicious, real and
look-alike tools.`,
		Example: `  mcpdrift lint github
  mcpdrift show github | mcpdrift lint -
  mcpdrift lint tools.json --format json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if rules {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if rules {
				_, err := io.WriteString(cmd.OutOrStdout(), lint.CorpusNote()+"\n"+lint.MarkdownTable(lint.Rules()))
				return err
			}
			if err := format.check(); err != nil {
				return err
			}
			threshold, err := parseFailOn(failOn)
			if err != nil {
				return err
			}
			rs, err := a.lintTarget(cmd, args[0])
			if err != nil {
				return err
			}
			rep := report.Report{Servers: []report.Server{rs}}
			if err := render.Report(cmd.OutOrStdout(), &rep, format.value, render.Options{Color: isTerminal(cmd.OutOrStdout())}); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			if rs.MaxSeverity() >= threshold {
				return &ExitError{Code: ExitDrift, Quiet: true}
			}
			return nil
		},
	}
	format = addFormatFlag(cmd, "text", "json", "markdown")
	cmd.Flags().StringVar(&failOn, "fail-on", "medium", "lowest finding severity that makes the exit status 1")
	cmd.Flags().BoolVar(&rules, "rules", false, "list the rules, their default severities and measured precision (markdown)")
	return cmd
}

// lintTarget lints a file when arg names one (or is "-"), else the latest
// snapshot of the configured server arg.
func (a *app) lintTarget(cmd *cobra.Command, arg string) (report.Server, error) {
	if arg == "-" || fileExists(arg) {
		m, err := readManifest(cmd.InOrStdin(), arg)
		if err != nil {
			return report.Server{}, &ExitError{Code: ExitUsage, Err: err}
		}
		rs := report.Server{Server: arg, Status: report.StatusOK, Changes: []report.Change{}, Findings: []report.Finding{}}
		rs.Findings = append(rs.Findings, lint.Manifest(m, lint.Context{})...)
		rs.Severity = rs.MaxSeverity()
		return rs, nil
	}
	svc, done, err := a.service(cmd, true)
	if err != nil {
		return report.Server{}, err
	}
	defer done()
	rs, err := svc.Diff(cmd.Context(), arg)
	if err != nil {
		if errors.Is(err, service.ErrUsage) {
			err = fmt.Errorf("%q is neither a file nor a configured server: %w", arg, err)
		}
		return report.Server{}, serviceError(err)
	}
	// Lint looks at the whole snapshot, not at what changed.
	rs.Changes = []report.Change{}
	rs.Severity = rs.MaxSeverity()
	return rs, nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// readManifest reads a canonical manifest document or a raw tools/list
// result.
func readManifest(stdin io.Reader, arg string) (*manifest.Manifest, error) {
	var data []byte
	var err error
	if arg == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, 256<<20))
	} else {
		data, err = os.ReadFile(arg)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", arg, err)
	}
	var probe struct {
		Format *int            `json:"format"`
		Tools  json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %w", arg, err)
	}
	if probe.Format != nil {
		return manifest.Parse(data)
	}
	if probe.Tools == nil {
		return nil, fmt.Errorf("%s is neither a manifest ('mcpdrift show' output) nor a tools/list result with a \"tools\" array", arg)
	}
	m, err := manifest.Build(manifest.Capture{Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {data}}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", arg, err)
	}
	return m, nil
}
