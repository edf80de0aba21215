package engine_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/npmtest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/store"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"mcpdrift test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// leaf issues a certificate for 127.0.0.1 with a fresh key.
func (ca *testCA) leaf(t *testing.T, serial int64) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "mcp.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"mcp.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serveTLS serves h over TLS on 127.0.0.1 with whatever certificate cur
// holds at each handshake, and returns the base URL.
func serveTLS(t *testing.T, h http.Handler, cur *atomic.Pointer[tls.Certificate]) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := tls.NewListener(ln, &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cur.Load(), nil },
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(tl) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + ln.Addr().String()
}

func mcpHandler(s *mcptest.Server) http.Handler {
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.SDK }, nil)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// identityRig checks one configured server again and again with one
// engine and database.
type identityRig struct {
	t   *testing.T
	eng *engine.Engine
	db  *store.DB
	srv *config.Server
}

func newRig(t *testing.T, yaml string) *identityRig {
	t.Helper()
	db := openDB(t)
	return &identityRig{t: t, eng: engine.New(db, slog.New(slog.DiscardHandler)), db: db, srv: parse(t, yaml)[0]}
}

func (r *identityRig) check() report.Server {
	r.t.Helper()
	// A backstop only: the server's own timeout bounds the probe.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rs := r.eng.CheckServer(ctx, r.srv)
	if rs.Status == report.StatusError {
		r.t.Fatalf("check failed: %s", rs.Error)
	}
	return rs
}

func (r *identityRig) approve() {
	r.t.Helper()
	if _, err := r.eng.Approve(approval.Request{Server: r.srv.Name, Approver: "test"}); err != nil {
		r.t.Fatalf("approve: %v", err)
	}
}

// identity returns the identity recorded in the latest snapshot.
func (r *identityRig) identity() *manifest.Identity {
	r.t.Helper()
	o, err := r.db.LatestSnapshot(r.srv.Name)
	if err != nil {
		r.t.Fatal(err)
	}
	doc, err := r.db.Manifest(o.SnapshotID)
	if err != nil {
		r.t.Fatal(err)
	}
	m, err := manifest.Parse(doc)
	if err != nil {
		r.t.Fatal(err)
	}
	id, err := manifest.DecodeIdentity(m.Identity)
	if err != nil || id == nil {
		r.t.Fatalf("no identity in %s: %v", doc, err)
	}
	return id
}

// only asserts that a report holds exactly one change of kind, at sev.
func only(t *testing.T, rs report.Server, kind string, sev severity.Level, summary string) {
	t.Helper()
	var got []string
	for _, c := range rs.Changes {
		got = append(got, fmt.Sprintf("%s %s %q", c.Severity, c.Kind, c.Summary))
	}
	if len(rs.Changes) != 1 || rs.Changes[0].Kind != kind || rs.Changes[0].Severity != sev || !strings.Contains(rs.Changes[0].Summary, summary) {
		t.Fatalf("want exactly one %s %s change mentioning %q, got %v", sev, kind, summary, got)
	}
}

func tools() []*mcp.Tool {
	return []*mcp.Tool{{Name: "search", Description: "Search.", InputSchema: map[string]any{"type": "object"}}}
}

// TestTLSIdentity rotates a server's certificate: a renewal by the same CA
// with a new key is info, a certificate from another CA is high.
func TestTLSIdentity(t *testing.T) {
	caA, caB := newCA(t, "Test CA A"), newCA(t, "Test CA B")
	var cur atomic.Pointer[tls.Certificate]
	cur.Store(caA.leaf(t, 10))
	base := serveTLS(t, mcpHandler(mcptest.NewServer(mcptest.Config{Name: "tls", Tools: tools()})), &cur)
	roots := writeFile(t, "roots.pem", append(append([]byte{}, caA.pem...), caB.pem...))
	r := newRig(t, fmt.Sprintf("servers:\n  - {name: s, url: %s/mcp, timeout: 10s, tls: {ca_file: %s}}\n", base, roots))

	if rs := r.check(); rs.Status != report.StatusBaselined {
		t.Fatalf("first check: %+v", rs)
	}
	first := r.identity()
	if first.TLS == nil || !strings.Contains(first.TLS.Issuer, "Test CA A") || !strings.HasPrefix(first.TLS.SPKI, "sha256:") ||
		first.TLS.KeyType != "ECDSA P-256" || first.URL != base+"/mcp" {
		t.Fatalf("identity: %+v %+v", first, first.TLS)
	}

	cur.Store(caA.leaf(t, 11))
	only(t, r.check(), "identity.tls", severity.Info, "renewed by the same issuer")
	if r.identity().TLS.SPKI == first.TLS.SPKI {
		t.Fatal("a new key kept the same SPKI fingerprint")
	}
	r.approve()

	cur.Store(caB.leaf(t, 12))
	only(t, r.check(), "identity.tls", severity.High, "new issuer")
}

// TestRedirectToAnotherHost: a server that starts redirecting to another
// host (127.0.0.1 -> localhost on another port) is high.
func TestRedirectToAnotherHost(t *testing.T) {
	srv := mcptest.NewServer(mcptest.Config{Name: "r", Tools: tools()})
	other := httptest.NewServer(mcpHandler(srv))
	t.Cleanup(other.Close)
	_, port, _ := net.SplitHostPort(other.Listener.Addr().String())
	var redirect atomic.Bool
	direct := mcpHandler(srv)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if redirect.Load() {
			http.Redirect(w, req, "http://localhost:"+port+req.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		direct.ServeHTTP(w, req)
	}))
	t.Cleanup(front.Close)
	r := newRig(t, fmt.Sprintf("servers:\n  - {name: s, url: %s/mcp, timeout: 10s}\n", front.URL))

	if rs := r.check(); rs.Status != report.StatusBaselined {
		t.Fatalf("first check: %+v", rs)
	}
	redirect.Store(true)
	only(t, r.check(), "identity.url", severity.High, "moves to another host")
	if got := r.identity().URL; got != "http://localhost:"+port+"/mcp" {
		t.Errorf("final URL %q, want the redirect target", got)
	}
}

// requestLog records every request a test server receives.
type requestLog struct {
	mu   sync.Mutex
	reqs []string // "METHOD /path"
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Method+" "+r.URL.Path)
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs...)
}

// authServer is an OAuth authorization server that publishes RFC 8414
// metadata and records every request, the token endpoint included.
func authServer(t *testing.T, log *requestLog, scopes ...string) string {
	t.Helper()
	var url string
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": url, "authorization_endpoint": url + "/authorize", "token_endpoint": url + "/token",
			"registration_endpoint": url + "/register", "scopes_supported": scopes,
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusTeapot) })
	srv := httptest.NewServer(log.wrap(mux))
	t.Cleanup(srv.Close)
	url = srv.URL
	return url
}

// TestOAuthPermissionSurface serves RFC 9728 and RFC 8414 metadata and
// changes it: a scope added is high, an authorization server changed is
// critical, the metadata removed is medium. Only GETs of metadata are
// ever sent besides the MCP POSTs: never a token request.
func TestOAuthPermissionSurface(t *testing.T) {
	var mcpLog, asLog requestLog
	as1 := authServer(t, &asLog, "repo", "user")
	as2 := authServer(t, &asLog, "repo", "user")
	var prm atomic.Pointer[map[string]any]
	setPRM := func(v map[string]any) { prm.Store(&v) }

	mux := http.NewServeMux()
	mux.Handle("/mcp", mcpHandler(mcptest.NewServer(mcptest.Config{Name: "o", Tools: tools()})))
	var resource string
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		p := *prm.Load()
		if p == nil {
			http.NotFound(w, nil)
			return
		}
		p["resource"] = resource
		_ = json.NewEncoder(w).Encode(p)
	})
	srv := httptest.NewServer(mcpLog.wrap(mux))
	t.Cleanup(srv.Close)
	resource = srv.URL + "/mcp"
	setPRM(map[string]any{"authorization_servers": []string{as1}, "scopes_supported": []string{"repo:read"}})
	r := newRig(t, fmt.Sprintf("servers:\n  - {name: s, url: %s/mcp, timeout: 10s}\n", srv.URL))

	if rs := r.check(); rs.Status != report.StatusBaselined {
		t.Fatalf("first check: %+v", rs)
	}
	o := r.identity().OAuth
	if o == nil || o.Status != manifest.OAuthPresent || len(o.AuthorizationServers) != 1 ||
		o.AuthorizationServers[0].TokenEndpoint != as1+"/token" || o.AuthorizationServers[0].Error != "" {
		t.Fatalf("oauth identity: %+v", o)
	}

	steps := []struct {
		name    string
		prm     map[string]any
		kind    string
		sev     severity.Level
		summary string
	}{
		{"scope added", map[string]any{"authorization_servers": []string{as1}, "scopes_supported": []string{"repo:read", "repo:write"}},
			"oauth.scopes", severity.High, "adds scope `repo:write`"},
		{"authorization server changed", map[string]any{"authorization_servers": []string{as2}, "scopes_supported": []string{"repo:read", "repo:write"}},
			"oauth.authorization_servers", severity.Critical, "new authorization server " + as2},
		{"metadata removed", nil, "oauth.metadata", severity.Medium, "no longer publishes"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			setPRM(st.prm)
			rs := r.check()
			if st.kind == "oauth.authorization_servers" {
				// The same change also removes the old server (low), in
				// the same change: the change as a whole is critical.
				if !strings.Contains(rs.Changes[0].Summary, "removed") {
					t.Errorf("summary does not mention the removed server: %q", rs.Changes[0].Summary)
				}
			}
			only(t, rs, st.kind, st.sev, st.summary)
			r.approve()
		})
	}

	for _, req := range mcpLog.all() {
		if strings.HasPrefix(req, "POST ") && req != "POST /mcp" || strings.Contains(req, "token") {
			t.Errorf("MCP server got %s", req)
		}
	}
	asReqs := asLog.all()
	if len(asReqs) == 0 {
		t.Fatal("no authorization server metadata was fetched")
	}
	for _, req := range asReqs {
		if req != "GET /.well-known/oauth-authorization-server" {
			t.Errorf("authorization server got %s: only metadata GETs are allowed", req)
		}
	}
}

// TestTrustPolicyViolations: each rule of a trust policy is a critical
// policy.violation, reported again on a check whose snapshot is the
// approved baseline (nothing changed), and a first sight that violates
// the policy is not trusted on first use.
func TestTrustPolicyViolations(t *testing.T) {
	ca := newCA(t, "Trust CA")
	var cur atomic.Pointer[tls.Certificate]
	cur.Store(ca.leaf(t, 20))
	var asLog requestLog
	as := authServer(t, &asLog, "repo")
	mux := http.NewServeMux()
	readOnly := true
	mux.Handle("/mcp", mcpHandler(mcptest.NewServer(mcptest.Config{Name: "t", Tools: []*mcp.Tool{
		{Name: "get", Description: "Get.", InputSchema: map[string]any{"type": "object"}, Annotations: &mcp.ToolAnnotations{ReadOnlyHint: readOnly}},
		{Name: "drop", Description: "Drop.", InputSchema: map[string]any{"type": "object"}, Annotations: &mcp.ToolAnnotations{OpenWorldHint: new(bool)}},
	}})))
	var base string
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"resource": base + "/mcp", "authorization_servers": []string{as}, "scopes_supported": []string{"read", "write"}})
	})
	base = serveTLS(t, mux, &cur)
	roots := writeFile(t, "roots.pem", ca.pem)

	// Learn the SPKI to pin it in the compliant policy.
	probeRig := newRig(t, fmt.Sprintf("servers:\n  - {name: s, url: %s/mcp, timeout: 10s, tls: {ca_file: %s}}\n", base, roots))
	probeRig.check()
	id := probeRig.identity()
	host := strings.TrimPrefix(base, "https://")

	tests := []struct {
		name, trust, path string
	}{
		{"compliant", fmt.Sprintf("{hosts: [%q], tls_issuer: %q, tls_spki: [%q], authorization_servers: [%q], scopes: [read, write], max_risk: destructive}",
			host, id.TLS.Issuer, id.TLS.SPKI, as+"/"), ""},
		{"host", "{hosts: [mcp.example.com, \"*.127.0.0.1\"]}", "trust.hosts"},
		{"tls issuer", "{tls_issuer: \"CN=Someone Else\"}", "trust.tls_issuer"},
		{"tls spki", fmt.Sprintf("{tls_spki: [sha256:%s]}", strings.Repeat("0", 64)), "trust.tls_spki"},
		{"authorization server", "{authorization_servers: [https://auth.example.com]}", "trust.authorization_servers"},
		{"scopes", "{scopes: [read]}", "trust.scopes"},
		{"max risk", "{max_risk: read-only}", "trust.max_risk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, fmt.Sprintf("servers:\n  - {name: s, url: %s/mcp, timeout: 10s, tls: {ca_file: %s}, trust: %s}\n", base, roots, tt.trust))
			first := r.check()
			if tt.path == "" {
				if first.Status != report.StatusBaselined || len(first.Changes) != 0 {
					t.Fatalf("compliant server: %+v", first)
				}
				if rs := r.check(); rs.Status != report.StatusOK {
					t.Fatalf("compliant server, second check: %+v", rs)
				}
				return
			}
			if first.Status != report.StatusUnapproved || !strings.Contains(first.Note, "not trusted on first use") {
				t.Errorf("first sight violating the policy: status %s note %q", first.Status, first.Note)
			}
			r.approve()
			rs := r.check()
			if rs.Baseline == nil || rs.Baseline.ID != rs.Snapshot.ID {
				t.Fatalf("the snapshot should be the approved baseline: %+v", rs)
			}
			if rs.Status != report.StatusDrift || rs.Severity != severity.Critical || len(rs.Changes) == 0 {
				t.Fatalf("unchanged server violating %s: status %s severity %s changes %+v", tt.path, rs.Status, rs.Severity, rs.Changes)
			}
			for _, c := range rs.Changes {
				if c.Kind != "policy.violation" || c.Severity != severity.Critical || c.Path != tt.path || c.Entity != "server" {
					t.Errorf("change %s %s %s %s: %s", c.Severity, c.Kind, c.Entity, c.Path, c.Summary)
				}
			}
			// Pending (diff, status) reports it too, without a probe.
			if p := r.eng.Pending(r.srv); len(p.Changes) != len(rs.Changes) {
				t.Errorf("pending: %d changes, check: %d", len(p.Changes), len(rs.Changes))
			}
		})
	}
}

// packFixture packs the fixture server as version v into dir/fixture.tgz.
func packFixture(t *testing.T, dir, version string, env []string) {
	t.Helper()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	pj := fmt.Sprintf(`{"name":"mcpdrift-fixture","version":%q,"bin":{"mcp-fixture":"server.js"}}`, version)
	if err := os.WriteFile(filepath.Join(src, "package.json"), []byte(pj), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "server.js"), []byte(npmtest.Server), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "packed")
	cmd := exec.Command("npm", "pack", src, "--pack-destination", out)
	// npm reads ~/.npmrc and writes logs under HOME: give it a home of
	// the test's own and no user config, so the host's npm setup neither
	// changes the run nor is touched by it.
	home := filepath.Join(dir, "home")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"npm_config_userconfig=" + filepath.Join(home, ".npmrc")}, env...)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm pack: %v\n%s", err, b)
	}
	tgz, err := os.ReadFile(filepath.Join(out, "mcpdrift-fixture-"+version+".tgz"))
	if err != nil {
		t.Fatal(err)
	}
	// Replaced in place: the configured spec does not change, as with a
	// floating @latest.
	if err := os.WriteFile(filepath.Join(dir, "fixture.tgz"), tgz, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLauncherPackageVersion runs a server through the real npx from a
// local tarball whose version moves under an unchanged spec: the version
// that actually ran is recorded, and its move is high.
func TestLauncherPackageVersion(t *testing.T) {
	for _, bin := range []string{"npx", "npm", "node"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: %v", bin, err)
		}
	}
	dir := t.TempDir()
	cache := filepath.Join(dir, "npm-cache")
	env := map[string]string{"npm_config_cache": cache, "npm_config_update_notifier": "false",
		"npm_config_fund": "false", "npm_config_audit": "false"}
	var envList []string
	var envYAML []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
		envYAML = append(envYAML, fmt.Sprintf("%s: %q", k, v))
	}
	packFixture(t, dir, "1.0.0", envList)
	spec := "file:" + filepath.Join(dir, "fixture.tgz")
	r := newRig(t, fmt.Sprintf("servers:\n  - name: npx\n    command: npx\n    args: [--yes, --offline, --package, %q, mcp-fixture]\n    timeout: 30s\n    env: {%s}\n",
		spec, strings.Join(envYAML, ", ")))

	if rs := r.check(); rs.Status != report.StatusBaselined {
		t.Fatalf("first check: %+v", rs)
	}
	id := r.identity()
	if p := id.Package; p == nil || p.Launcher != "npx" || p.Spec != spec || p.Name != "mcpdrift-fixture" || p.Version != "1.0.0" || p.Method != "process" {
		t.Fatalf("package identity: %+v", id.Package)
	}
	if e := id.Executable; e == nil || e.Launcher != "npx" || !strings.HasPrefix(e.SHA256, "sha256:") || !filepath.IsAbs(e.Path) {
		t.Fatalf("executable identity: %+v", id.Executable)
	}

	packFixture(t, dir, "1.1.0", envList)
	rs := r.check()
	var got *report.Change
	for i, c := range rs.Changes {
		if c.Kind == "identity.package" {
			got = &rs.Changes[i]
		}
	}
	if got == nil || got.Severity != severity.High || !strings.Contains(got.Summary, "from 1.0.0 to 1.1.0") {
		t.Fatalf("want a high identity.package change from 1.0.0 to 1.1.0, got %+v", rs.Changes)
	}
	if v := r.identity().Package.Version; v != "1.1.0" {
		t.Errorf("recorded version %q, want 1.1.0", v)
	}
}

func TestTrustRiskGroupsAreDriftRisks(t *testing.T) {
	for i, name := range config.RiskGroups {
		s := &config.Server{Trust: &config.Trust{MaxRisk: name}}
		if r := engine.TrustPolicy(s).MaxRisk; r == nil || int(*r) != i || r.String() != name {
			t.Errorf("max_risk %q maps to %v", name, r)
		}
	}
}
