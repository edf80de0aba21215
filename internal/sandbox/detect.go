package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// detectTimeout bounds the trial run of bwrap.
const detectTimeout = 10 * time.Second

// fixHint is what an operator does about a sandbox that cannot run.
const fixHint = "install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) and allow unprivileged user namespaces; " +
	"under systemd, containers and Kubernetes see docs/deploy.md, \"Sandboxing stdio servers\""

// What the kernel allows does not change while mcpdrift runs, so each
// bwrap is tried once per process, and the fallback is announced once.
var (
	detections sync.Map // bwrap name -> *detection
	warnings   sync.Map // bwrap name -> *sync.Once
)

type detection struct {
	once sync.Once
	path string
	err  error
}

// Available returns the path of a bwrap (name, or "bwrap" when empty) that
// can create the sandbox here, trying it once per process, or an
// ErrUnavailable error that says why not and what to do.
func Available(name string) (string, error) {
	if name == "" {
		name = "bwrap"
	}
	v, _ := detections.LoadOrStore(name, &detection{})
	d := v.(*detection)
	d.once.Do(func() { d.path, d.err = detect(name) })
	return d.path, d.err
}

func detect(name string) (string, error) {
	if err := supported(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %s not found (%w); %s", ErrUnavailable, name, err, fixHint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), detectTimeout)
	defer cancel()
	// The same namespaces and mounts as a real launch, running bwrap
	// itself inside.
	args := append(bwrapArgs(mounts{}, "/"), "--", path, "--version")
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = []string{"PATH=" + DefaultPath}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		switch {
		case ctx.Err() != nil:
			// A seccomp filter that refuses mount or capset can leave bwrap
			// waiting for its child rather than failing.
			msg = fmt.Sprintf("it did not finish within %s", detectTimeout)
		case msg == "":
			msg = err.Error()
		}
		return "", fmt.Errorf("%w: %s cannot create its namespaces here (%s); %s", ErrUnavailable, path, msg, fixHint)
	}
	return path, nil
}

// warnUnsandboxed says, once per process and bwrap, that servers in auto
// mode run without the sandbox, why, and how to fix it.
func warnUnsandboxed(log *slog.Logger, name string, why error) {
	v, _ := warnings.LoadOrStore(name, &sync.Once{})
	v.(*sync.Once).Do(func() {
		log.Warn("stdio servers with sandbox: auto run WITHOUT a sandbox: they can read what mcpdrift can read and leave processes behind; set sandbox: strict to refuse instead, or sandbox: off to accept it",
			"reason", why.Error())
	})
}
