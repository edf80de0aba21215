package drift

import (
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Change kinds of the OAuth grant mcpdrift itself holds (identity.auth,
// internal/oauth): least privilege, watched like the tools.
const (
	// KindAuthMode: OAuth was started, stopped, or its mode changed.
	KindAuthMode = "auth.mode"
	// KindAuthIssuer: the grant comes from another authorization server.
	KindAuthIssuer = "auth.issuer"
	// KindAuthScopes: the scopes granted grew (high) or shrank (low), or
	// the server asks for scopes beyond the configured ones (high).
	KindAuthScopes = "auth.scopes"
)

// auth compares the OAuth grants two snapshots were taken under.
func (d *differ) auth(a, b *manifest.Auth) {
	switch {
	case a == nil && b == nil:
		return
	case a == nil:
		d.idChange(KindAuthMode, "identity.auth", d.levels[KindAuthMode],
			[]string{"now authenticates with OAuth " + b.Mode + " at " + b.Issuer + ", granted " + scopeText(b.Granted)}, nil, b)
		return
	case b == nil:
		d.idChange(KindAuthMode, "identity.auth", d.levels[KindAuthMode],
			[]string{"no longer authenticates with OAuth (was " + a.Mode + " at " + a.Issuer + ")"}, a, nil)
		return
	}
	if a.Mode != b.Mode {
		d.idChange(KindAuthMode, "identity.auth.mode", d.levels[KindAuthMode],
			[]string{"OAuth mode changes from " + a.Mode + " to " + b.Mode}, a.Mode, b.Mode)
	}
	if strings.TrimSuffix(a.Issuer, "/") != strings.TrimSuffix(b.Issuer, "/") {
		d.idChange(KindAuthIssuer, "identity.auth.issuer", d.levels[KindAuthIssuer],
			[]string{"the authorization server changes from " + a.Issuer + " to " + b.Issuer}, a.Issuer, b.Issuer)
	}
	if added, removed := stringDiff(a.Granted, b.Granted); len(added)+len(removed) > 0 {
		var ps parts
		if len(added) > 0 {
			ps.add(nil, d.levels[KindAuthScopes], "the authorization server grants more: scope%s %s", plural2(len(added)), quoteList(added))
		}
		if len(removed) > 0 {
			ps.add(nil, severity.Low, "granted scope%s %s no longer", plural2(len(removed)), quoteList(removed))
		}
		d.emitParts(KindAuthScopes, "identity.auth.granted_scopes", ps, setOf(a.Granted), setOf(b.Granted))
	}
	if added, removed := stringDiff(a.Unrequested, b.Unrequested); len(added)+len(removed) > 0 {
		var ps parts
		if len(added) > 0 {
			ps.add(nil, d.levels[KindAuthScopes], "the server asks for scope%s %s beyond the configured ones (not requested)", plural2(len(added)), quoteList(added))
		}
		if len(removed) > 0 {
			ps.add(nil, severity.Info, "the server no longer asks for scope%s %s", plural2(len(removed)), quoteList(removed))
		}
		d.emitParts(KindAuthScopes, "identity.auth.unrequested_scopes", ps, setOf(a.Unrequested), setOf(b.Unrequested))
	}
	if added, removed := stringDiff(a.Requested, b.Requested); len(added)+len(removed) > 0 {
		d.idChange(KindAuthScopes, "identity.auth.requested_scopes", severity.Info,
			[]string{"configured scopes change from " + scopeText(a.Requested) + " to " + scopeText(b.Requested)}, setOf(a.Requested), setOf(b.Requested))
	}
}

func scopeText(l []string) string {
	if len(l) == 0 {
		return "no scopes"
	}
	return quoteList(l)
}
