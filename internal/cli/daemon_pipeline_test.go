package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckAsAndInventoryThroughTheDaemon: with a daemon holding the
// database, check --as is one request to it (the daemon probes the other
// identities under its own limits, from the snapshot it just stored) and
// reports the divergence as the local path does; inventory is one request
// too and lists the snapshot's tools.
func TestCheckAsAndInventoryThroughTheDaemon(t *testing.T) {
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "admin.sock")
	cfg := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, cfg, fmt.Sprintf("storage: {path: %s}\nadmin: {socket: %s}\nhttp: {listen: \"\"}\ndefaults: {timeout: 5s}\nservers:\n  - name: faces\n    url: %s\n",
		filepath.Join(dir, "db"), sock, twoFacedServer(t)))
	env := map[string]string{"MCPDRIFT_CONFIG": cfg}
	startDaemon(t, env, sock)

	r := run(t, env, "--log-level", "info", "check", "--as", "claude-code/1.0", "--format", "json")
	if !strings.Contains(r.stderr, "using the daemon that holds the database") {
		t.Fatalf("check did not go through the daemon:\n%s", r.stderr)
	}
	rep := reportOf(t, r)
	if r.code != 1 || len(rep.Servers) != 1 {
		t.Fatalf("exit %d, want 1: %+v", r.code, r)
	}
	var div []string
	for _, c := range rep.Servers[0].Changes {
		if c.Kind == "client.divergence" {
			div = append(div, c.Name+": "+c.Summary)
		}
	}
	if len(div) != 1 || !strings.HasPrefix(div[0], "admin_export: claude-code/1.0 sees a different manifest than configured") {
		t.Fatalf("divergences %q, want admin_export seen by claude-code/1.0", div)
	}
	if r := run(t, env, "check", "--as", "claude-code"); r.code != ExitUsage || !strings.Contains(r.stderr, "--as") {
		t.Fatalf("a bad --as through the daemon: %+v", r)
	}

	r = run(t, env, "--log-level", "info", "inventory", "--format", "json")
	if r.code != 0 || !strings.Contains(r.stderr, "using the daemon that holds the database") {
		t.Fatalf("inventory through the daemon: %+v", r)
	}
	var inv struct {
		Servers []struct {
			Server string `json:"server"`
			Tools  []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"servers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &inv); err != nil {
		t.Fatal(err)
	}
	if len(inv.Servers) != 1 || inv.Servers[0].Server != "faces" || len(inv.Servers[0].Tools) == 0 {
		t.Fatalf("inventory %+v, want the tools of faces", inv)
	}
}
