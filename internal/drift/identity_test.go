package drift

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

func withID(t testing.TB, id *manifest.Identity, tools ...string) *manifest.Manifest {
	t.Helper()
	c := srv{tools: tools}.capture()
	c.Identity = id
	m, err := manifest.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tlsID(issuer, keyID, spki string, sans ...string) *manifest.TLSIdentity {
	return &manifest.TLSIdentity{Subject: "CN=mcp.example.com", Issuer: issuer, IssuerKeyID: keyID, SANs: sans, SPKI: spki, KeyType: "ECDSA P-256"}
}

func httpsID(tls *manifest.TLSIdentity) *manifest.Identity {
	return &manifest.Identity{URL: "https://mcp.example.com/mcp", TLS: tls}
}

func oauthID(issuers []string, scopes []string, as ...manifest.AuthorizationServer) *manifest.Identity {
	return &manifest.Identity{URL: "https://mcp.example.com/mcp", OAuth: &manifest.OAuth{
		Status:               manifest.OAuthPresent,
		Resource:             &manifest.ProtectedResource{MetadataURL: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp", Resource: "https://mcp.example.com/mcp", AuthorizationServers: issuers, ScopesSupported: scopes},
		AuthorizationServers: as,
	}}
}

func pkgID(version, requested, integrity string) *manifest.Identity {
	return &manifest.Identity{
		Executable: &manifest.Executable{Command: "npx", Path: "/usr/lib/node_modules/npm/bin/npx-cli.js", SHA256: "sha256:aa", Launcher: "npx"},
		Package:    &manifest.Package{Launcher: "npx", Spec: "srv@" + requested, Name: "srv", Requested: requested, Version: version, Integrity: integrity, Method: "process"},
	}
}

func TestDiffIdentity(t *testing.T) {
	le := tlsID("CN=R11,O=Let's Encrypt", "aa", "sha256:01", "DNS:mcp.example.com")
	as := func(issuer, token string, scopes ...string) manifest.AuthorizationServer {
		return manifest.AuthorizationServer{Issuer: issuer, MetadataURL: issuer + "/.well-known/oauth-authorization-server", TokenEndpoint: token, ScopesSupported: scopes}
	}
	hi, crit, med, low, info := severity.High, severity.Critical, severity.Medium, severity.Low, severity.Info
	tests := []struct {
		name       string
		base, snap *manifest.Identity
		want       []want
	}{
		{"same identity", httpsID(le), httpsID(le), nil},
		{"renewal by the same issuer with a new key is info", httpsID(le), httpsID(tlsID("CN=R11,O=Let's Encrypt", "aa", "sha256:02", "DNS:mcp.example.com")),
			[]want{{KindIdentityTLS, "", "identity.tls", info, "renewed by the same issuer"}}},
		{"a new issuer is high", httpsID(le), httpsID(tlsID("CN=Evil CA", "bb", "sha256:02", "DNS:mcp.example.com")),
			[]want{{KindIdentityTLS, "", "identity.tls", hi, "new issuer: CN=R11,O=Let's Encrypt -> CN=Evil CA"}}},
		{"same issuer name, another issuer key is high", httpsID(le), httpsID(tlsID("CN=R11,O=Let's Encrypt", "cc", "sha256:02", "DNS:mcp.example.com")),
			[]want{{KindIdentityTLS, "", "identity.tls", hi, "different issuer key"}}},
		{"new names, same issuer, is medium", httpsID(le), httpsID(tlsID("CN=R11,O=Let's Encrypt", "aa", "sha256:01", "DNS:mcp.example.com", "DNS:evil.example")),
			[]want{{KindIdentityTLS, "", "identity.tls", med, "adds `DNS:evil.example`"}}},
		{"plain HTTP where there was TLS is high", httpsID(le), &manifest.Identity{URL: "http://mcp.example.com/mcp"},
			[]want{{KindIdentityTLS, "", "identity.tls", hi, "plain HTTP where there was TLS"}, {KindIdentityURL, "", "identity.url", hi, "downgrades to plain HTTP"}}},
		{"TLS where there was plain HTTP is low", &manifest.Identity{URL: "http://mcp.example.com/mcp"}, httpsID(le),
			[]want{{KindIdentityTLS, "", "identity.tls", low, "now served over TLS"}, {KindIdentityURL, "", "identity.url", low, "scheme changes"}}},
		{"redirect to another host is high", &manifest.Identity{URL: "http://127.0.0.1:8080/mcp"}, &manifest.Identity{URL: "http://localhost:9090/mcp"},
			[]want{{KindIdentityURL, "", "identity.url", hi, "another host: 127.0.0.1:8080 -> localhost:9090"}}},
		{"another path on the same host is medium", &manifest.Identity{URL: "https://a.example/mcp"}, &manifest.Identity{URL: "https://a.example/v2/mcp"},
			[]want{{KindIdentityURL, "", "identity.url", med, "path changes"}}},
		{"a baseline without identity sees it first recorded, as info", nil, httpsID(le),
			[]want{{KindIdentityTLS, "", "identity.tls", info, "first recorded"}, {KindIdentityURL, "", "identity.url", info, "first recorded"}}},
		{"floating latest that moved is high", pkgID("1.0.0", "latest", ""), pkgID("1.1.0", "latest", ""),
			[]want{{KindIdentityPackage, "", "identity.package", hi, `moves from 1.0.0 to 1.1.0 (floating "latest" moved silently)`}}},
		{"same version, new content is high", pkgID("1.0.0", "1.0.0", "sha512-a"), pkgID("1.0.0", "1.0.0", "sha512-b"),
			[]want{{KindIdentityPackage, "", "identity.package", hi, "different package content"}}},
		{"version no longer found is low", pkgID("1.0.0", "latest", ""), pkgID("", "latest", ""),
			[]want{{KindIdentityPackage, "", "identity.package", low, "could not be determined"}}},
		{"a launcher updated in place is low", pkgID("1.0.0", "latest", ""), func() *manifest.Identity {
			id := pkgID("1.0.0", "latest", "")
			id.Executable.SHA256 = "sha256:bb"
			return id
		}(), []want{{KindIdentityExecutable, "", "identity.executable", low, "updated in place"}}},
		{"a replaced binary is high",
			&manifest.Identity{Executable: &manifest.Executable{Command: "srv", Path: "/usr/bin/srv", SHA256: "sha256:aa"}},
			&manifest.Identity{Executable: &manifest.Executable{Command: "srv", Path: "/usr/bin/srv", SHA256: "sha256:bb"}},
			[]want{{KindIdentityExecutable, "", "identity.executable", hi, "was replaced"}}},
		{"another executable is high",
			&manifest.Identity{Executable: &manifest.Executable{Command: "srv", Path: "/usr/bin/srv", SHA256: "sha256:aa"}},
			&manifest.Identity{Executable: &manifest.Executable{Command: "srv", Path: "/tmp/srv", SHA256: "sha256:aa"}},
			[]want{{KindIdentityExecutable, "", "identity.executable", hi, "different executable"}}},
		{"scope added is high, removed is low, one change",
			oauthID([]string{"https://as.example"}, []string{"read", "admin"}), oauthID([]string{"https://as.example"}, []string{"read", "write"}),
			[]want{{KindOAuthScopes, "", "identity.oauth.protected_resource.scopes_supported", hi, "adds scope `write`; protected resource removes scope `admin`"}}},
		{"scope removed alone is low",
			oauthID([]string{"https://as.example"}, []string{"read", "admin"}), oauthID([]string{"https://as.example"}, []string{"read"}),
			[]want{{KindOAuthScopes, "", "identity.oauth.protected_resource.scopes_supported", low, "removes scope `admin`"}}},
		{"new authorization server is critical",
			oauthID([]string{"https://as.example"}, nil, as("https://as.example", "https://as.example/token")),
			oauthID([]string{"https://as.example", "https://evil.example"}, nil, as("https://as.example", "https://as.example/token"), as("https://evil.example", "https://evil.example/token")),
			[]want{{KindOAuthAuthorizationServers, "", "identity.oauth.authorization_servers", crit, "new authorization server https://evil.example"}}},
		{"authorization server removed is low",
			oauthID([]string{"https://a.example", "https://b.example"}, nil), oauthID([]string{"https://a.example"}, nil),
			[]want{{KindOAuthAuthorizationServers, "", "identity.oauth.authorization_servers", low, "https://b.example removed"}}},
		{"token endpoint moved is high",
			oauthID([]string{"https://as.example"}, nil, as("https://as.example", "https://as.example/token")),
			oauthID([]string{"https://as.example"}, nil, as("https://as.example", "https://evil.example/token")),
			[]want{{KindOAuthAuthorizationServers, "", "identity.oauth.authorization_servers", hi, "token endpoint changes"}}},
		{"authorization server scope added is high",
			oauthID([]string{"https://as.example"}, nil, as("https://as.example", "t", "a")),
			oauthID([]string{"https://as.example"}, nil, as("https://as.example", "t", "a", "b")),
			[]want{{KindOAuthScopes, "", "identity.oauth.authorization_servers.https:%2F%2Fas%2Eexample.scopes_supported", hi, "adds scope `b`"}}},
		{"metadata removed is medium, once",
			oauthID([]string{"https://as.example"}, []string{"read"}), &manifest.Identity{URL: "https://mcp.example.com/mcp", OAuth: &manifest.OAuth{Status: manifest.OAuthAbsent}},
			[]want{{KindOAuthMetadata, "", "identity.oauth", med, "no longer publishes"}}},
		{"metadata appearing names its servers and scopes",
			&manifest.Identity{URL: "https://mcp.example.com/mcp", OAuth: &manifest.OAuth{Status: manifest.OAuthAbsent}}, oauthID([]string{"https://as.example"}, []string{"read"}),
			[]want{
				{KindOAuthMetadata, "", "identity.oauth", med, "now publishes"},
				{KindOAuthAuthorizationServers, "", "identity.oauth.authorization_servers", crit, "new authorization server"},
				{KindOAuthScopes, "", "identity.oauth.protected_resource.scopes_supported", hi, "adds scope `read`"},
			}},
		{"a fetch failure is low and hides nothing it cannot see",
			oauthID([]string{"https://as.example"}, []string{"read"}), &manifest.Identity{URL: "https://mcp.example.com/mcp", OAuth: &manifest.OAuth{Status: manifest.OAuthError, Error: "GET x: timeout"}},
			[]want{{KindOAuthMetadata, "", "identity.oauth", low, "could not be fetched: GET x: timeout"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkChanges(t, Diff(withID(t, tt.base), withID(t, tt.snap), Policy{}), tt.want)
		})
	}
}

func TestIdentityIgnoreAndOverride(t *testing.T) {
	base := withID(t, httpsID(tlsID("CN=A", "aa", "sha256:01")))
	snap := withID(t, httpsID(tlsID("CN=B", "bb", "sha256:02")))
	if cs := Diff(base, snap, Policy{Ignore: []Ignore{{Path: "server/identity.tls"}}}); len(cs) != 0 {
		t.Errorf("ignored identity.tls still reported: %+v", cs)
	}
	cs := Diff(base, snap, Policy{Severity: map[string]severity.Level{KindIdentityTLS: severity.Critical}})
	if len(cs) != 1 || cs[0].Severity != severity.Critical {
		t.Errorf("override: %+v", cs)
	}
}

func TestRiskOf(t *testing.T) {
	tests := []struct {
		name, annotations string
		risk              Risk
		openWorld         bool
	}{
		{"no annotations", ``, RiskUnannotated, true},
		{"annotations not an object", `,"annotations":"x"`, RiskUnannotated, true},
		{"empty annotations: spec defaults", `,"annotations":{}`, RiskDestructive, true},
		{"read-only, open world by default", `,"annotations":{"readOnlyHint":true}`, RiskReadOnly, true},
		{"read-only, closed world", `,"annotations":{"readOnlyHint":true,"openWorldHint":false}`, RiskReadOnly, false},
		{"read-only wins over destructive", `,"annotations":{"readOnlyHint":true,"destructiveHint":true}`, RiskReadOnly, true},
		{"additive, closed world: writes", `,"annotations":{"destructiveHint":false,"openWorldHint":false}`, RiskWrites, false},
		{"additive, open world", `,"annotations":{"destructiveHint":false}`, RiskWrites, true},
		{"destructive by default, closed world", `,"annotations":{"openWorldHint":false}`, RiskDestructive, false},
		{"destructive, closed world", `,"annotations":{"readOnlyHint":false,"destructiveHint":true,"openWorldHint":false}`, RiskDestructive, false},
		{"non-boolean hint reads as its default", `,"annotations":{"readOnlyHint":"yes","openWorldHint":false}`, RiskDestructive, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RiskOf(json.RawMessage(`{"name":"t"` + tt.annotations + `}`))
			if r.Risk != tt.risk || r.OpenWorld != tt.openWorld {
				t.Errorf("got %s open world %v, want %s %v", r.Risk, r.OpenWorld, tt.risk, tt.openWorld)
			}
		})
	}
	for i, n := range RiskNames() {
		if r, ok := ParseRisk(n); !ok || r != Risk(i) || r.String() != n {
			t.Errorf("risk %d name %q does not round-trip", i, n)
		}
	}
}

func TestViolations(t *testing.T) {
	risk := func(r Risk) *Risk { return &r }
	id := &manifest.Identity{
		URL: "https://mcp.example.com:8443/mcp",
		TLS: tlsID("CN=R11,O=Let's Encrypt", "aa", "sha256:ab"),
		OAuth: &manifest.OAuth{Status: manifest.OAuthPresent, Resource: &manifest.ProtectedResource{
			AuthorizationServers: []string{"https://as.example/"}, ScopesSupported: []string{"read", "write", "admin"}}},
	}
	m := withID(t, id,
		`{"name":"get","annotations":{"readOnlyHint":true}}`,
		`{"name":"rm","annotations":{"openWorldHint":false}}`,
		`{"name":"mystery"}`)
	tests := []struct {
		name  string
		trust Trust
		want  []string // summary fragments, one per violation, in order
	}{
		{"compliant", Trust{Hosts: []string{"*.example.com"}, TLSIssuer: "CN=R11,O=Let's Encrypt", TLSSPKI: []string{"SHA256:AB"},
			AuthorizationServers: []string{"https://as.example"}, Scopes: []string{"read", "write", "admin"}}, nil},
		{"host", Trust{Hosts: []string{"mcp.example.com:443", "example.com"}}, []string{"trust.hosts: final URL https://mcp.example.com:8443/mcp is on host"}},
		{"host with the right port", Trust{Hosts: []string{"mcp.example.com:8443"}}, nil},
		{"issuer", Trust{TLSIssuer: "CN=Other"}, []string{"trust.tls_issuer: certificate issued by CN=R11"}},
		{"key pin", Trust{TLSSPKI: []string{"sha256:cd"}}, []string{"trust.tls_spki: certificate key sha256:ab matches no pinned key"}},
		{"authorization server", Trust{AuthorizationServers: []string{"https://other.example"}}, []string{"authorization server https://as.example/ is not trusted"}},
		{"scopes", Trust{Scopes: []string{"read"}}, []string{"scopes `admin`, `write` not allowed"}},
		{"max risk", Trust{MaxRisk: risk(RiskWrites)}, []string{"tool `mystery` is unannotated", "tool `rm` is destructive"}},
		{"max risk open-world still catches unannotated", Trust{MaxRisk: risk(RiskOpenWorld)}, []string{"tool `mystery` is unannotated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Violations(m, tt.trust, Policy{})
			if len(got) != len(tt.want) {
				t.Fatalf("got %d violations, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, c := range got {
				if c.Kind != KindPolicyViolation || c.Severity != severity.Critical || c.Entity != EntityServer || !strings.Contains(c.Summary, tt.want[i]) {
					t.Errorf("violation %d: %s %s %s %q, want critical policy.violation with %q", i, c.Severity, c.Kind, c.Entity, c.Summary, tt.want[i])
				}
				checkInert(t, c)
			}
		})
	}
	if got := Violations(withID(t, nil), Trust{Hosts: []string{"a.example"}, TLSIssuer: "CN=X"}, Policy{}); len(got) != 2 {
		t.Errorf("a snapshot without identity cannot be verified, so it violates: %+v", got)
	}
}

func TestIdentityTextIsInert(t *testing.T) {
	evil := "CN=\u202eevil\x1b[31m,O=\u200bCA"
	cs := Diff(withID(t, httpsID(tlsID("CN=A", "", "sha256:1"))), withID(t, httpsID(tlsID(evil, "", "sha256:2"))), Policy{})
	if len(cs) != 1 {
		t.Fatalf("%+v", cs)
	}
	checkInert(t, cs[0])
	if regexp.MustCompile("[\u202e\u200b\x1b]").MatchString(cs[0].Summary + cs[0].After + cs[0].Diff) {
		t.Errorf("raw invisible characters in %+v", cs[0])
	}
}

// FuzzIdentity checks that any pair of identities (raw, even malformed, as
// a hand-edited document may hold) and any trust policy neither panic nor
// leak raw control characters, and that an identity never differs from
// itself.
func FuzzIdentity(f *testing.F) {
	seed, _ := json.Marshal(oauthID([]string{"https://as.example"}, []string{"read"}, manifest.AuthorizationServer{Issuer: "https://as.example", TokenEndpoint: "t"}))
	f.Add(string(seed), `{"url":"http://[::1]:x/\u202e","tls":{"issuer":"\u001b[31m"},"oauth":{"status":"present"}}`, "*.example.com")
	f.Fuzz(func(t *testing.T, a, b, host string) {
		ma := &manifest.Manifest{Identity: json.RawMessage(a)}
		mb := &manifest.Manifest{Identity: json.RawMessage(b)}
		if cs := Diff(ma, ma, Policy{}); len(cs) != 0 {
			t.Fatalf("Diff(a, a) = %+v", cs)
		}
		for _, c := range Diff(ma, mb, Policy{}) {
			checkInert(t, c)
		}
		r := RiskReadOnly
		for _, c := range Violations(mb, Trust{Hosts: []string{host}, TLSIssuer: "CN=x", TLSSPKI: []string{"sha256:1"}, AuthorizationServers: []string{host}, Scopes: []string{"a"}, MaxRisk: &r}, Policy{}) {
			checkInert(t, c)
		}
	})
}
