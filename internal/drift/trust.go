package drift

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// Trust is a server's trust policy: what its observed identity and tools
// must be. An empty field checks nothing.
type Trust struct {
	// Hosts the final URL may be on: "example.com" (any port),
	// "example.com:8443", or "*.example.com" (any subdomain, not the apex).
	Hosts []string
	// TLSIssuer is the leaf certificate's issuer, exactly as recorded
	// (identity.tls.issuer, e.g. "CN=R11,O=Let's Encrypt,C=US").
	TLSIssuer string
	// TLSSPKI pins the leaf key: "sha256:<hex>" values, one must match.
	TLSSPKI []string
	// AuthorizationServers the server may name (issuer URLs; a trailing
	// slash is ignored).
	AuthorizationServers []string
	// Scopes the protected resource may support.
	Scopes []string
	// MaxRisk, when set, is the riskiest group any tool may be in.
	MaxRisk *Risk
}

// IsZero reports whether the policy checks nothing.
func (t Trust) IsZero() bool {
	return len(t.Hosts) == 0 && t.TLSIssuer == "" && len(t.TLSSPKI) == 0 &&
		len(t.AuthorizationServers) == 0 && len(t.Scopes) == 0 && t.MaxRisk == nil
}

// Violations checks one manifest against a trust policy and returns one
// policy.violation change per breach (critical unless p.Severity says
// otherwise). It looks at the manifest alone, not at a baseline, so a
// caller evaluates it on every snapshot, changed or not: a violation stays
// reported until the server or the policy changes, and approving a
// baseline does not silence it.
//
// A part of the identity the policy needs but the snapshot lacks (a
// snapshot taken before identity was recorded, plain HTTP under a TLS
// rule) is a violation: what cannot be verified is not trusted. OAuth
// metadata that could not be fetched is not: nothing is known, and the
// fetch failure is reported as an oauth.metadata change.
func Violations(m *manifest.Manifest, t Trust, p Policy) []report.Change {
	if m == nil || t.IsZero() {
		return nil
	}
	d := newDiffer(p)
	id, err := manifest.DecodeIdentity(m.Identity)
	if err != nil || id == nil {
		id = &manifest.Identity{}
	}
	v := func(path, format string, args ...any) {
		c := report.Change{
			Kind:    KindPolicyViolation,
			Entity:  EntityServer,
			Path:    path,
			Summary: oneLine("server: violates " + path + ": " + fmt.Sprintf(format, args...)),
		}
		d.finish(&c, d.levels[KindPolicyViolation], "", "", false)
	}

	if len(t.Hosts) > 0 {
		u, err := url.Parse(id.URL)
		switch {
		case id.URL == "" || err != nil || u.Host == "":
			v("trust.hosts", "final URL not recorded, so its host cannot be verified")
		case !hostAllowed(u, t.Hosts):
			v("trust.hosts", "final URL %s is on host %s, not one of %s", id.URL, u.Host, strings.Join(t.Hosts, ", "))
		}
	}
	if t.TLSIssuer != "" {
		switch {
		case id.TLS == nil:
			v("trust.tls_issuer", "no TLS certificate (served over plain HTTP or not recorded); want issuer %s", t.TLSIssuer)
		case id.TLS.Issuer != t.TLSIssuer:
			v("trust.tls_issuer", "certificate issued by %s, want %s", id.TLS.Issuer, t.TLSIssuer)
		}
	}
	if len(t.TLSSPKI) > 0 {
		switch {
		case id.TLS == nil:
			v("trust.tls_spki", "no TLS certificate (served over plain HTTP or not recorded) to match the pinned keys")
		case !slices.ContainsFunc(t.TLSSPKI, func(pin string) bool { return strings.EqualFold(pin, id.TLS.SPKI) }):
			v("trust.tls_spki", "certificate key %s matches no pinned key", id.TLS.SPKI)
		}
	}
	if o := id.OAuth; o != nil && o.Status == manifest.OAuthPresent {
		if len(t.AuthorizationServers) > 0 {
			for _, as := range oauthIssuers(o) {
				if !slices.ContainsFunc(t.AuthorizationServers, func(a string) bool { return sameIssuer(a, as) }) {
					v("trust.authorization_servers", "authorization server %s is not trusted", as)
				}
			}
		}
		if len(t.Scopes) > 0 && o.Resource != nil {
			var extra []string
			for _, s := range setOf(o.Resource.ScopesSupported) {
				if !slices.Contains(t.Scopes, s) {
					extra = append(extra, s)
				}
			}
			if len(extra) > 0 {
				v("trust.scopes", "scope%s %s not allowed", plural2(len(extra)), quoteList(extra))
			}
		}
	}
	if t.MaxRisk != nil {
		for _, e := range m.Entities[manifest.KindTool] {
			r := RiskOf(e.JSON)
			if r.Exceeds(*t.MaxRisk) {
				v("trust.max_risk", "tool `%s` is %s, above %s", escape.Truncate(e.Key, maxSummaryKey), r, maxRiskLabel(*t.MaxRisk))
			}
		}
	}
	return d.out
}

// maxRiskLabel says what a trust.max_risk level allows, where the name
// alone would not: writes and destructive allow writing tools in a closed
// world only.
func maxRiskLabel(r Risk) string {
	if r == RiskWrites || r == RiskDestructive {
		return r.String() + " (closed world)"
	}
	return r.String()
}

// oauthIssuers lists every authorization server a surface names.
func oauthIssuers(o *manifest.OAuth) []string {
	var out []string
	if o.Resource != nil {
		out = append(out, o.Resource.AuthorizationServers...)
	}
	for _, a := range o.AuthorizationServers {
		out = append(out, a.Issuer)
	}
	return setOf(out)
}

func sameIssuer(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(b, "/"))
}

// hostAllowed matches a URL's host against trust.hosts entries.
func hostAllowed(u *url.URL, hosts []string) bool {
	name, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		hp := ""
		if hh, pp, err := net.SplitHostPort(h); err == nil {
			h, hp = hh, pp
		}
		if hp != "" && hp != port {
			continue
		}
		if rest, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(name, "."+rest) {
				return true
			}
			continue
		}
		if strings.Trim(h, "[]") == name {
			return true
		}
	}
	return false
}
