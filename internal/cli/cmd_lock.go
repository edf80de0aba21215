package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/render"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/service"
	"github.com/mcpdrift/mcpdrift/internal/version"
)

func newLockCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Pin approved baselines as code: export, import and verify lockfiles",
		Long: `A lockfile holds the approved baselines of a set of servers (canonical
manifests, their fingerprints and approval records) as one deterministic,
reviewable JSON file, to be committed and reviewed like code. See
docs/lockfile.md for the format and its compatibility promise.

  mcpdrift lock export > mcp.lock.json     write the database's baselines
  mcpdrift lock import mcp.lock.json       make a lockfile's manifests the baselines
  mcpdrift lock verify mcp.lock.json       detect hand edits, offline
  mcpdrift check --lock mcp.lock.json      compare live servers, no database`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLockExportCommand(a), newLockImportCommand(a), newLockVerifyCommand(a))
	return cmd
}

func newLockExportCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "export [SERVER...]",
		Short: "Write the approved baselines as a lockfile to standard output",
		Long: `Write the approved baselines of the named servers (all enabled servers by
default) as a lockfile. The output depends only on the baselines: the same
baselines always give the same bytes.

A server without an approved baseline is left out with a warning, or, when
named, makes the export fail (exit 1) without writing anything.`,
		Example: `  mcpdrift lock export > mcp.lock.json
  mcpdrift lock export github files > mcp.lock.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			servers, err := service.Select(cfg, args)
			if err != nil {
				return serviceError(err)
			}
			svc, done, err := a.backend(cmd.Context(), cfg, true)
			if err != nil {
				return err
			}
			defer done()
			f := &lockfile.File{Mcpdrift: version.Get().Version}
			var missing []string
			for _, s := range servers {
				appr, doc, err := serviceBaseline(cmd.Context(), svc, s.Name)
				if errors.Is(err, service.ErrNotFound) {
					if len(args) > 0 {
						missing = append(missing, fmt.Sprintf("%q", s.Name))
					} else {
						a.logger.Warn("left out of the lockfile: no approved baseline", slog.String("server", s.Name))
					}
					continue
				}
				if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				ls, err := lockfile.FromBaseline(s.Name, appr, doc)
				if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				f.Servers = append(f.Servers, ls)
			}
			if len(missing) > 0 {
				return &ExitError{Code: ExitDrift, Err: fmt.Errorf("no approved baseline for %s: run 'mcpdrift check' and approve first", strings.Join(missing, ", "))}
			}
			if err := lockfile.Encode(cmd.OutOrStdout(), f); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return nil
		},
	}
}

// serviceBaseline reads a server's baseline document and the approval that
// made it, through the service (so it works through a daemon's socket too).
// It fails with service.ErrNotFound when the server has no baseline.
func serviceBaseline(ctx context.Context, svc service.Service, name string) (report.Approval, []byte, error) {
	doc, err := svc.Show(ctx, service.ShowRequest{Server: name, Baseline: true})
	if err != nil {
		return report.Approval{}, nil, err
	}
	h, err := svc.History(ctx, name, 1)
	if err != nil {
		return report.Approval{}, nil, fmt.Errorf("history of %q: %w", name, err)
	}
	id := manifest.Fingerprint(doc)
	// History is newest first: the newest approval of this document is
	// the one that made it the baseline.
	for _, e := range h.History {
		if e.Type == "approval" && e.BaselineID == id {
			return report.Approval{
				Server: name, At: e.At, Approver: e.Approver, Comment: e.Comment, BaselineID: e.BaselineID,
				PreviousID: e.PreviousID, SnapshotID: e.SnapshotID, Tools: e.Tools, Method: e.Method,
			}, doc, nil
		}
	}
	return report.Approval{}, nil, fmt.Errorf("baseline %s of %q has no approval record", id, name)
}

type lockImportOptions struct {
	acceptEdits bool
	comment     string
}

func newLockImportCommand(a *app) *cobra.Command {
	o := &lockImportOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE [SERVER...]",
		Short: "Make a lockfile's manifests the approved baselines",
		Long: `Make the lockfile's manifests (of the named servers, or of every server in
it that the config knows) the approved baselines in the database, each
recorded as an approval by you (the OS user) with method "lock-import". A
server whose baseline already is the pinned manifest is left unchanged.

Every manifest's fingerprint is recomputed first: if one was edited by hand,
nothing is imported (exit 1) unless --accept-edits, which imports the content
as written and records the edit.

With a daemon running, the import goes through its admin socket, and the
drift alerts of the imported servers are re-evaluated at once.`,
		Example: `  mcpdrift lock import mcp.lock.json
  mcpdrift lock import mcp.lock.json github --comment "PR #42"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			f, data, err := readLockfileData(args[0])
			if err != nil {
				return err
			}
			servers, err := a.importSelection(cfg, f, args[1:])
			if err != nil {
				return err
			}
			if !o.acceptEdits {
				// Refuse before the database is even opened (or created).
				if err := lockfile.VerifyAll(servers); err != nil {
					return &ExitError{Code: ExitDrift, Err: err}
				}
			}
			if len(servers) == 0 {
				return usageError("no server of the lockfile is in the config: nothing to import")
			}
			names := make([]string, len(servers))
			for i, s := range servers {
				names[i] = s.Name
			}
			svc, done, err := a.backend(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer done()
			res, err := svc.ImportLock(cmd.Context(), service.ImportRequest{
				Lockfile: data, Servers: names, Approver: localUser(),
				Comment: o.comment, AcceptEdits: o.acceptEdits,
			})
			out := cmd.OutOrStdout()
			for _, r := range res {
				switch {
				case r.Unchanged:
					fmt.Fprintf(out, "%s: unchanged (baseline already pinned)\n", render.ShowName(r.Server))
				default:
					edited := ""
					if r.Edited {
						edited = " (edited by hand)"
					}
					fmt.Fprintf(out, "%s: baseline %s imported%s, approval #%d by %s\n",
						render.ShowName(r.Server), r.Approval.BaselineID, edited, r.Approval.Seq, render.ShowName(r.Approval.Approver))
				}
			}
			switch {
			case err == nil:
				return nil
			case errors.Is(err, lockfile.ErrEdited):
				return &ExitError{Code: ExitDrift, Err: err}
			default:
				return serviceError(err)
			}
		},
	}
	cmd.Flags().BoolVar(&o.acceptEdits, "accept-edits", false, "import manifests edited by hand as written")
	cmd.Flags().StringVar(&o.comment, "comment", "", "comment recorded with each approval")
	return cmd
}

// importSelection picks the lockfile servers to import: the named ones
// (each must be in the lockfile and the config), or every lockfile server
// the config knows, others left out with a warning.
func (a *app) importSelection(cfg *config.Config, f *lockfile.File, names []string) ([]lockfile.Server, error) {
	var out []lockfile.Server
	if len(names) == 0 {
		for _, s := range f.Servers {
			if _, ok := cfg.Server(s.Name); !ok {
				a.logger.Warn("not imported: the config has no such server", slog.String("server", render.ShowName(s.Name)))
				continue
			}
			out = append(out, s)
		}
		return out, nil
	}
	if _, err := service.Select(cfg, names); err != nil {
		return nil, serviceError(err)
	}
	var unknown []string
	for _, n := range slices.Compact(slices.Sorted(slices.Values(names))) {
		s, ok := f.Server(n)
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", n))
			continue
		}
		out = append(out, *s)
	}
	if len(unknown) > 0 {
		return nil, usageError("not in the lockfile: %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

func newLockVerifyCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a lockfile offline: readable, and no manifest edited by hand",
		Long: `Read the lockfile and recompute every manifest's fingerprint, with no
config, database or server. Exit 0 when every manifest matches its recorded
fingerprint, 1 when one was edited by hand (each is named), 2 when the file
is not a lockfile this mcpdrift can read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := readLockfile(args[0])
			if err != nil {
				return err
			}
			var edits []error
			for i := range f.Servers {
				s := &f.Servers[i]
				if err := s.Verify(); err != nil {
					edits = append(edits, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s ok\n", render.ShowName(s.Name), s.Fingerprint)
			}
			if len(edits) > 0 {
				return &ExitError{Code: ExitDrift, Err: errors.Join(edits...)}
			}
			return nil
		},
	}
}
