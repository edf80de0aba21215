// Package deploy_test checks the release build the packaging relies on: a
// static binary the distroless image can run, stamped with its version, and
// byte-for-byte reproducible from the same commit.
package deploy_test

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

const versionPkg = "github.com/mcpdrift/mcpdrift/internal/version"

// repoRoot is the module root, one level up from deploy/.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", root, err)
	}
	return root
}

func command(t *testing.T, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return out
}

// TestStaticBuild builds the binary the way the Dockerfiles do (no cgo, no
// paths, version stamped) and checks that it needs no dynamic loader, so it
// runs on distroless/static, and that the stamp reaches `version`.
func TestStaticBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks a Linux ELF binary")
	}
	bin := filepath.Join(t.TempDir(), "mcpdrift")
	ldflags := "-s -w -X " + versionPkg + ".Version=v9.8.7-test -X " + versionPkg + ".Commit=0123abc -X " + versionPkg + ".Date=2026-01-02T03:04:05Z"
	command(t, repoRoot(t), []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", bin, "./cmd/mcpdrift")

	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary has an ELF interpreter: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("binary imports shared libraries %v (%v)", libs, err)
	}

	var info struct{ Version, Commit, Date, Go string }
	out := command(t, t.TempDir(), nil, bin, "version", "--json")
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
	if info.Version != "v9.8.7-test" || info.Commit != "0123abc" || info.Date != "2026-01-02T03:04:05Z" || info.Go == "" {
		t.Errorf("version stamp %+v, want the -ldflags values", info)
	}
	if bytes.Contains(mustRead(t, bin), []byte(repoRoot(t))) {
		t.Error("binary contains the build directory: -trimpath did not apply")
	}
}

// TestReproducibleBuild runs `make build` twice, the second time with an
// empty build cache so everything is compiled afresh, and compares the two
// binaries. The Makefile stamps the commit date, not the build time.
func TestReproducibleBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles everything twice")
	}
	for _, tool := range []string{"make", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	root := repoRoot(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	command(t, root, nil, "make", "-s", "build", "BIN="+a)
	command(t, root, []string{"GOCACHE=" + filepath.Join(dir, "gocache")}, "make", "-s", "build", "BIN="+b)
	ha, hb := sha256File(t, a), sha256File(t, b)
	if ha != hb {
		t.Errorf("make build is not reproducible: sha256 %s then %s (a source file changing between the two builds also does this)", ha, hb)
	}
	t.Logf("sha256 %s", ha)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	sum := sha256.Sum256(mustRead(t, path))
	return hex.EncodeToString(sum[:])
}

// TestEveryBuildIsStamped builds with the flags scripts/stamp.sh gives
// (the demo's build) and checks that the binary reports this checkout's
// version and commit, not "dev (commit unknown)"; and that every other
// build path (the Makefile, the image builds, compose, the CI recipes)
// stamps too.
func TestEveryBuildIsStamped(t *testing.T) {
	root := repoRoot(t)
	read := func(rel string) string { return string(mustRead(t, filepath.Join(root, rel))) }
	paths := []struct {
		file string
		want []string
	}{
		{"Makefile", []string{"-X $(PKG).Version=$(VERSION) -X $(PKG).Commit=$(COMMIT) -X $(PKG).Date=$(DATE)", `-ldflags "$(LDFLAGS)"`}},
		{"scripts/demo.sh", []string{`go build -trimpath -ldflags "$(scripts/stamp.sh ldflags)"`, "./bin/mcpdrift version"}},
		{"deploy/docker/Dockerfile", []string{"docker build -f deploy/docker/Dockerfile $(scripts/stamp.sh build-args)"}},
		{"deploy/docker/Dockerfile.node", []string{"docker build -f deploy/docker/Dockerfile.node $(scripts/stamp.sh build-args)"}},
		{"deploy/docker/compose.yaml", []string{"scripts/stamp.sh > .env", "VERSION: ${MCPDRIFT_VERSION", "COMMIT: ${MCPDRIFT_COMMIT", "DATE: ${MCPDRIFT_DATE"}},
		{"deploy/ci/check.sh", []string{`go install "github.com/mcpdrift/mcpdrift/cmd/mcpdrift@${MCPDRIFT_VERSION}"`, `make -s -C "$MCPDRIFT_SOURCE" build`}},
		{"deploy/ci/github-actions.yml", []string{`go install "github.com/mcpdrift/mcpdrift/cmd/mcpdrift@${MCPDRIFT_VERSION}"`, "mcpdrift version"}},
	}
	for _, p := range paths {
		text := read(p.file)
		for _, w := range p.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not stamp the version: lacks %q", p.file, w)
			}
		}
	}
	// There are no release tags: nothing may tell people to install one.
	release := regexp.MustCompile(`(mcpdrift/cmd/mcpdrift@|MCPDRIFT_VERSION[=:] ?)v[0-9]+\.[0-9]+\.[0-9]+`)
	for _, f := range []string{"deploy/ci/check.sh", "deploy/ci/github-actions.yml", "docs/ci.md", "README.md", "docs/deploy.md"} {
		if m := release.FindString(read(f)); m != "" {
			t.Errorf("%s installs a release that does not exist: %s", f, m)
		}
	}

	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
		t.Skip("not a git checkout")
	}
	ldflags := strings.TrimSpace(string(command(t, root, nil, "scripts/stamp.sh", "ldflags")))
	bin := filepath.Join(t.TempDir(), "mcpdrift")
	command(t, root, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/mcpdrift")
	var info struct{ Version, Commit, Date string }
	if err := json.Unmarshal(command(t, t.TempDir(), nil, bin, "version", "--json"), &info); err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(string(command(t, root, nil, "git", "rev-parse", "HEAD")))
	describe := strings.TrimSpace(string(command(t, root, nil, "git", "describe", "--tags", "--always", "--dirty")))
	if info.Commit != head || info.Version != describe || info.Date == "unknown" || info.Date == "" {
		t.Errorf("stamp %+v, want version %s, commit %s and the commit date", info, describe, head)
	}
	// The build arguments the image builds pass are the Dockerfiles' ARGs.
	args := string(command(t, root, nil, "scripts/stamp.sh", "build-args"))
	for _, arg := range []string{"VERSION=" + describe, "COMMIT=" + head, "DATE="} {
		if !strings.Contains(args, "--build-arg "+arg) {
			t.Errorf("scripts/stamp.sh build-args %q lacks --build-arg %s", args, arg)
		}
	}
	if env := string(command(t, root, nil, "scripts/stamp.sh")); !strings.Contains(env, "MCPDRIFT_COMMIT="+head+"\n") {
		t.Errorf("scripts/stamp.sh env: %q", env)
	}
}
