package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// Bounds on identity strings taken from certificates, which the server
// chose.
const (
	maxIdentityString = 1 << 10
	maxSANs           = 100
)

// identity records who the server is, as observed during this probe
// (see manifest.Identity). Nothing here fails the probe: what cannot be
// observed is recorded as such.
func (p *prober) identity(ctx context.Context) (id *manifest.Identity) {
	defer func() {
		// Identity is an addition to a complete capture: a bug here must
		// not cost the snapshot.
		if r := recover(); r != nil {
			p.log.Error("identity capture panicked", "panic", p.redactor.Replace(fmt.Sprint(r)), "stack", string(debug.Stack()))
			id = nil
		}
	}()
	switch {
	case p.httpc != nil:
		final, cs, hint := p.httpc.observed()
		if final == nil {
			// No successful response was seen (cannot happen after a
			// complete listing); fall back to the configured URL.
			u, err := url.Parse(p.httpc.ep.public)
			if err != nil {
				return nil
			}
			final = u
		}
		id = &manifest.Identity{URL: final.String(), TLS: tlsIdentity(cs), Launch: httpLaunch(p.t)}
		id.OAuth = p.discoverOAuth(ctx, final, hint)
		if p.t.OAuth != nil {
			var supported []string
			if id.OAuth != nil && id.OAuth.Resource != nil {
				supported = id.OAuth.Resource.ScopesSupported
			}
			id.Auth = p.t.OAuth.Identity(supported)
		}
		return id
	case p.proc != nil:
		exe := executableIdentity(p.t, p.proc.exe)
		id = &manifest.Identity{Executable: exe, Launch: stdioLaunch(p.t)}
		if exe.Launcher != "" {
			id.Package = launcherPackage(p.proc.target(p.t), exe.Launcher, p.proc.pid, p.log)
		}
		return id
	}
	return nil
}

// tlsIdentity reduces a connection's leaf certificate to its identity.
func tlsIdentity(cs *tls.ConnectionState) *manifest.TLSIdentity {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil
	}
	c := cs.PeerCertificates[0]
	spki := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	t := &manifest.TLSIdentity{
		Subject:     clip(c.Subject.String()),
		Issuer:      clip(c.Issuer.String()),
		IssuerKeyID: hex.EncodeToString(c.AuthorityKeyId),
		SANs:        []string{},
		SPKI:        "sha256:" + hex.EncodeToString(spki[:]),
		KeyType:     keyType(c.PublicKey, c.PublicKeyAlgorithm.String()),
	}
	add := func(kind, v string) {
		if len(t.SANs) < maxSANs {
			t.SANs = append(t.SANs, kind+":"+clip(v))
		}
	}
	for _, n := range c.DNSNames {
		add("DNS", n)
	}
	for _, ip := range c.IPAddresses {
		add("IP", ip.String())
	}
	for _, u := range c.URIs {
		add("URI", u.String())
	}
	for _, e := range c.EmailAddresses {
		add("email", e)
	}
	return t
}

// keyType names a public key's algorithm and size: the "key policy" a
// renewal is expected to keep.
func keyType(pub any, fallback string) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fallback
}

func clip(s string) string {
	if len(s) <= maxIdentityString {
		return s
	}
	return s[:maxIdentityString] + "..."
}

// resourceMetadataHint extracts the resource_metadata parameter of a
// WWW-Authenticate challenge (RFC 9728 section 5.1), or "".
func resourceMetadataHint(h string) string {
	lower := strings.ToLower(h)
	i := strings.Index(lower, "resource_metadata")
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(h[i+len("resource_metadata"):], " \t")
	rest, ok := strings.CutPrefix(rest, "=")
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " \t")
	var v string
	if q, ok := strings.CutPrefix(rest, `"`); ok {
		end := strings.IndexByte(q, '"')
		if end < 0 {
			return ""
		}
		v = q[:end]
	} else {
		end := strings.IndexAny(rest, ", \t")
		if end < 0 {
			end = len(rest)
		}
		v = rest[:end]
	}
	if len(v) > maxIdentityString {
		return ""
	}
	return v
}

// logIdentityProblem logs, at debug, why part of an identity is missing.
func logIdentityProblem(log *slog.Logger, what, problem string) {
	if problem != "" {
		log.Debug("identity incomplete", "part", what, "problem", problem)
	}
}
