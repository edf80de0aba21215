// Package docker_test checks the container files without a Docker engine:
// the Dockerfiles line by line, compose.yaml and the example config as YAML.
package docker_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mcpdrift/mcpdrift/internal/config"
)

// instruction is one Dockerfile instruction with continuations joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, USER...
	args string
}

// parseDockerfile splits a Dockerfile into instructions, dropping comments
// and joining backslash continuations. Enough for line checks, not a parser
// for every Dockerfile.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		full := strings.TrimSpace(cur.String())
		cur.Reset()
		if full == "" {
			continue
		}
		cmd, args, _ := strings.Cut(full, " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
	}
	return out
}

// finalStage returns the instructions after the last FROM, and that FROM.
func finalStage(ins []instruction) (from string, stage []instruction) {
	for i := len(ins) - 1; i >= 0; i-- {
		if ins[i].cmd == "FROM" {
			return ins[i].args, ins[i+1:]
		}
	}
	return "", nil
}

func all(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

func last(stage []instruction, cmd string) string {
	v := all(stage, cmd)
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

var digestPinned = regexp.MustCompile(`^gcr\.io/distroless/static-debian12:nonroot@sha256:[0-9a-f]{64}$`)

func TestDockerfiles(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		checkBase func(t *testing.T, from string)
		users     []string // acceptable final USER values
	}{
		{
			name: "distroless", file: "Dockerfile",
			checkBase: func(t *testing.T, from string) {
				if !digestPinned.MatchString(from) {
					t.Errorf("final base %q is not distroless static-debian12:nonroot pinned by digest", from)
				}
			},
			users: []string{"nonroot", "nonroot:nonroot", "65532", "65532:65532"},
		},
		{
			name: "node", file: "Dockerfile.node",
			checkBase: func(t *testing.T, from string) {
				if from != "${NODE_IMAGE}" {
					t.Errorf("final base %q, want ${NODE_IMAGE}", from)
				}
			},
			users: []string{"65532:65532", "mcpdrift", "mcpdrift:mcpdrift"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins := parseDockerfile(t, tt.file)
			if len(all(ins, "FROM")) < 2 {
				t.Fatal("not a multi-stage build")
			}
			build := strings.Join(all(ins, "RUN"), "\n")
			for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "-buildvcs=false",
				"-X github.com/mcpdrift/mcpdrift/internal/version.Version=${VERSION}",
				"-X github.com/mcpdrift/mcpdrift/internal/version.Commit=${COMMIT}",
				"-X github.com/mcpdrift/mcpdrift/internal/version.Date=${DATE}",
				"./cmd/mcpdrift"} {
				if !strings.Contains(build, want) {
					t.Errorf("go build lacks %q", want)
				}
			}

			from, stage := finalStage(ins)
			tt.checkBase(t, from)
			if u := last(stage, "USER"); !slices.Contains(tt.users, u) {
				t.Errorf("final USER %q, want one of %v", u, tt.users)
			}
			if hc := last(stage, "HEALTHCHECK"); !strings.Contains(hc, `"/usr/bin/mcpdrift", "healthcheck"`) {
				t.Errorf("HEALTHCHECK %q does not run mcpdrift healthcheck", hc)
			}
			if v := strings.Join(all(stage, "VOLUME"), " "); !strings.Contains(v, `"/var/lib/mcpdrift"`) {
				t.Errorf("no VOLUME for the database directory (got %q)", v)
			}
			if ep := last(stage, "ENTRYPOINT"); !strings.Contains(ep, `"/usr/bin/mcpdrift"`) {
				t.Errorf("ENTRYPOINT %q does not run mcpdrift", ep)
			}
			if cmd := last(stage, "CMD"); cmd != `["run"]` {
				t.Errorf("CMD %q, want [\"run\"]", cmd)
			}
			if env := strings.Join(all(stage, "ENV"), " "); !strings.Contains(env, "MCPDRIFT_CONFIG=/etc/mcpdrift/config.yaml") {
				t.Errorf("ENV does not set MCPDRIFT_CONFIG")
			}
			labels := strings.Join(all(stage, "LABEL"), " ")
			for _, l := range []string{"title", "description", "source", "version", "revision", "created"} {
				if !strings.Contains(labels, "org.opencontainers.image."+l+"=") {
					t.Errorf("missing OCI label org.opencontainers.image.%s", l)
				}
			}
			if _, err := os.Stat(tt.file + ".dockerignore"); err != nil {
				t.Errorf("no %s.dockerignore: the build context would include .git and node_modules", tt.file)
			}
		})
	}
}

type composeFile struct {
	Services map[string]struct {
		User        string   `yaml:"user"`
		ReadOnly    bool     `yaml:"read_only"`
		Init        bool     `yaml:"init"`
		CapDrop     []string `yaml:"cap_drop"`
		SecurityOpt []string `yaml:"security_opt"`
		Privileged  bool     `yaml:"privileged"`
		Ports       []string `yaml:"ports"`
		Volumes     []string `yaml:"volumes"`
		Secrets     []string `yaml:"secrets"`
		Build       struct {
			Context    string            `yaml:"context"`
			Dockerfile string            `yaml:"dockerfile"`
			Args       map[string]string `yaml:"args"`
		} `yaml:"build"`
	} `yaml:"services"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

func readCompose(t *testing.T) composeFile {
	t.Helper()
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return c
}

func TestCompose(t *testing.T) {
	c := readCompose(t)
	svc, ok := c.Services["mcpdrift"]
	if !ok {
		t.Fatalf("no mcpdrift service in %v", c.Services)
	}
	if svc.User == "" || strings.HasPrefix(svc.User, "0") || strings.HasPrefix(svc.User, "root") {
		t.Errorf("user %q: want a non-root uid", svc.User)
	}
	// No Docker init: the node image runs tini as PID 1 already (an init
	// on top makes it warn), and mcpdrift reaps its servers' leftovers.
	if !svc.ReadOnly || svc.Init || svc.Privileged {
		t.Errorf("read_only=%v init=%v privileged=%v; want true, false, false", svc.ReadOnly, svc.Init, svc.Privileged)
	}
	if !slices.Contains(svc.CapDrop, "ALL") {
		t.Errorf("cap_drop %v lacks ALL", svc.CapDrop)
	}
	if !slices.Contains(svc.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("security_opt %v lacks no-new-privileges", svc.SecurityOpt)
	}
	for _, p := range svc.Ports {
		if !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("port %q is published beyond the host's loopback", p)
		}
	}
	if !slices.Contains(svc.Volumes, "data:/var/lib/mcpdrift") {
		t.Errorf("volumes %v: the database directory is not on the named volume", svc.Volumes)
	}
	if !slices.Contains(svc.Volumes, "./config.yaml:/etc/mcpdrift/config.yaml:ro") {
		t.Errorf("volumes %v: the config is not mounted read-only", svc.Volumes)
	}
	if _, ok := c.Volumes["data"]; !ok {
		t.Error("volume data is not declared")
	}
	if svc.Build.Context != "../.." || orDefault(svc.Build.Dockerfile) != "deploy/docker/Dockerfile" {
		t.Errorf("build %+v: want the repository root as context and the distroless Dockerfile by default", svc.Build)
	}
	// The version stamp comes from .env (scripts/stamp.sh), generated and
	// never committed.
	for arg, v := range map[string]string{"VERSION": "MCPDRIFT_VERSION", "COMMIT": "MCPDRIFT_COMMIT", "DATE": "MCPDRIFT_DATE"} {
		if !strings.HasPrefix(svc.Build.Args[arg], "${"+v) {
			t.Errorf("build arg %s = %q, want it from $%s", arg, svc.Build.Args[arg], v)
		}
	}
	if raw, err := os.ReadFile("compose.yaml"); err != nil || !strings.Contains(string(raw), "scripts/stamp.sh > .env") {
		t.Error("compose.yaml does not say how to write the version stamp to .env")
	}
	if len(svc.Secrets) == 0 {
		t.Error("no secrets: credentials must come as files, not environment")
	}
	for _, s := range svc.Secrets {
		d, ok := c.Secrets[s]
		if !ok || !strings.HasPrefix(d.File, "./secrets/") {
			t.Errorf("secret %q: declared %v with file %q, want a file under ./secrets/", s, ok, d.File)
		}
	}
	if gi, err := os.ReadFile(".gitignore"); err != nil || !strings.Contains(string(gi), "/secrets/") || !strings.Contains(string(gi), "/.env") {
		t.Error(".gitignore does not keep ./secrets and .env out of git")
	}
}

// The example config is valid, listens where the published port and the
// HEALTHCHECK expect, and reads every secret from a compose secret.
func TestExampleConfig(t *testing.T) {
	data, err := os.ReadFile("config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("config.yaml", data, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("example config is invalid:\n%v", err)
	}
	if cfg.HTTP.Listen != "0.0.0.0:9464" {
		t.Errorf("http.listen %q: the container must listen on 0.0.0.0:9464", cfg.HTTP.Listen)
	}
	if cfg.Storage.Path != "/var/lib/mcpdrift/mcpdrift.db" {
		t.Errorf("storage.path %q is not on the volume", cfg.Storage.Path)
	}
	if cfg.InlineSecrets() {
		t.Error("example config holds a secret inline")
	}
	compose := readCompose(t)
	svc := compose.Services["mcpdrift"]
	refs := regexp.MustCompile(`/run/secrets/([A-Za-z0-9_.-]+)`).FindAllStringSubmatch(string(data), -1)
	if len(refs) == 0 {
		t.Fatal("example config reads no secret from /run/secrets")
	}
	for _, m := range refs {
		if !slices.Contains(svc.Secrets, m[1]) {
			t.Errorf("config reads /run/secrets/%s, which compose.yaml does not provide", m[1])
		}
	}
}

// orDefault returns the default of a compose "${VAR:-default}" value, or
// the value itself.
func orDefault(v string) string {
	if inner, ok := strings.CutPrefix(v, "${"); ok {
		if _, def, ok := strings.Cut(strings.TrimSuffix(inner, "}"), ":-"); ok {
			return def
		}
	}
	return v
}
