package drift

import (
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// fsID is a filesystem server launched through npx with the given
// arguments after the package, and environment fingerprints.
func fsID(spec, cwd string, env map[string]string, dirs ...string) *manifest.Identity {
	return &manifest.Identity{
		Executable: &manifest.Executable{Command: "npx", Path: "/usr/lib/node_modules/npm/bin/npx-cli.js", SHA256: "sha256:aa", Launcher: "npx"},
		Package:    &manifest.Package{Launcher: "npx", Spec: spec, Name: "@modelcontextprotocol/server-filesystem", Version: "2026.8.31", Method: "process"},
		Launch:     &manifest.Launch{Args: append([]string{"-y", spec}, dirs...), Cwd: cwd, Env: env},
	}
}

func TestDiffLaunch(t *testing.T) {
	const spec = "@modelcontextprotocol/server-filesystem@2026.8.31"
	fs := func(dirs ...string) *manifest.Identity { return fsID(spec, "", nil, dirs...) }
	env := func(kv ...string) *manifest.Identity {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return fsID(spec, "", m, "/srv/a")
	}
	web := func(url string, headers ...string) *manifest.Identity {
		return &manifest.Identity{URL: "https://mcp.example.com/mcp", Launch: &manifest.Launch{URL: url, Headers: headers}}
	}
	hi, med, info := severity.High, severity.Medium, severity.Info
	const kind, path = KindIdentityLaunch, "identity.launch"
	tests := []struct {
		name       string
		base, snap *manifest.Identity
		want       []want
	}{
		{"same launch", fs("/srv/shared-a"), fs("/srv/shared-a"), nil},
		{"the allowed directory moves to another tree: high", fs("/srv/shared-a"), fs("/srv/shared-b"),
			[]want{{kind, "", path, hi, "path argument moves outside every approved path: `/srv/shared-a` -> `/srv/shared-b`"}}},
		{"the allowed directory widens to its parent: high", fs("/srv/shared-a"), fs("/srv"),
			[]want{{kind, "", path, hi, "path argument widens from `/srv/shared-a` to `/srv`"}}},
		{"widening to / is high", fs("/srv/shared-a"), fs("/"),
			[]want{{kind, "", path, hi, "widens"}}},
		{"narrowing is medium", fs("/srv"), fs("/srv/shared-a"),
			[]want{{kind, "", path, med, "path argument narrows from `/srv` to `/srv/shared-a`"}}},
		{"a second directory is high", fs("/srv/a"), fs("/srv/a", "/home"),
			[]want{{kind, "", path, hi, "`/home` is outside every approved path"}}},
		{"a sibling prefix is not inside", fs("/srv/a"), fs("/srv/ab"),
			[]want{{kind, "", path, hi, "moves outside every approved path"}}},
		{"dropping a directory is medium", fs("/srv/a", "/srv/b"), fs("/srv/a"),
			[]want{{kind, "", path, med, "drops path argument `/srv/b`"}}},
		{"reordering directories is medium", fs("/srv/a", "/srv/b"), fs("/srv/b", "/srv/a"),
			[]want{{kind, "", path, med, "arguments change order"}}},
		{"a flag value path widens", fs("--root=/srv/a"), fs("--root=/srv"),
			[]want{{kind, "", path, hi, "widens from `--root=/srv/a` to `--root=/srv`"}}},
		{"another flag is medium", fs("/srv/a", "--read-only"), fs("/srv/a"),
			[]want{{kind, "", path, med, "arguments change drops `--read-only`"}}},
		{"a relative directory follows cwd", fsID(spec, "/srv/a", nil, "."), fsID(spec, "/srv", nil, "."),
			[]want{{kind, "", path, hi, "widens from `.` to `.`; working directory changes from /srv/a to /srv"}}},
		{"only the package spec: compared by identity.package, not here",
			fs("/srv/a"), fsID("@modelcontextprotocol/server-filesystem@latest", "", nil, "/srv/a"),
			[]want{{KindIdentityPackage, "", "identity.package", med, "configured package changes"}}},
		{"a variable added is medium", env(), env("LOG_LEVEL", "hmac-sha256:01"),
			[]want{{kind, "", path, med, "sets environment variable LOG_LEVEL"}}},
		{"a loader variable is high", env(), env("NODE_OPTIONS", "hmac-sha256:01"),
			[]want{{kind, "", path, hi, "sets environment variable NODE_OPTIONS"}}},
		{"a written value changes: medium", env("READ_ONLY", "hmac-sha256:01"), env("READ_ONLY", "hmac-sha256:02"),
			[]want{{kind, "", path, med, "environment variable READ_ONLY changes value"}}},
		{"a variable removed is medium", env("READ_ONLY", "hmac-sha256:01"), env(),
			[]want{{kind, "", path, med, "no longer sets environment variable READ_ONLY"}}},
		{"a credential moved out of the config is medium", env("API_KEY", "hmac-sha256:01"), env("API_KEY", manifest.LaunchEnvExternal),
			[]want{{kind, "", path, med, "API_KEY now comes from mcpdrift's environment or a file"}}},
		{"a rotated credential is no change", env("API_KEY", manifest.LaunchEnvExternal), env("API_KEY", manifest.LaunchEnvExternal), nil},
		{"a header added is medium", web("https://mcp.example.com/mcp", "Authorization"), web("https://mcp.example.com/mcp", "Authorization", "X-Tenant"),
			[]want{{kind, "", path, med, "headers sent change adds `X-Tenant`"}}},
		{"a query key added is medium", web("https://mcp.example.com/mcp"), web("https://mcp.example.com/mcp?toolsets=REDACTED"),
			[]want{{kind, "", path, med, "configured URL changes from https://mcp.example.com/mcp to https://mcp.example.com/mcp?toolsets=REDACTED"}}},
		{"a baseline without launch sees it first recorded, as info",
			&manifest.Identity{Executable: fs().Executable, Package: fs().Package}, fs("/srv/a"),
			[]want{{kind, "", path, info, "launch first recorded: `-y`"}}},
		{"a baseline without any identity: info", nil, fs("/srv/a"),
			[]want{{KindIdentityExecutable, "", "identity.executable", info, "first recorded"},
				{kind, "", path, info, "launch first recorded"},
				{KindIdentityPackage, "", "identity.package", info, "first recorded"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkChanges(t, Diff(withID(t, tt.base), withID(t, tt.snap), Policy{}), tt.want)
		})
	}
}

func TestLaunchChangesTheSnapshotID(t *testing.T) {
	a, b := withID(t, fsID("x", "", nil, "/srv/shared-a")), withID(t, fsID("x", "", nil, "/srv/shared-b"))
	if a.ID() == b.ID() {
		t.Fatal("another allowed directory kept the snapshot id")
	}
	if !strings.Contains(string(b.Document()), `"launch":{"args":["-y","x","/srv/shared-b"]}`) {
		t.Errorf("document does not record the launch: %s", b.Document())
	}
}

func TestLaunchIgnoreAndOverride(t *testing.T) {
	base := withID(t, fsID("x", "/work", nil, "/srv/a"))
	snap := withID(t, fsID("x", "/elsewhere", nil, "/srv"))
	cs := Diff(base, snap, Policy{Ignore: []Ignore{{Path: "server/identity.launch.cwd"}}})
	checkChanges(t, cs, []want{{KindIdentityLaunch, "", "identity.launch", severity.High, "widens"}})
	if strings.Contains(cs[0].Summary, "working directory") {
		t.Errorf("ignored cwd still reported: %s", cs[0].Summary)
	}
	cs = Diff(base, snap, Policy{Severity: map[string]severity.Level{KindIdentityLaunch: severity.Low}})
	checkChanges(t, cs, []want{{KindIdentityLaunch, "", "identity.launch", severity.Low, "widens"}})
}
