// Package npmtest is a real npm registry on loopback for tests that run
// the real npm and npx against it, offline: it serves the packument and
// tarball of each package a test publishes, and can hold tarball
// downloads back to make an install slow. Packages are stdio MCP servers
// for node (Server), dependency-free.
//
// It is imported by tests only.
package npmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Server is an MCP server for node, enough of JSON-RPC over stdio to be
// listed: one read-only tool; serverInfo carries the package version.
const Server = `#!/usr/bin/env node
const pkg = require("./package.json");
const rl = require("readline").createInterface({ input: process.stdin });
const send = (m) => process.stdout.write(JSON.stringify(m) + "\n");
rl.on("line", (line) => {
  let m;
  try { m = JSON.parse(line); } catch { return; }
  if (m.id === undefined) return;
  if (m.method === "initialize") {
    send({ jsonrpc: "2.0", id: m.id, result: { protocolVersion: m.params.protocolVersion,
      capabilities: { tools: {} }, serverInfo: { name: pkg.name, version: pkg.version } } });
  } else if (m.method === "tools/list") {
    send({ jsonrpc: "2.0", id: m.id, result: { tools: [{ name: "hello", description: "Say hello.",
      inputSchema: { type: "object" }, annotations: { readOnlyHint: true } }] } });
  } else {
    send({ jsonrpc: "2.0", id: m.id, error: { code: -32601, message: "method not found" } });
  }
});
`

// Require skips t when node, npm or npx is missing.
func Require(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"node", "npm", "npx"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: %v", bin, err)
		}
	}
}

// Registry is an npm registry on loopback.
type Registry struct {
	URL string

	mu       sync.Mutex
	docs     map[string]map[string]any // name -> packument
	tarballs map[string][]byte         // path -> .tgz
	hold     chan struct{}             // closed: tarballs flow
	fetched  chan string               // tarball paths requested
}

// NewRegistry starts a registry, stopped at the end of the test.
func NewRegistry(t testing.TB) *Registry {
	t.Helper()
	r := &Registry{docs: map[string]map[string]any{}, tarballs: map[string][]byte{},
		hold: make(chan struct{}), fetched: make(chan string, 64)}
	close(r.hold)
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		r.Release()
		srv.Close()
	})
	r.URL = srv.URL + "/"
	return r
}

// Hold makes tarball downloads wait until Release (or the end of the
// test): an install that cannot finish.
func (r *Registry) Hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.hold:
		r.hold = make(chan struct{})
	default:
	}
}

// Release lets held and later downloads through.
func (r *Registry) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-r.hold:
	default:
		close(r.hold)
	}
}

// Fetched receives the path of every tarball requested.
func (r *Registry) Fetched() <-chan string { return r.fetched }

// Publish adds version of the package name, made of Server as its bin
// name and package.json, and makes it the latest.
func (r *Registry) Publish(t testing.TB, name, version string) {
	t.Helper()
	pj, err := json.Marshal(map[string]any{"name": name, "version": version, "bin": map[string]string{name: "server.js"}})
	if err != nil {
		t.Fatal(err)
	}
	tgz := tarball(t, map[string][]byte{"package/package.json": pj, "package/server.js": []byte(Server)})
	sum := sha512.Sum512(tgz)
	base := name[strings.LastIndex(name, "/")+1:]
	path := "/" + name + "/-/" + base + "-" + version + ".tgz"

	r.mu.Lock()
	defer r.mu.Unlock()
	r.tarballs[path] = tgz
	doc, ok := r.docs[name]
	if !ok {
		doc = map[string]any{"name": name, "versions": map[string]any{}}
		r.docs[name] = doc
	}
	doc["dist-tags"] = map[string]string{"latest": version}
	doc["versions"].(map[string]any)[version] = map[string]any{
		"name": name, "version": version, "bin": map[string]string{name: "server.js"},
		"dist": map[string]string{
			"tarball":   strings.TrimSuffix(r.URL, "/") + path,
			"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sum[:]),
		},
	}
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	path := strings.ReplaceAll(req.URL.EscapedPath(), "%2f", "/")
	path = strings.ReplaceAll(path, "%2F", "/")
	r.mu.Lock()
	tgz, isTarball := r.tarballs[path]
	doc, isDoc := r.docs[strings.TrimPrefix(path, "/")]
	hold := r.hold
	var body []byte
	if isDoc {
		body, _ = json.Marshal(doc)
	}
	r.mu.Unlock()
	switch {
	case isTarball:
		select {
		case r.fetched <- path:
		default:
		}
		select {
		case <-hold:
		case <-req.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(tgz)
	case isDoc:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	default:
		http.NotFound(w, req)
	}
}

// tarball packs files into a gzipped tar, as npm pack does.
func tarball(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"package/package.json", "package/server.js"} {
		b, ok := files[name]
		if !ok {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Env is the npm configuration a server launched through npx needs to
// use r and nothing else: its registry, no update check, audit or fund
// requests, and no user config outside home.
func (r *Registry) Env(home string) map[string]string {
	return map[string]string{
		"npm_config_registry":        r.URL,
		"npm_config_update_notifier": "false",
		"npm_config_audit":           "false",
		"npm_config_fund":            "false",
		"npm_config_userconfig":      home + "/.npmrc",
	}
}

// String names the registry.
func (r *Registry) String() string { return fmt.Sprintf("npm registry at %s", r.URL) }
