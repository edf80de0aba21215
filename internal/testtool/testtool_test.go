package testtool

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRequire(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "second-name")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv("CI", "")
	if got := Require(t, "pkg", "first-name", "second-name"); got != tool {
		t.Errorf("Require = %q, want %q", got, tool)
	}
	skipped := false
	t.Run("missing", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Require(t, "pkg", "no-such-tool")
		t.Error("Require returned for a missing tool")
	})
	if !skipped {
		t.Error("a missing tool did not skip the test outside CI")
	}
}
