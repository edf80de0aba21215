package manifest

import (
	"bytes"
	"strings"
	"testing"
)

func withIdentity(id *Identity) Capture {
	c := capture(initResult, `{"tools":[{"name":"a","inputSchema":{"type":"object"}}]}`)
	c.Identity = id
	return c
}

func TestIdentityDocument(t *testing.T) {
	tls := func(sans ...string) *Identity {
		return &Identity{URL: "https://mcp.example.com/mcp", TLS: &TLSIdentity{Subject: "CN=mcp", Issuer: "CN=CA", SANs: sans, SPKI: "sha256:00", KeyType: "ECDSA P-256"},
			OAuth: &OAuth{Status: OAuthPresent, Resource: &ProtectedResource{MetadataURL: "m", Resource: "r", AuthorizationServers: []string{"b", "a"}, ScopesSupported: []string{"w", "r", "r"}},
				AuthorizationServers: []AuthorizationServer{{Issuer: "b"}, {Issuer: "a", ScopesSupported: []string{"y", "x"}}}}}
	}
	without := mustBuild(t, withIdentity(nil))
	with := mustBuild(t, withIdentity(tls("DNS:b", "DNS:a")))
	tests := []struct {
		name   string
		m      *Manifest
		prefix string
	}{
		{"no identity keeps format 1, byte for byte", without, `{"format":1,"prompts":[]`},
		{"identity makes format 2", with, `{"format":2,"identity":{"oauth":{"authorization_servers":[{"issuer":"a","scopes_supported":["x","y"]},{"issuer":"b"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.m.Document()
			if !strings.HasPrefix(string(doc), tt.prefix) {
				t.Fatalf("document %s\nwant prefix %s", doc, tt.prefix)
			}
			canon, err := Canonicalize(doc)
			if err != nil || !bytes.Equal(canon, doc) {
				t.Errorf("document is not JCS: %v\n%s\n%s", err, doc, canon)
			}
			back, err := Parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			if back.ID() != tt.m.ID() || !bytes.Equal(back.Identity, tt.m.Identity) {
				t.Errorf("parse round trip changed the id: %s -> %s", tt.m.ID(), back.ID())
			}
			if c := tt.m.Clone(); c.ID() != tt.m.ID() {
				t.Error("clone lost the identity")
			}
		})
	}
	if with.ID() == without.ID() {
		t.Error("identity does not change the id")
	}
	if reordered := mustBuild(t, withIdentity(tls("DNS:a", "DNS:b", "DNS:a"))); reordered.ID() != with.ID() {
		t.Errorf("reordered SANs changed the id:\n%s\n%s", reordered.Document(), with.Document())
	}
	if empty := mustBuild(t, withIdentity(&Identity{})); empty.ID() != without.ID() {
		t.Error("an empty identity is not the same as none")
	}
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		name, doc, err string
	}{
		{"format 1", `{"format":1,"prompts":[],"resource_templates":[],"resources":[],"server":{},"tools":[],"volatile_rules":1}`, ""},
		{"format 2", `{"format":2,"identity":{"url":"https://x/mcp"},"prompts":[],"resource_templates":[],"resources":[],"server":{},"tools":[],"volatile_rules":1}`, ""},
		{"format 3", `{"format":3,"prompts":[],"server":{},"tools":[]}`, "format 3"},
		{"identity of the wrong shape", `{"format":2,"identity":{"tls":"yes"},"server":{}}`, "identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte(tt.doc))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(m.Document()); got != tt.doc {
				t.Errorf("round trip:\n got %s\nwant %s", got, tt.doc)
			}
		})
	}
}
