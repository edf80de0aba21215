package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcpdrift/mcpdrift/internal/agentconfig"
)

// maxAgentConfig bounds what import reads of one file.
const maxAgentConfig = 16 << 20

type configImportOptions struct {
	from    string
	project string
}

func newConfigImportCommand(a *app) *cobra.Command {
	o := &configImportOptions{}
	cmd := &cobra.Command{
		Use:   "import [FILE...]",
		Short: "Print a servers: block for the MCP servers in agents' config files",
		Long: `Read the MCP servers of Claude Desktop (claude_desktop_config.json),
Claude Code (.mcp.json, ~/.claude.json), VS Code (.vscode/mcp.json, the
user mcp.json) and Cursor (.cursor/mcp.json, ~/.cursor/mcp.json) and print
them as a mcpdrift servers: block, to paste into the config.

Without FILE, the usual places are read: the user's files under $HOME (and
$APPDATA on Windows, $XDG_CONFIG_HOME on Linux) and the project files in
--project (default: the current directory). A FILE's format is told from
its name or content; --from names it.

No value is ever copied: every env and header value becomes a ${VAR}
reference (an existing ${VAR}, ${env:VAR} or ${VAR:-default} keeps its
variable; any other value gets a derived name such as GITHUB_TOKEN or
FILES_API_KEY), and the output's head lists the variables to set where
mcpdrift runs. What cannot be translated (transports mcpdrift does not
speak, VS Code inputs, envFile, placeholders mcpdrift cannot resolve) is
listed there and on stderr; disabled servers are imported with disabled:
true.`,
		Example: `  mcpdrift config import > servers.yaml
  mcpdrift config import ~/Library/Application\ Support/Claude/claude_desktop_config.json
  mcpdrift config import --project ~/src/app
  mcpdrift config import --from vscode team-servers.json`,
		RunE: func(cmd *cobra.Command, files []string) error {
			return a.configImport(cmd, o, files)
		},
	}
	cmd.Flags().StringVar(&o.from, "from", "", "format of the FILEs: claude-desktop, claude-code, vscode or cursor (default: told from each file)")
	cmd.Flags().StringVar(&o.project, "project", "", "project directory whose .mcp.json, .vscode/mcp.json and .cursor/mcp.json are read (default: the current directory)")
	return cmd
}

func (a *app) configImport(cmd *cobra.Command, o *configImportOptions, files []string) error {
	var forced agentconfig.Format
	if o.from != "" {
		f, err := agentconfig.ParseFormat(o.from)
		if err != nil {
			return usageError("--from: %w", err)
		}
		forced = f
	}
	home := a.envValue("HOME")
	if home == "" && runtime.GOOS == "windows" {
		home = a.envValue("USERPROFILE")
	}
	project := o.project
	if project == "" && len(files) == 0 {
		wd, err := os.Getwd()
		if err != nil {
			return &ExitError{Code: ExitFailure, Err: fmt.Errorf("current directory: %w", err)}
		}
		project = wd
	}
	if project != "" {
		abs, err := filepath.Abs(project)
		if err != nil {
			return usageError("--project %s: %w", project, err)
		}
		project = abs
	}

	im := agentconfig.NewImporter(agentconfig.Context{Home: home, ProjectDir: project})
	if len(files) > 0 {
		for _, f := range files {
			path, err := filepath.Abs(f)
			if err != nil {
				return usageError("%s: %w", f, err)
			}
			data, err := readAgentConfig(path)
			if err != nil {
				return usageError("%w", err)
			}
			if err := addAgentConfig(im, path, forced, data); err != nil {
				return usageError("%w", err)
			}
		}
	} else {
		var looked []string
		read := 0
		for _, l := range agentconfig.Locations(runtime.GOOS, home, project, a.env) {
			looked = append(looked, l.Path)
			data, err := readAgentConfig(l.Path)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return usageError("%w", err)
			}
			read++
			if err := addAgentConfig(im, l.Path, l.Format, data); err != nil {
				return usageError("%w", err)
			}
		}
		if read == 0 {
			return usageError("no agent MCP config found; looked at:\n  %s\ngive the file to import", strings.Join(looked, "\n  "))
		}
	}

	r := im.Result()
	out, err := agentconfig.Render(r)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if _, err := cmd.OutOrStdout().Write(out); err != nil {
		return err
	}
	summarizeImport(cmd.ErrOrStderr(), r)
	return nil
}

func (a *app) envValue(k string) string {
	v, _ := a.env(k)
	return v
}

func readAgentConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxAgentConfig+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(b) > maxAgentConfig {
		return nil, fmt.Errorf("%s: larger than %d MiB: not an agent config", path, maxAgentConfig>>20)
	}
	return b, nil
}

func addAgentConfig(im *agentconfig.Importer, path string, f agentconfig.Format, data []byte) error {
	if f == "" {
		var err error
		if f, err = agentconfig.Detect(path, data); err != nil {
			return err
		}
	}
	return im.Add(path, f, data)
}

// summarizeImport tells, on stderr, what the output holds and what to do.
func summarizeImport(w io.Writer, r agentconfig.Result) {
	fmt.Fprintf(w, "mcpdrift: %d servers imported from %d files", len(r.Servers), len(r.Sources))
	if len(r.Vars) > 0 {
		names := make([]string, len(r.Vars))
		for i, v := range r.Vars {
			names[i] = v.Name
		}
		fmt.Fprintf(w, "; set %s where mcpdrift runs", strings.Join(names, ", "))
	}
	fmt.Fprintln(w)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "mcpdrift: %s\n", n)
	}
}
