package mcptest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LeakyStdio returns a stdio "server" that prints the values of the
// environment variables named in vars to its standard error, as is and
// base64-encoded, then text, and exits with status 7 before speaking MCP:
// a server that leaks the secrets it was configured with into the error
// a probe reports. Set the variables' values in the returned Child's Env
// (or give them through env_files in ConfigEntry's extra).
//
// It is a shell script run by /bin/sh, never executed directly, so that
// writing it cannot race a concurrent fork (ETXTBSY).
func LeakyStdio(t testing.TB, text string, vars ...string) *Child {
	t.Helper()
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, v := range vars {
		fmt.Fprintf(&b, "echo \"fatal: upstream rejected %s=$%s\" >&2\n", v, v)
		fmt.Fprintf(&b, "printf '%%s' \"$%s\" | base64 >&2\n", v)
	}
	if text != "" {
		fmt.Fprintf(&b, "echo '%s' >&2\n", strings.ReplaceAll(text, "'", `'\''`))
	}
	b.WriteString("exit 7\n")
	script := filepath.Join(t.TempDir(), "leaky-server.sh")
	if err := os.WriteFile(script, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("mcptest: %v", err)
	}
	return &Child{Command: "/bin/sh", Args: []string{script}, Env: map[string]string{}}
}

// EchoCredentials serves, on 127.0.0.1, an MCP endpoint that answers
// every request with a JSON-RPC error whose message quotes the request's
// Authorization and X-Api-Key headers and its query string: a server that
// echoes the credentials it was sent into the error a probe reports. It
// returns the endpoint's URL.
func EchoCredentials(t testing.TB) string {
	t.Helper()
	return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req)
		if len(req.ID) == 0 {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		msg := fmt.Sprintf("invalid credentials: authorization=%s x-api-key=%s query=%s",
			r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), r.URL.RawQuery)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"jsonrpc": "2.0", "id": req.ID,
			"error": map[string]any{"code": -32001, "message": msg},
		})
	})) + "/mcp"
}

// Leak is a fleet of servers that leak every kind of secret a
// configuration holds, for tests that check where it ends up: a stdio
// server ("leaky") that prints its env value API_KEY, its env_files value
// FILE_KEY, another server's token and a notifier's secret to stderr and
// exits; an HTTP server ("echo") that echoes its Authorization header and
// api_key query value in a JSON-RPC error; and a disabled server
// ("other") whose env holds the token leaky prints.
type Leak struct {
	// Servers are the three entries of a config's servers list.
	Servers string
	// NotifierSecret is what the caller must configure as a notifier's
	// secret (leaky prints it).
	NotifierSecret string
	// Canaries are every secret value of the fleet.
	Canaries []string
}

// LeakyFleet returns the fleet, its files in a temporary directory.
func LeakyFleet(t testing.TB) *Leak {
	t.Helper()
	const (
		env      = "canary-env-7c1f93d2"
		envFile  = "canary-envfile-42d8e1"
		other    = "canary-other-9b2a77f0"
		notifier = "canary-notifier-3f6e5c"
		header   = "canary-header-5e3d10aa"
		query    = "canary-query-81f4c2bb"
	)
	keyFile := filepath.Join(t.TempDir(), "file-key")
	if err := os.WriteFile(keyFile, []byte(envFile+"\n"), 0o600); err != nil {
		t.Fatalf("mcptest: %v", err)
	}
	leaky := LeakyStdio(t, "found "+other+" and "+notifier, "API_KEY", "FILE_KEY")
	leaky.Env["API_KEY"] = env
	return &Leak{
		Servers: leaky.ConfigEntry("leaky", "    env_files: {FILE_KEY: "+keyFile+"}\n") +
			fmt.Sprintf("  - {name: echo, url: %q, headers: {Authorization: %q}}\n",
				EchoCredentials(t)+"?api_key="+query, "Bearer "+header) +
			fmt.Sprintf("  - {name: other, command: /nonexistent, env: {TOKEN: %s}, disabled: true}\n", other),
		NotifierSecret: notifier,
		Canaries:       []string{env, envFile, other, notifier, header, query},
	}
}

// Check fails t if text holds any canary, as is or base64-encoded.
func (l *Leak) Check(t testing.TB, where, text string) {
	t.Helper()
	for _, c := range l.Canaries {
		for _, form := range []string{c, strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(c)), "=")} {
			if strings.Contains(text, form) {
				t.Errorf("%s holds the secret %q:\n%s", where, form, text)
			}
		}
	}
}
