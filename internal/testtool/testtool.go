// Package testtool finds the external programs some tests run against
// (a real Alertmanager, promtool). A missing program skips the test on a
// developer's machine and fails it in CI (CI=true), which installs them,
// so a CI run can never pass by skipping.
//
// It is imported by tests only.
package testtool

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Require returns the path of the first of names found on PATH. Without
// one, it skips t, or fails it when CI is "true"; the message names the
// Debian package that provides it.
func Require(t testing.TB, debianPackage string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := strings.Join(names, " or ") + " is not installed (apt-get install " + debianPackage + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI installs it (.ci/run)")
	}
	t.Skip(msg)
	return ""
}
