package probe_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/syncbuf"
)

// TestServerOutputIsRedacted probes servers that print or echo the secrets
// they were configured with: a stdio server that writes its env to stderr
// and exits, and an HTTP server that quotes the credentials it was sent in
// its 401 body. No error text (at any depth) and no log line holds a
// secret, in any form; the error names the key that held it.
func TestServerOutputIsRedacted(t *testing.T) {
	t.Parallel()
	const (
		envKey    = "canary-env-7c1f93d2"
		headerKey = "canary-hdr-5e3d10aa"
		queryKey  = "canary-qry-81f4c2bb"
	)
	leaky := mcptest.LeakyStdio(t, "", "API_KEY")
	echo := mcptest.EchoCredentials(t)
	tests := []struct {
		name     string
		target   probe.Target
		canaries []string
		want     []string // placeholders the error shows
	}{
		{"stdio stderr",
			probe.Target{Command: leaky.Command, Args: leaky.Args, Env: map[string]string{"API_KEY": envKey}},
			[]string{envKey}, []string{"[REDACTED:env.API_KEY]"}},
		{"http error body",
			probe.Target{URL: echo + "?api_key=" + queryKey, Headers: map[string]string{"Authorization": "Bearer " + headerKey}},
			[]string{headerKey, queryKey}, []string{"[REDACTED:headers.Authorization]", "[REDACTED:url.query"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs syncbuf.Buffer
			tc.target.Name = "leaky"
			tc.target.Logger = debugLogger(&logs)
			tc.target.Timeout = testTimeout
			_, err := probe.Probe(context.Background(), tc.target)
			if err == nil {
				t.Fatal("probe succeeded")
			}
			texts := []string{logs.String()}
			for e := err; e != nil; e = errors.Unwrap(e) {
				texts = append(texts, e.Error())
			}
			for _, c := range tc.canaries {
				for _, form := range []string{c, base64.StdEncoding.EncodeToString([]byte(c))} {
					for _, s := range texts {
						if strings.Contains(s, form) {
							t.Errorf("%q leaked into %q", form, s)
						}
					}
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not show %s, so the server's output never reached it: %v", w, err)
				}
			}
			t.Logf("error: %v", err)
		})
	}
}

// TestStderrTailRedactedBeforeCut: a secret split by a terminal escape
// sequence, or by where the stderr excerpt starts, is redacted whole: no
// part of it shows in the error.
func TestStderrTailRedactedBeforeCut(t *testing.T) {
	t.Parallel()
	const key = "canary-cut-0f9e8d7c6b" // 21 bytes
	scripts := map[string]string{
		// The excerpt is the last 2 KiB: the key starts 10 bytes before it.
		"split by the cut":   `printf '%s' "$API_KEY" >&2; head -c 2037 /dev/zero | tr '\0' x >&2; echo >&2; exit 7`,
		"split by an escape": `printf 'fatal: %s\033[0m%s\n' "$(printf '%s' "$API_KEY" | cut -c1-11)" "$(printf '%s' "$API_KEY" | cut -c12-)" >&2; exit 7`,
	}
	for name, script := range scripts {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "server.sh")
			if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := probe.Probe(context.Background(), probe.Target{Name: "leaky", Command: "/bin/sh", Args: []string{path},
				Env: map[string]string{"API_KEY": key}, Timeout: testTimeout})
			var pe *probe.Error
			if !errors.As(err, &pe) || pe.Stderr == "" {
				t.Fatalf("err = %v, want a probe error with a stderr excerpt", err)
			}
			for _, part := range []string{key[:11], key[11:], key[len(key)-10:]} {
				if strings.Contains(pe.Stderr, part) {
					t.Errorf("stderr excerpt %q shows %q of the secret", pe.Stderr, part)
				}
			}
		})
	}
}
