package drift

import (
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

func TestDiffAuth(t *testing.T) {
	grant := func(mode, issuer string, granted, unrequested []string) *manifest.Identity {
		return &manifest.Identity{URL: "https://mcp.example.com/mcp", Auth: &manifest.Auth{
			Mode: mode, Issuer: issuer, Requested: []string{"read"}, Granted: granted, Unrequested: unrequested}}
	}
	cc, ac := "client_credentials", "authorization_code"
	as, other := "https://auth.example.com", "https://evil.example.net"
	read, readWrite := []string{"read"}, []string{"read", "write"}
	tests := []struct {
		name       string
		base, snap *manifest.Identity
		want       []want
	}{
		{"same grant", grant(cc, as, read, nil), grant(cc, as, read, nil), nil},
		{"granted scopes grow: high", grant(cc, as, read, nil), grant(cc, as, readWrite, nil),
			[]want{{KindAuthScopes, "", "identity.auth.granted_scopes", severity.High, "grants more: scope `write`"}}},
		{"granted scopes shrink: low", grant(cc, as, readWrite, nil), grant(cc, as, read, nil),
			[]want{{KindAuthScopes, "", "identity.auth.granted_scopes", severity.Low, "no longer"}}},
		{"the server asks beyond the configured scopes: high", grant(cc, as, read, nil), grant(cc, as, read, []string{"admin"}),
			[]want{{KindAuthScopes, "", "identity.auth.unrequested_scopes", severity.High, "beyond the configured ones"}}},
		{"another authorization server: high", grant(cc, as, read, nil), grant(cc, other, read, nil),
			[]want{{KindAuthIssuer, "", "identity.auth.issuer", severity.High, "the authorization server changes"}}},
		{"a trailing slash is the same issuer", grant(cc, as, read, nil), grant(cc, as+"/", read, nil), nil},
		{"mode change: medium", grant(cc, as, read, nil), grant(ac, as, read, nil),
			[]want{{KindAuthMode, "", "identity.auth.mode", severity.Medium, "from client_credentials to authorization_code"}}},
		{"OAuth starts: medium", &manifest.Identity{URL: "https://mcp.example.com/mcp"}, grant(ac, as, read, nil),
			[]want{{KindAuthMode, "", "identity.auth", severity.Medium, "now authenticates with OAuth"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkChanges(t, Diff(withID(t, tt.base), withID(t, tt.snap), Policy{}), tt.want)
		})
	}
}
