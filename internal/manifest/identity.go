package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Identity is who a server is, as the probe observed it rather than as the
// server describes itself (serverInfo is self-reported and never trusted as
// identity): where an HTTP server really answered and with which
// certificate, which executable and launcher package a stdio server really
// ran, how it was launched (arguments, working directory, environment
// variable names; the configured URL and header names), and the OAuth
// permission surface it publishes. It is the top-level
// "identity" object of a format 2 document and is compared like any other
// part of a manifest.
//
// Every string in it may come from a hostile server (certificate names,
// OAuth metadata) and must be escaped before it is shown.
type Identity struct {
	// URL is an HTTP server's final URL after redirects: scheme, host and
	// path, never userinfo or query.
	URL string `json:"url,omitempty"`
	// TLS is the leaf certificate the final URL was served with; nil for
	// plain HTTP and for stdio.
	TLS *TLSIdentity `json:"tls,omitempty"`
	// Executable is the stdio command as resolved and hashed.
	Executable *Executable `json:"executable,omitempty"`
	// Package is the launcher package that ran (npx, uvx, pipx), if the
	// command is such a launcher.
	Package *Package `json:"package,omitempty"`
	// OAuth is the published OAuth permission surface of an HTTP server.
	OAuth *OAuth `json:"oauth,omitempty"`
	// Launch is how the server was configured to be started or reached;
	// nil when not recorded (a snapshot from before launch identity), an
	// empty object when recorded and empty.
	Launch *Launch `json:"launch,omitempty"`
	// Auth is how mcpdrift authenticated to an OAuth-protected server:
	// the mode, the authorization server and the scopes requested and
	// granted. Never a token, client secret or code.
	Auth *Auth `json:"auth,omitempty"`
}

// Auth is the OAuth grant a probe ran under (see internal/oauth).
type Auth struct {
	// Mode is "client_credentials" or "authorization_code".
	Mode string `json:"mode"`
	// Issuer is the authorization server the token came from.
	Issuer string `json:"issuer"`
	// Requested are the configured scopes, exactly what was asked for.
	Requested []string `json:"requested_scopes"`
	// Granted are the scopes the authorization server granted.
	Granted []string `json:"granted_scopes"`
	// Unrequested are scopes the server asks for beyond Requested: its
	// published scopes_supported and any insufficient_scope challenge.
	Unrequested []string `json:"unrequested_scopes,omitempty"`
}

// LaunchEnvExternal is the value recorded for an environment variable
// whose value comes from mcpdrift's own environment (${VAR}) or a file
// (env_files): a credential by the config's convention, so neither its
// value nor a hash of it is recorded, and rotating it is not a change.
const LaunchEnvExternal = "external"

// LaunchEnvHashPrefix starts the recorded fingerprint of an environment
// variable whose value is written in the config itself.
const LaunchEnvHashPrefix = "hmac-sha256:"

// Launch is the part of a server's configuration an approval covers beyond
// its executable: for a stdio server the arguments, working directory and
// environment variable names (for the filesystem server, the directory in
// args is the permission); for an HTTP server the configured URL and the
// names of the headers sent. The command itself is Executable.Command.
// Values that may be credentials are never recorded in clear (see
// LaunchEnvExternal, LaunchEnvHashPrefix).
type Launch struct {
	// Args are the stdio arguments as configured (after ${VAR}
	// expansion), with the values of credential variables redacted.
	Args []string `json:"args,omitempty"`
	// Cwd is the configured working directory; "" means mcpdrift's own.
	Cwd string `json:"cwd,omitempty"`
	// Env maps each configured variable name to LaunchEnvExternal or to
	// LaunchEnvHashPrefix and a keyed hash of its value.
	Env map[string]string `json:"env,omitempty"`
	// URL is the configured URL of an HTTP server, without userinfo and
	// fragment, every query value replaced by REDACTED.
	URL string `json:"url,omitempty"`
	// Headers are the names of the configured headers, canonical case,
	// sorted; their values are credentials and never recorded.
	Headers []string `json:"headers,omitempty"`
}

// TLSIdentity is a leaf certificate, reduced to what identifies its owner
// and issuer. Validity dates and serial numbers are left out on purpose: a
// renewal changes them and is not, by itself, a change of identity.
type TLSIdentity struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	// IssuerKeyID is the hex authority key identifier: it tells two CAs
	// with the same name apart.
	IssuerKeyID string   `json:"issuer_key_id,omitempty"`
	SANs        []string `json:"sans"`
	// SPKI is "sha256:" and the hex digest of the SubjectPublicKeyInfo,
	// the value key pinning (trust.tls_spki) compares.
	SPKI string `json:"spki"`
	// KeyType is the key algorithm and size, e.g. "ECDSA P-256", "RSA 2048".
	KeyType string `json:"key_type"`
}

// Executable is a stdio server's command as it was run.
type Executable struct {
	// Command is the command as configured.
	Command string `json:"command"`
	// Path is the resolved absolute path with symlinks evaluated.
	Path string `json:"path,omitempty"`
	// SHA256 is "sha256:" and the hex digest of the file at Path.
	SHA256 string `json:"sha256,omitempty"`
	// Launcher is "npx", "uvx" or "pipx" when the command is one.
	Launcher string `json:"launcher,omitempty"`
	// Error says why Path or SHA256 is missing.
	Error string `json:"error,omitempty"`
}

// Package is the package a launcher (npx, uvx, pipx) ran.
type Package struct {
	Launcher string `json:"launcher"`
	// Spec is the package argument as configured, e.g.
	// "@modelcontextprotocol/server-filesystem@latest".
	Spec string `json:"spec"`
	// Name is the package name, when it could be told.
	Name string `json:"name,omitempty"`
	// Requested is the version, range or tag asked for ("" means the
	// launcher's default, i.e. latest).
	Requested string `json:"requested,omitempty"`
	// Version is the version that actually ran; "" when it could not be
	// determined (see Error).
	Version string `json:"version,omitempty"`
	// Integrity is the installed tarball's integrity string when the
	// package manager recorded one (npm's package-lock).
	Integrity string `json:"integrity,omitempty"`
	// Method says how Version was found: "process" (read from the running
	// server's process tree) or "npx-cache" (the npx cache entry for Spec).
	Method string `json:"method,omitempty"`
	Error  string `json:"error,omitempty"`
}

// OAuth statuses.
const (
	// OAuthAbsent: no protected resource metadata is published.
	OAuthAbsent = "absent"
	// OAuthPresent: protected resource metadata was fetched.
	OAuthPresent = "present"
	// OAuthError: the metadata could not be fetched (network, 5xx, too
	// large); nothing is known.
	OAuthError = "error"
)

// OAuth is a server's OAuth 2.0 protected resource metadata (RFC 9728) and
// the metadata of the authorization servers it names (RFC 8414 or OpenID
// Connect discovery). Only public metadata: no token is ever requested.
type OAuth struct {
	Status   string             `json:"status"`
	Error    string             `json:"error,omitempty"`
	Resource *ProtectedResource `json:"protected_resource,omitempty"`
	// AuthorizationServers has one entry per authorization server the
	// resource names, sorted by issuer.
	AuthorizationServers []AuthorizationServer `json:"authorization_servers,omitempty"`
}

// ProtectedResource is the part of RFC 9728 metadata that defines the
// permission surface.
type ProtectedResource struct {
	MetadataURL          string   `json:"metadata_url"`
	Resource             string   `json:"resource"`
	AuthorizationServers []string `json:"authorization_servers"`
	ScopesSupported      []string `json:"scopes_supported"`
}

// AuthorizationServer is the part of RFC 8414 metadata that defines where
// tokens come from and what they may grant.
type AuthorizationServer struct {
	// Issuer is the authorization server as the protected resource names
	// it.
	Issuer                string   `json:"issuer"`
	MetadataURL           string   `json:"metadata_url,omitempty"`
	AuthorizationEndpoint string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint         string   `json:"token_endpoint,omitempty"`
	RegistrationEndpoint  string   `json:"registration_endpoint,omitempty"`
	ScopesSupported       []string `json:"scopes_supported,omitempty"`
	Error                 string   `json:"error,omitempty"`
}

// IsZero reports whether nothing was recorded.
func (id *Identity) IsZero() bool {
	return id == nil || (id.URL == "" && id.TLS == nil && id.Executable == nil && id.Package == nil && id.OAuth == nil && id.Launch == nil && id.Auth == nil)
}

// normalize sorts and de-duplicates every list whose order means nothing,
// so the same identity always has the same canonical bytes.
func (id *Identity) normalize() *Identity {
	c := *id
	if id.TLS != nil {
		t := *id.TLS
		t.SANs = SetOf(t.SANs)
		c.TLS = &t
	}
	if id.OAuth != nil {
		o := *id.OAuth
		if o.Resource != nil {
			r := *o.Resource
			r.AuthorizationServers = SetOf(r.AuthorizationServers)
			r.ScopesSupported = SetOf(r.ScopesSupported)
			o.Resource = &r
		}
		as := make([]AuthorizationServer, len(o.AuthorizationServers))
		for i, a := range o.AuthorizationServers {
			a.ScopesSupported = SetOf(a.ScopesSupported)
			as[i] = a
		}
		slices.SortStableFunc(as, func(a, b AuthorizationServer) int { return strings.Compare(a.Issuer, b.Issuer) })
		if len(as) == 0 {
			as = nil
		}
		o.AuthorizationServers = as
		c.OAuth = &o
	}
	if id.Auth != nil {
		a := *id.Auth
		a.Requested, a.Granted = SetOf(a.Requested), SetOf(a.Granted)
		if a.Unrequested = SetOf(a.Unrequested); len(a.Unrequested) == 0 {
			a.Unrequested = nil
		}
		c.Auth = &a
	}
	if id.Launch != nil {
		l := *id.Launch
		if len(l.Headers) > 0 {
			l.Headers = SetOf(l.Headers)
		}
		c.Launch = &l
	}
	return &c
}

// SetOf returns the sorted distinct strings of l, never nil: the form
// the identity keeps its sets in (and internal/oauth its scopes).
func SetOf(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// canonicalIdentity returns the canonical JSON of id, or nil when nothing
// was recorded.
func canonicalIdentity(id *Identity) (json.RawMessage, error) {
	if id.IsZero() {
		return nil, nil
	}
	b, err := json.Marshal(id.normalize())
	if err != nil {
		return nil, fmt.Errorf("%w: identity: %w", ErrMalformed, err)
	}
	return Canonicalize(b)
}

// DecodeIdentity reads an identity object (Manifest.Identity). Empty input
// gives nil. A malformed object is an error; callers comparing hostile or
// hand-edited documents decide what that means.
func DecodeIdentity(raw json.RawMessage) (*Identity, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var id Identity
	if err := json.Unmarshal(raw, &id); err != nil {
		return nil, fmt.Errorf("%w: identity: %w", ErrMalformed, err)
	}
	return &id, nil
}
