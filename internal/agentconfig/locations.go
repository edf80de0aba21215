package agentconfig

import "path/filepath"

// Location is a file an agent may keep its MCP servers in.
type Location struct {
	Path   string
	Format Format
}

// Locations lists where the agents keep their MCP servers on goos
// ("darwin", "windows", anything else is read as Linux): the user-level
// files under home (and APPDATA, XDG_CONFIG_HOME from env), then the
// project-level ones in project, when given. Whether each exists is for
// the caller to find out.
func Locations(goos, home, project string, env func(string) (string, bool)) []Location {
	get := func(k string) string {
		if env == nil {
			return ""
		}
		v, _ := env(k)
		return v
	}
	var appConfig string // where desktop apps keep their settings
	switch goos {
	case "darwin":
		appConfig = filepath.Join(home, "Library", "Application Support")
	case "windows":
		appConfig = get("APPDATA")
		if appConfig == "" {
			appConfig = filepath.Join(home, "AppData", "Roaming")
		}
	default:
		appConfig = get("XDG_CONFIG_HOME")
		if appConfig == "" {
			appConfig = filepath.Join(home, ".config")
		}
	}
	var out []Location
	if home != "" || appConfig != "" {
		out = append(out,
			Location{filepath.Join(appConfig, "Claude", "claude_desktop_config.json"), ClaudeDesktop},
			Location{filepath.Join(home, ".claude.json"), ClaudeCode},
			Location{filepath.Join(appConfig, "Code", "User", "mcp.json"), VSCode},
			Location{filepath.Join(home, ".cursor", "mcp.json"), Cursor},
		)
	}
	if project != "" {
		out = append(out,
			Location{filepath.Join(project, ".mcp.json"), ClaudeCode},
			Location{filepath.Join(project, ".vscode", "mcp.json"), VSCode},
			Location{filepath.Join(project, ".cursor", "mcp.json"), Cursor},
		)
	}
	return out
}
