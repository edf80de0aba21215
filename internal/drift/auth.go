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
	d.scopeSet("identity.auth.granted_scopes", a.Granted, b.Granted,
		d.levels[KindAuthScopes], "the authorization server grants more: scope%s %s",
		severity.Low, "granted scope%s %s no longer")
	d.scopeSet("identity.auth.unrequested_scopes", a.Unrequested, b.Unrequested,
		d.levels[KindAuthScopes], "the server asks for scope%s %s beyond the configured ones (not requested)",
		severity.Info, "the server no longer asks for scope%s %s")
	if added, removed := stringDiff(a.Requested, b.Requested); len(added)+len(removed) > 0 {
		d.idChange(KindAuthScopes, "identity.auth.requested_scopes", severity.Info,
			[]string{"configured scopes change from " + scopeText(a.Requested) + " to " + scopeText(b.Requested)}, setOf(a.Requested), setOf(b.Requested))
	}
}

// scopeSet is one auth.scopes change at path when the scope set a became b:
// a part for the scopes added (at grew, said with format added) and one for
// those removed (at shrank, said with format removed); each format takes
// the plural suffix and the quoted list.
func (d *differ) scopeSet(path string, a, b []string, grew severity.Level, added string, shrank severity.Level, removed string) {
	plus, minus := stringDiff(a, b)
	if len(plus)+len(minus) == 0 {
		return
	}
	var ps parts
	if len(plus) > 0 {
		ps.add(nil, grew, added, plural2(len(plus)), quoteList(plus))
	}
	if len(minus) > 0 {
		ps.add(nil, shrank, removed, plural2(len(minus)), quoteList(minus))
	}
	d.emitParts(KindAuthScopes, path, ps, setOf(a), setOf(b))
}

func scopeText(l []string) string {
	if len(l) == 0 {
		return "no scopes"
	}
	return quoteList(l)
}
