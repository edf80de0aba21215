package probe_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/npmtest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/sandbox"
)

// npxTarget is a server launched with `npx -y spec` from reg, with its
// own HOME (so its own npm cache), as target.For builds it.
func npxTarget(t *testing.T, reg *npmtest.Registry, spec string, timeout time.Duration) probe.Target {
	home := filepath.Join(t.TempDir(), "home")
	return probe.Target{
		Name: "fixture", Command: "npx", Args: []string{"-y", spec},
		Env:     reg.Env(home),
		Sandbox: sandbox.Policy{Mode: sandbox.Auto, Home: home},
		Timeout: timeout,
	}
}

// TestBrokenNpxCache breaks the npx cache entry of a server the way an
// interrupted install leaves it (node_modules, no package.json), runs the
// real npx against it, and expects the error to name the entry and the
// fix; prepare then repairs it.
func TestBrokenNpxCache(t *testing.T) {
	npmtest.Require(t)
	reg := npmtest.NewRegistry(t)
	reg.Publish(t, "mcpdrift-fixture", "1.0.0")
	tg := npxTarget(t, reg, "mcpdrift-fixture@1.0.0", time.Minute)
	ctx := context.Background()

	if _, err := probe.Probe(ctx, tg); err != nil {
		t.Fatalf("first probe: %v", err)
	}
	entries, err := filepath.Glob(filepath.Join(tg.Sandbox.Home, ".npm", "_npx", "*"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("npx cache entries: %v %v", entries, err)
	}
	entry := entries[0]
	for _, f := range []string{"package.json", "package-lock.json"} {
		if err := os.Remove(filepath.Join(entry, f)); err != nil {
			t.Fatal(err)
		}
	}

	_, err = probe.Probe(ctx, tg)
	if err == nil {
		t.Fatal("a probe over the broken npx cache entry succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"npx cache entry " + entry + " is broken", "node_modules without package.json",
		"delete that directory, or run `mcpdrift prepare fixture`", "ENOENT"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if !errors.Is(err, probe.ErrLauncherCache) || !errors.Is(err, probe.ErrProcessExited) {
		t.Errorf("error matches neither ErrLauncherCache nor ErrProcessExited: %v", err)
	}

	var out bytes.Buffer
	res, err := probe.Install(ctx, tg, probe.InstallOptions{Out: &out, UID: os.Getuid()})
	if err != nil {
		t.Fatalf("install: %v\n%s", err, out.String())
	}
	if res.Repaired != entry || res.Home != tg.Sandbox.Home || res.Launcher != "npx" {
		t.Errorf("install result %+v, want the entry %s repaired in HOME %s", res, entry, tg.Sandbox.Home)
	}
	if !strings.Contains(out.String(), "removed the broken npx cache entry "+entry) {
		t.Errorf("install output does not say what it removed:\n%s", out.String())
	}
	r, err := probe.Probe(ctx, tg)
	if err != nil {
		t.Fatalf("probe after prepare: %v", err)
	}
	if p := r.Capture.Identity.Package; p == nil || p.Version != "1.0.0" {
		t.Errorf("package identity after prepare: %+v", p)
	}
}

// TestNpxInstallAtTheDeadline holds the package download back so that
// npx is still installing at the deadline: the error says so and names
// the fix, instead of a bare timeout; prepare, with no deadline, then
// completes the install and repairs what the killed install left.
func TestNpxInstallAtTheDeadline(t *testing.T) {
	npmtest.Require(t)
	reg := npmtest.NewRegistry(t)
	reg.Publish(t, "mcpdrift-fixture", "1.0.0")
	reg.Hold()
	tg := npxTarget(t, reg, "mcpdrift-fixture@1.0.0", 6*time.Second)
	ctx := context.Background()

	_, err := probe.Probe(ctx, tg)
	if err == nil {
		t.Fatal("the probe succeeded without the package")
	}
	if !errors.Is(err, probe.ErrTimeout) || !errors.Is(err, probe.ErrLauncherCache) {
		t.Fatalf("want a timeout explained as an unfinished install, got %v", err)
	}
	for _, want := range []string{"npx", "installing", "`mcpdrift prepare fixture`", "first_run_timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}

	for len(reg.Fetched()) > 0 {
		<-reg.Fetched() // the killed install's request
	}
	done := make(chan error, 1)
	var out bytes.Buffer
	var res *probe.Prepared
	go func() {
		var err error
		res, err = probe.Install(ctx, tg, probe.InstallOptions{Out: &out, UID: os.Getuid()})
		done <- err
	}()
	awaitDownload(t, reg, done)
	reg.Release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("install: %v\n%s", err, out.String())
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("install did not finish")
	}
	if res.Repaired == "" || !strings.Contains(out.String(), "removed the broken npx cache entry") {
		t.Errorf("the entry the killed install left was not repaired: %+v\n%s", res, out.String())
	}
	tg.Timeout = time.Minute
	if _, err := probe.Probe(ctx, tg); err != nil {
		t.Fatalf("probe after prepare: %v", err)
	}
}

// TestInstallInterrupted: prepare has no deadline of its own, but its
// context ends it, and the whole install with it.
func TestInstallInterrupted(t *testing.T) {
	npmtest.Require(t)
	reg := npmtest.NewRegistry(t)
	reg.Publish(t, "mcpdrift-fixture", "1.0.0")
	reg.Hold()
	tg := npxTarget(t, reg, "mcpdrift-fixture@1.0.0", 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := probe.Install(ctx, tg, probe.InstallOptions{UID: os.Getuid()})
		done <- err
	}()
	awaitDownload(t, reg, done)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "install interrupted") {
			t.Errorf("error %v, want the install interrupted", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("install outlived its context")
	}
}

// awaitDownload waits until an install asks reg for the package; an
// install that ends first, or a minute without a request, fails t.
func awaitDownload(t *testing.T, reg *npmtest.Registry, done <-chan error) {
	t.Helper()
	select {
	case <-reg.Fetched():
	case err := <-done:
		t.Fatalf("install ended before downloading the package: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("install did not request the package within a minute")
	}
}
