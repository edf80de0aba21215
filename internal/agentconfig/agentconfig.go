// Package agentconfig reads the MCP server lists AI agents keep in their
// config files (Claude Desktop's claude_desktop_config.json, Claude Code's
// .mcp.json and ~/.claude.json, VS Code's .vscode/mcp.json, Cursor's
// .cursor/mcp.json) and translates them into mcpdrift servers, so that the
// servers a team already uses are monitored without typing them again.
//
// It never copies a value that may be a secret: every env and header value
// becomes a ${VAR} reference (an existing reference keeps its variable;
// anything else gets a derived name, SERVER_KEY), and the variables to set
// are listed. What cannot be translated (unknown transports, VS Code
// ${input:...} prompts, env files, disabled servers) is reported as a
// Note, never dropped silently.
//
// agentconfig reads the bytes it is given and knows where agents keep their
// files (Locations); it opens nothing itself and knows nothing of
// mcpdrift's own config beyond the shape it writes (Render).
package agentconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Format is an agent's config file format.
type Format string

// The formats read.
const (
	ClaudeDesktop Format = "claude-desktop"
	ClaudeCode    Format = "claude-code"
	VSCode        Format = "vscode"
	Cursor        Format = "cursor"
)

// Formats lists every format, in the order they are looked for.
var Formats = []Format{ClaudeDesktop, ClaudeCode, VSCode, Cursor}

// Title is the agent's name, for people.
func (f Format) Title() string {
	switch f {
	case ClaudeDesktop:
		return "Claude Desktop"
	case ClaudeCode:
		return "Claude Code"
	case VSCode:
		return "VS Code"
	case Cursor:
		return "Cursor"
	}
	return string(f)
}

// ParseFormat reads a --from value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown agent config format %q (use %s)", s, strings.Join(names, ", "))
}

// ErrUnknownFormat reports a file whose format cannot be told from its
// name or content.
var ErrUnknownFormat = errors.New("not an agent MCP config")

// Detect tells a file's format from its name, else from its content
// (a top-level "servers" object is VS Code's; "mcpServers" is read the
// Claude Desktop way, which Cursor and Claude Code share).
func Detect(path string, data []byte) (Format, error) {
	base := filepath.Base(path)
	dir := filepath.Base(filepath.Dir(path))
	switch {
	case base == "claude_desktop_config.json":
		return ClaudeDesktop, nil
	case base == ".mcp.json" || base == ".claude.json":
		return ClaudeCode, nil
	case dir == ".vscode" || (dir == "User" && base == "mcp.json"):
		return VSCode, nil
	case dir == ".cursor":
		return Cursor, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(stripJSONC(data), &top); err == nil {
		if _, ok := top["servers"]; ok {
			return VSCode, nil
		}
		if _, ok := top["mcpServers"]; ok {
			return ClaudeDesktop, nil
		}
	}
	return "", fmt.Errorf("%s: %w (no mcpServers or servers object); give its format with --from", path, ErrUnknownFormat)
}

// Server is one translated server, in mcpdrift's terms.
type Server struct {
	Name string
	// Source is the file it came from, and Agent the agent's name.
	Source, Agent string
	// Transport is "stdio", "streamable" or "sse".
	Transport string
	Command   string
	Args      []string
	Cwd       string
	URL       string
	// Env and Headers map names to values holding ${VAR} references only.
	Env     map[string]string
	Headers map[string]string
	// Disabled mirrors the agent's own switch.
	Disabled bool
}

// Var is a variable the imported config references: it must be set in
// mcpdrift's environment (or the reference replaced by a *_files entry).
type Var struct {
	Name string
	// Uses says where: "github headers.Authorization", "files env.API_KEY".
	Uses []string
	// Origin says where the agent took the value from, when not its own
	// config file: "VS Code input \"api-key\"", "the environment".
	Origin string
}

// Note is something that was not translated as it stood, for the person
// importing.
type Note struct {
	Source, Server, Message string
}

func (n Note) String() string {
	switch {
	case n.Server != "":
		return fmt.Sprintf("%s: %s: %s", n.Source, n.Server, n.Message)
	case n.Source != "":
		return n.Source + ": " + n.Message
	}
	return n.Message
}

// Result is what an import found.
type Result struct {
	Servers []Server
	Vars    []Var
	Notes   []Note
	// Sources are the files read, each with its agent.
	Sources []string
}

// Context is what placeholders in agent configs resolve against.
type Context struct {
	// Home is the user's home directory (${userHome}, ~).
	Home string
	// ProjectDir is the project a project file belongs to
	// (${workspaceFolder}); Import sets it for .vscode, .cursor and
	// .mcp.json files to the directory holding them.
	ProjectDir string
}

// Importer accumulates servers from several files into one Result.
type Importer struct {
	Context Context
	res     Result
	names   map[string]int    // mcpdrift name -> index in res.Servers
	vars    map[string]int    // variable -> index in res.Vars
	derived map[string]string // variable -> the use that derived it
}

// NewImporter returns an empty importer.
func NewImporter(ctx Context) *Importer {
	return &Importer{Context: ctx, names: map[string]int{}, vars: map[string]int{}, derived: map[string]string{}}
}

// Result returns what was imported so far.
func (im *Importer) Result() Result { return im.res }

// entry is a server as the agents write it, all formats merged: each reads
// the keys it knows.
type entry struct {
	Type     string            `json:"type"`
	Command  string            `json:"command"`
	Args     []string          `json:"args"`
	Env      map[string]string `json:"env"`
	EnvFile  string            `json:"envFile"`
	Cwd      string            `json:"cwd"`
	URL      string            `json:"url"`
	Headers  map[string]string `json:"headers"`
	Disabled bool              `json:"disabled"`
}

// vscodeInput is a VS Code input definition.
type vscodeInput struct {
	ID          string `json:"id"`
	Description string `json:"description"`
	Password    bool   `json:"password"`
}

// Add translates the servers of one file.
func (im *Importer) Add(path string, f Format, data []byte) error {
	var doc struct {
		MCPServers map[string]json.RawMessage `json:"mcpServers"`
		Servers    map[string]json.RawMessage `json:"servers"`
		Inputs     []vscodeInput              `json:"inputs"`
		Projects   map[string]struct {
			MCPServers map[string]json.RawMessage `json:"mcpServers"`
		} `json:"projects"`
	}
	if err := json.Unmarshal(stripJSONC(data), &doc); err != nil {
		return fmt.Errorf("%s: not valid JSON: %w", path, err)
	}
	ctx := im.Context
	if f != ClaudeDesktop && filepath.Base(path) != ".claude.json" && !(f == VSCode && filepath.Base(filepath.Dir(path)) == "User") &&
		!(f == Cursor && ctx.Home != "" && filepath.Dir(path) == filepath.Join(ctx.Home, ".cursor")) {
		ctx.ProjectDir = filepath.Dir(path)
		if d := filepath.Base(ctx.ProjectDir); d == ".vscode" || d == ".cursor" {
			ctx.ProjectDir = filepath.Dir(ctx.ProjectDir)
		}
	}
	servers := doc.MCPServers
	if f == VSCode {
		servers = doc.Servers
	}
	if f == ClaudeCode && ctx.ProjectDir == "" && im.Context.ProjectDir != "" {
		// ~/.claude.json keeps local-scope servers per project: those of
		// the project being imported from count too.
		if p, ok := doc.Projects[im.Context.ProjectDir]; ok {
			servers = mergeServers(servers, p.MCPServers)
		}
	}
	im.res.Sources = append(im.res.Sources, fmt.Sprintf("%s (%s)", path, f.Title()))
	if len(servers) == 0 {
		im.note(path, "", "no MCP servers in this file")
		return nil
	}
	inputs := map[string]vscodeInput{}
	for _, in := range doc.Inputs {
		inputs[in.ID] = in
	}
	names := make([]string, 0, len(servers))
	for n := range servers {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		var e entry
		if err := json.Unmarshal(servers[n], &e); err != nil {
			im.note(path, n, "not imported: not a server object ("+err.Error()+")")
			continue
		}
		t := translator{im: im, path: path, format: f, ctx: ctx, inputs: inputs, agentName: n}
		if s, ok := t.server(e); ok {
			im.addServer(s)
		}
	}
	return nil
}

func mergeServers(a, b map[string]json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func (im *Importer) note(source, server, msg string) {
	im.res.Notes = append(im.res.Notes, Note{Source: source, Server: server, Message: msg})
}

// addServer adds s under a name no other imported server has: the same
// server found in two files is kept once.
func (im *Importer) addServer(s Server) {
	if j, taken := im.names[s.Name]; taken {
		first := im.res.Servers[j]
		if sameServer(first, s) {
			im.note(s.Source, s.Name, "the same server as in "+first.Source+": imported once")
			return
		}
		base := s.Name
		for i := 2; ; i++ {
			if _, taken := im.names[fmt.Sprintf("%s-%d", base, i)]; !taken {
				s.Name = fmt.Sprintf("%s-%d", base, i)
				break
			}
		}
		im.note(s.Source, base, "another server of this name came from "+first.Source+": this one is imported as "+s.Name)
	}
	im.names[s.Name] = len(im.res.Servers)
	im.res.Servers = append(im.res.Servers, s)
}

func sameServer(a, b Server) bool {
	a.Source, b.Source, a.Agent, b.Agent = "", "", "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// useVar records that a server's key references name.
func (im *Importer) useVar(name, use, origin string) {
	i, ok := im.vars[name]
	if !ok {
		i = len(im.res.Vars)
		im.vars[name] = i
		im.res.Vars = append(im.res.Vars, Var{Name: name})
	}
	v := &im.res.Vars[i]
	if !slices.Contains(v.Uses, use) {
		v.Uses = append(v.Uses, use)
	}
	if v.Origin == "" {
		v.Origin = origin
	}
}

// nameRE is what mcpdrift accepts as a server name.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// serverName makes an agent's server name a valid mcpdrift name.
func serverName(n string) string {
	if nameRE.MatchString(n) {
		return n
	}
	var b strings.Builder
	for _, r := range n {
		switch {
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 64 {
		out = out[:64]
	}
	if out == "" {
		out = "server"
	}
	return out
}

// varName derives an environment variable name: SERVER_KEY, upper case,
// every other character an underscore; a key that already starts with the
// server's prefix (GITHUB_TOKEN of github) is used as it is.
func varName(server, key string) string {
	up := func(s string) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			} else {
				b.WriteByte('_')
			}
		}
		return strings.Trim(b.String(), "_")
	}
	s, k := up(server), up(key)
	switch {
	case s == "":
		s = "MCP"
	case s[0] >= '0' && s[0] <= '9':
		s = "MCP_" + s
	}
	if k == s || strings.HasPrefix(k, s+"_") {
		return k
	}
	return s + "_" + k
}
