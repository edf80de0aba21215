package drift

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// identity compares the observed identities of two manifests (see the
// package doc for the rules). Server ignore rules apply under the field
// "identity", e.g. "server/identity.tls.spki".
func (d *differ) identity(a, b json.RawMessage) {
	if bytes.Equal(a, b) {
		return
	}
	drop, rs := d.rulesFor(EntityServer, "")
	if drop {
		return
	}
	ia, ib := d.prunedIdentity(a, rs), d.prunedIdentity(b, rs)
	switch {
	case ia.IsZero() && ib.IsZero():
		return
	case ia.IsZero():
		// A baseline from before identity was recorded (format 1): what is
		// seen now is shown, never alerted on, until it is approved.
		d.identityOnce(ib, "first recorded", false)
		return
	case ib.IsZero():
		d.identityOnce(ia, "not recorded in this snapshot", true)
		return
	}
	d.identityURL(ia, ib)
	if !reflect.DeepEqual(ia.TLS, ib.TLS) {
		d.identityTLS(ia, ib)
	}
	if !reflect.DeepEqual(ia.Executable, ib.Executable) {
		d.identityExecutable(ia.Executable, ib.Executable)
	}
	if !reflect.DeepEqual(ia.Package, ib.Package) {
		d.identityPackage(ia.Package, ib.Package)
	}
	if !reflect.DeepEqual(ia.OAuth, ib.OAuth) {
		d.oauth(ia.OAuth, ib.OAuth)
	}
	if !reflect.DeepEqual(ia.Auth, ib.Auth) {
		d.auth(ia.Auth, ib.Auth)
	}
	if !reflect.DeepEqual(ia.Launch, ib.Launch) {
		d.identityLaunch(ia.Launch, ib.Launch, pkgSpec(ia.Package), pkgSpec(ib.Package))
	}
}

func pkgSpec(p *manifest.Package) string {
	if p == nil {
		return ""
	}
	return p.Spec
}

// prunedIdentity decodes an identity after the server's ignore rules. A
// malformed identity (a hand-edited document) compares as its raw text
// under the URL, so a difference is still reported.
func (d *differ) prunedIdentity(raw json.RawMessage, rs []fieldRule) *manifest.Identity {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	obj := map[string]any{"identity": decodeObject(raw)}
	prune(obj, rs)
	v, ok := obj["identity"]
	if !ok {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return &manifest.Identity{URL: string(raw)}
	}
	id, err := manifest.DecodeIdentity(b)
	if err != nil {
		return &manifest.Identity{URL: string(raw)}
	}
	return id
}

// idChange records one identity change.
func (d *differ) idChange(kind, path string, level severity.Level, msgs []string, before, after any) {
	if len(msgs) > 3 {
		msgs = append(msgs[:3], fmt.Sprintf("and %d more", len(msgs)-3))
	}
	bs, as := idText(before), idText(after)
	c := report.Change{
		Kind:    kind,
		Entity:  EntityServer,
		Path:    path,
		Summary: oneLine("server: " + strings.Join(msgs, "; ")),
		Before:  excerpt(bs),
		After:   excerpt(as),
		Diff:    diffText(bs, as),
	}
	d.finish(&c, level, "", "", false)
}

// idText renders an identity part for Before and After.
func idText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []string:
		return strings.Join(x, "\n")
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return ""
	}
	var g any
	if json.Unmarshal(b, &g) != nil {
		return string(b)
	}
	return pretty(g)
}

// identityOnce reports every recorded part of one identity at info: the
// other side recorded none at all.
func (d *differ) identityOnce(id *manifest.Identity, what string, gone bool) {
	pair := func(v any) (any, any) {
		if gone {
			return v, nil
		}
		return nil, v
	}
	if id.URL != "" {
		b, a := pair(id.URL)
		d.idChange(KindIdentityURL, "identity.url", severity.Info, []string{"final URL " + what + ": " + id.URL}, b, a)
	}
	if id.TLS != nil {
		b, a := pair(id.TLS)
		d.idChange(KindIdentityTLS, "identity.tls", severity.Info, []string{"TLS certificate " + what + ": issuer " + id.TLS.Issuer}, b, a)
	}
	if id.Executable != nil {
		b, a := pair(id.Executable)
		d.idChange(KindIdentityExecutable, "identity.executable", severity.Info, []string{"executable " + what + ": " + orUnknown(id.Executable.Path)}, b, a)
	}
	if id.Package != nil {
		b, a := pair(id.Package)
		d.idChange(KindIdentityPackage, "identity.package", severity.Info, []string{"launcher package " + what + ": " + pkgLabel(id.Package)}, b, a)
	}
	if id.OAuth != nil {
		b, a := pair(id.OAuth)
		d.idChange(KindOAuthMetadata, "identity.oauth", severity.Info, []string{"OAuth metadata " + what + ": " + id.OAuth.Status}, b, a)
	}
	if id.Auth != nil {
		b, a := pair(id.Auth)
		d.idChange(KindAuthMode, "identity.auth", severity.Info, []string{"OAuth grant " + what + ": " + id.Auth.Mode + " at " + id.Auth.Issuer}, b, a)
	}
	if id.Launch != nil {
		b, a := pair(id.Launch)
		d.idChange(KindIdentityLaunch, "identity.launch", severity.Info, []string{"launch " + what + ": " + launchLabel(id.Launch)}, b, a)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unresolved)"
	}
	return s
}

func pkgLabel(p *manifest.Package) string {
	name := p.Name
	if name == "" {
		name = p.Spec
	}
	if p.Version != "" {
		return name + "@" + p.Version
	}
	return name + " (version unknown)"
}

func (d *differ) identityURL(ia, ib *manifest.Identity) {
	a, b := ia.URL, ib.URL
	if a == b {
		return
	}
	switch {
	case a == "":
		d.idChange(KindIdentityURL, "identity.url", d.levels[KindIdentityURL], []string{"now served over HTTP from " + b}, a, b)
		return
	case b == "":
		d.idChange(KindIdentityURL, "identity.url", severity.Medium, []string{"no longer served over HTTP (was " + a + ")"}, a, b)
		return
	}
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil {
		d.idChange(KindIdentityURL, "identity.url", d.levels[KindIdentityURL], []string{"final URL changes from " + a + " to " + b}, a, b)
		return
	}
	var ps parts
	if !strings.EqualFold(ua.Host, ub.Host) {
		ps.add(nil, d.levels[KindIdentityURL], "final URL moves to another host: %s -> %s", ua.Host, ub.Host)
	}
	switch {
	case ua.Scheme == "https" && ub.Scheme != "https":
		ps.add(nil, d.levels[KindIdentityURL], "downgrades to plain HTTP")
	case ua.Scheme != ub.Scheme:
		ps.add(nil, severity.Low, "scheme changes from %s to %s", ua.Scheme, ub.Scheme)
	}
	if ua.Path != ub.Path {
		ps.add(nil, severity.Medium, "path changes from %q to %q", ua.Path, ub.Path)
	}
	if len(ps) == 0 {
		ps.add(nil, severity.Medium, "final URL changes from %s to %s", a, b)
	}
	d.emitParts(KindIdentityURL, "identity.url", ps, a, b)
}

// emitParts records one change made of classified parts, most severe
// first.
func (d *differ) emitParts(kind, path string, ps parts, before, after any) {
	slices.SortStableFunc(ps, func(x, y part) int { return int(y.level) - int(x.level) })
	level := severity.None
	msgs := make([]string, 0, len(ps))
	for _, p := range ps {
		level = severity.Max(level, p.level)
		msgs = append(msgs, p.msg)
	}
	d.idChange(kind, path, level, msgs, before, after)
}

func (d *differ) identityTLS(ia, ib *manifest.Identity) {
	a, b := ia.TLS, ib.TLS
	high := d.levels[KindIdentityTLS]
	switch {
	case a == nil && b == nil:
		return
	case b == nil:
		msg := "no TLS certificate any more"
		if strings.HasPrefix(ib.URL, "http://") {
			msg = "served over plain HTTP where there was TLS"
		}
		d.idChange(KindIdentityTLS, "identity.tls", high, []string{msg + " (was issued by " + a.Issuer + ")"}, a, nil)
		return
	case a == nil:
		d.idChange(KindIdentityTLS, "identity.tls", severity.Low, []string{"now served over TLS, certificate issued by " + b.Issuer}, nil, b)
		return
	}
	var ps parts
	if a.Issuer != b.Issuer {
		ps.add(nil, high, "certificate from a new issuer: %s -> %s", a.Issuer, b.Issuer)
	} else if a.IssuerKeyID != b.IssuerKeyID && a.IssuerKeyID != "" && b.IssuerKeyID != "" {
		ps.add(nil, high, "certificate from a new issuer: same name %s, different issuer key", b.Issuer)
	}
	if a.Subject != b.Subject {
		ps.add(nil, severity.Medium, "certificate subject changes: %s -> %s", a.Subject, b.Subject)
	}
	if !slices.Equal(setOf(a.SANs), setOf(b.SANs)) {
		added, removed := stringDiff(a.SANs, b.SANs)
		ps.add(nil, severity.Medium, "certificate names change%s%s", listNote(" adds", added), listNote(" drops", removed))
	}
	if a.KeyType != b.KeyType {
		ps.add(nil, severity.Medium, "key type changes from %s to %s", a.KeyType, b.KeyType)
	}
	if a.SPKI != b.SPKI && len(ps) == 0 {
		ps.add(nil, severity.Info, "certificate renewed by the same issuer with a new %s key", b.KeyType)
	}
	if len(ps) == 0 {
		ps.add(nil, severity.Info, "certificate details change")
	}
	d.emitParts(KindIdentityTLS, "identity.tls", ps, a, b)
}

func (d *differ) identityExecutable(a, b *manifest.Executable) {
	high := d.levels[KindIdentityExecutable]
	switch {
	case a == nil && b == nil:
		return
	case a == nil:
		d.idChange(KindIdentityExecutable, "identity.executable", high, []string{"now runs the executable " + orUnknown(b.Path)}, nil, b)
		return
	case b == nil:
		d.idChange(KindIdentityExecutable, "identity.executable", severity.Medium, []string{"no executable recorded (was " + orUnknown(a.Path) + ")"}, a, nil)
		return
	}
	var ps parts
	switch {
	case a.Path != b.Path && a.Path != "" && b.Path != "":
		ps.add(nil, high, "runs a different executable: %s -> %s", a.Path, b.Path)
	case a.SHA256 != b.SHA256 && a.SHA256 != "" && b.SHA256 != "":
		if b.Launcher != "" {
			ps.add(nil, severity.Low, "launcher %s was updated in place (the package it runs is compared separately)", b.Launcher)
		} else {
			ps.add(nil, high, "executable %s was replaced (new sha256)", b.Path)
		}
	}
	if a.Error != b.Error || (a.Path == "") != (b.Path == "") || (a.SHA256 == "") != (b.SHA256 == "") {
		msg := "executable could be resolved and hashed again"
		if b.Error != "" {
			msg = "executable could not be resolved or hashed: " + b.Error
		}
		ps.add(nil, severity.Low, "%s", msg)
	}
	if a.Command != b.Command {
		ps.add(nil, severity.Medium, "configured command changes from %q to %q", a.Command, b.Command)
	}
	if len(ps) == 0 {
		ps.add(nil, severity.Info, "executable details change")
	}
	d.emitParts(KindIdentityExecutable, "identity.executable", ps, a, b)
}

func (d *differ) identityPackage(a, b *manifest.Package) {
	high := d.levels[KindIdentityPackage]
	switch {
	case a == nil && b == nil:
		return
	case a == nil:
		d.idChange(KindIdentityPackage, "identity.package", high, []string{"now runs the launcher package " + pkgLabel(b)}, nil, b)
		return
	case b == nil:
		d.idChange(KindIdentityPackage, "identity.package", severity.Medium, []string{"no longer runs through a launcher (was " + pkgLabel(a) + ")"}, a, nil)
		return
	}
	var ps parts
	if a.Name != b.Name && a.Name != "" && b.Name != "" {
		ps.add(nil, high, "runs another package: %s -> %s", a.Name, b.Name)
	}
	switch {
	case a.Version != b.Version && a.Version != "" && b.Version != "":
		note := ""
		if floating(b) {
			req := b.Requested
			if req == "" {
				req = "latest"
			}
			note = fmt.Sprintf(" (floating %q moved silently)", req)
		}
		ps.add(nil, high, "%s version that ran moves from %s to %s%s", b.Launcher, a.Version, b.Version, note)
	case a.Version != b.Version:
		msg := "version could be determined again: " + b.Version
		if b.Version == "" {
			msg = "version that ran could not be determined"
			if b.Error != "" {
				msg += ": " + b.Error
			}
		}
		ps.add(nil, severity.Low, "%s", msg)
	case a.Integrity != b.Integrity && a.Integrity != "" && b.Integrity != "":
		ps.add(nil, high, "same version %s, different package content (integrity changed)", b.Version)
	}
	if a.Spec != b.Spec || a.Launcher != b.Launcher {
		ps.add(nil, severity.Medium, "configured package changes from %s %q to %s %q", a.Launcher, a.Spec, b.Launcher, b.Spec)
	}
	if len(ps) == 0 {
		// Only how the version was found (or an error text) changed.
		ps.add(nil, severity.Info, "package details change (found by %s)", orUnknown(b.Method))
	}
	d.emitParts(KindIdentityPackage, "identity.package", ps, a, b)
}

// floating reports whether a package's requested version can move without
// a config change: no request, a dist-tag, or a range.
func floating(p *manifest.Package) bool {
	r := p.Requested
	if r == "" || r == "latest" {
		return true
	}
	exact := true
	for _, c := range r {
		if !(c >= '0' && c <= '9' || c == '.' || c == '=' || c == 'v') {
			exact = false
		}
	}
	return !exact || strings.Count(r, ".") < 2
}

func (d *differ) oauth(a, b *manifest.OAuth) {
	status := func(o *manifest.OAuth) string {
		if o == nil {
			return ""
		}
		return o.Status
	}
	sa, sb := status(a), status(b)
	meta := d.levels[KindOAuthMetadata]
	switch {
	case a == nil && b == nil:
		return
	case sa == manifest.OAuthError && sb == manifest.OAuthError:
		if a.Error != b.Error {
			d.idChange(KindOAuthMetadata, "identity.oauth", severity.Info, []string{"OAuth metadata still cannot be fetched: " + b.Error}, a.Error, b.Error)
		}
		return
	case sb == manifest.OAuthError:
		d.idChange(KindOAuthMetadata, "identity.oauth", severity.Low, []string{"OAuth metadata could not be fetched: " + b.Error}, a, b)
		return
	case sa == manifest.OAuthError:
		d.idChange(KindOAuthMetadata, "identity.oauth", meta, []string{"OAuth metadata fetched again (" + sb + "); the baseline could not fetch it: review it"}, a, b)
		return
	case sa != manifest.OAuthPresent && sb == manifest.OAuthPresent:
		d.idChange(KindOAuthMetadata, "identity.oauth", meta, []string{"now publishes OAuth protected resource metadata at " + prmURL(b)}, nil, b.Resource)
		d.oauthDetails(&manifest.OAuth{Status: manifest.OAuthPresent, Resource: &manifest.ProtectedResource{}}, b)
		return
	case sa == manifest.OAuthPresent && sb != manifest.OAuthPresent:
		// The scopes and authorization servers went with it: one change.
		d.idChange(KindOAuthMetadata, "identity.oauth", meta, []string{"no longer publishes OAuth protected resource metadata (was at " + prmURL(a) + ")"}, a.Resource, nil)
		return
	case sa != sb:
		d.idChange(KindOAuthMetadata, "identity.oauth", severity.Info, []string{"OAuth metadata status changes from " + orUnknown(sa) + " to " + orUnknown(sb)}, sa, sb)
		return
	case sb != manifest.OAuthPresent:
		return
	}
	d.oauthDetails(a, b)
}

func prmURL(o *manifest.OAuth) string {
	if o.Resource == nil {
		return "(unknown)"
	}
	return o.Resource.MetadataURL
}

// oauthDetails compares two present OAuth surfaces.
func (d *differ) oauthDetails(a, b *manifest.OAuth) {
	ra, rb := a.Resource, b.Resource
	if ra == nil {
		ra = &manifest.ProtectedResource{}
	}
	if rb == nil {
		rb = &manifest.ProtectedResource{}
	}
	if ra.MetadataURL != "" && (ra.MetadataURL != rb.MetadataURL || ra.Resource != rb.Resource) {
		var ps parts
		if ra.Resource != rb.Resource {
			ps.add(nil, severity.Medium, "protected resource identifier changes from %q to %q", ra.Resource, rb.Resource)
		}
		if ra.MetadataURL != rb.MetadataURL {
			ps.add(nil, severity.Low, "protected resource metadata moves from %s to %s", ra.MetadataURL, rb.MetadataURL)
		}
		d.emitParts(KindOAuthMetadata, "identity.oauth.protected_resource", ps, ra, rb)
	}
	d.scopes("identity.oauth.protected_resource.scopes_supported", "protected resource", ra.ScopesSupported, rb.ScopesSupported)

	issuers := func(o *manifest.OAuth, r *manifest.ProtectedResource) map[string]*manifest.AuthorizationServer {
		m := map[string]*manifest.AuthorizationServer{}
		for _, s := range r.AuthorizationServers {
			m[s] = &manifest.AuthorizationServer{Issuer: s}
		}
		for i := range o.AuthorizationServers {
			m[o.AuthorizationServers[i].Issuer] = &o.AuthorizationServers[i]
		}
		return m
	}
	ma, mb := issuers(a, ra), issuers(b, rb)
	var ps parts
	for _, n := range unionSorted(ma, mb) {
		x, xok := ma[n]
		y, yok := mb[n]
		switch {
		case !xok:
			ps.add(nil, d.levels[KindOAuthAuthorizationServers], "new authorization server %s", n)
		case !yok:
			ps.add(nil, severity.Low, "authorization server %s removed", n)
		default:
			endpoint := func(what, p, q string) {
				if p != q {
					ps.add(nil, severity.High, "authorization server %s: %s changes from %s to %s", n, what, cmp.Or(p, "(none)"), cmp.Or(q, "(none)"))
				}
			}
			endpoint("authorization endpoint", x.AuthorizationEndpoint, y.AuthorizationEndpoint)
			endpoint("token endpoint", x.TokenEndpoint, y.TokenEndpoint)
			endpoint("registration endpoint", x.RegistrationEndpoint, y.RegistrationEndpoint)
			if x.MetadataURL != y.MetadataURL || x.Error != y.Error {
				msg := fmt.Sprintf("authorization server %s: metadata now from %s", n, cmp.Or(y.MetadataURL, "(none)"))
				if y.Error != "" {
					msg = fmt.Sprintf("authorization server %s: metadata could not be fetched: %s", n, y.Error)
				}
				ps.add(nil, severity.Low, "%s", msg)
			}
			if x.Error == "" && y.Error == "" {
				d.scopes("identity.oauth.authorization_servers."+encodeField(n)+".scopes_supported",
					"authorization server "+n, x.ScopesSupported, y.ScopesSupported)
			}
		}
	}
	if len(ps) > 0 {
		d.emitParts(KindOAuthAuthorizationServers, "identity.oauth.authorization_servers", ps, asText(ma), asText(mb))
	}
}

// asText renders authorization servers for Before and After.
func asText(m map[string]*manifest.AuthorizationServer) []manifest.AuthorizationServer {
	out := make([]manifest.AuthorizationServer, 0, len(m))
	for _, v := range m {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b manifest.AuthorizationServer) int { return strings.Compare(a.Issuer, b.Issuer) })
	return out
}

// scopes reports added (high) and removed (low) scopes of one list.
func (d *differ) scopes(path, owner string, a, b []string) {
	added, removed := stringDiff(a, b)
	if len(added) == 0 && len(removed) == 0 {
		return
	}
	var ps parts
	if len(added) > 0 {
		ps.add(nil, d.levels[KindOAuthScopes], "%s adds scope%s %s", owner, plural2(len(added)), quoteList(added))
	}
	if len(removed) > 0 {
		ps.add(nil, severity.Low, "%s removes scope%s %s", owner, plural2(len(removed)), quoteList(removed))
	}
	d.emitParts(KindOAuthScopes, path, ps, setOf(a), setOf(b))
}

func plural2(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteList(l []string) string {
	const most = 8
	q := make([]string, 0, min(len(l), most)+1)
	for i, s := range l {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(l)-most))
			break
		}
		q = append(q, "`"+s+"`")
	}
	return strings.Join(q, ", ")
}

func listNote(verb string, l []string) string {
	if len(l) == 0 {
		return ""
	}
	return verb + " " + quoteList(l)
}

// unionSorted returns the keys of a and b, sorted, each once (unionKeys,
// for map[string]any, in value.go, predates it).
func unionSorted[V any](a, b map[string]V) []string {
	out := make([]string, 0, len(a)+len(b))
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// stringDiff returns the members of b not in a, and of a not in b, sorted.
func stringDiff(a, b []string) (added, removed []string) {
	sa, sb := map[string]bool{}, map[string]bool{}
	for _, s := range a {
		sa[s] = true
	}
	for _, s := range b {
		sb[s] = true
	}
	for s := range sb {
		if !sa[s] {
			added = append(added, s)
		}
	}
	for s := range sa {
		if !sb[s] {
			removed = append(removed, s)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

func setOf(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return slices.Compact(out)
}
