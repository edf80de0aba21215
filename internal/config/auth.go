package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// OAuth modes of a server's auth block. Static headers need no block:
// headers and header_files are sent as they are.
const (
	// AuthClientCredentials is the OAuth client credentials grant with a
	// pre-registered confidential client (service accounts).
	AuthClientCredentials = "client_credentials"
	// AuthAuthorizationCode is the authorization code grant with PKCE,
	// done once by a person (mcpdrift auth login), then refreshed.
	AuthAuthorizationCode = "authorization_code"
)

var authModes = []string{AuthClientCredentials, AuthAuthorizationCode}

// AuthSettings are the top-level auth settings.
type AuthSettings struct {
	// KeyFile holds the 32-byte key (raw, or base64) that seals stored
	// OAuth grants; a systemd credential path works. Without it, no
	// OAuth grant is ever stored, so OAuth servers cannot be checked.
	KeyFile string `yaml:"key_file,omitempty"`
}

// ServerAuth is how mcpdrift obtains an OAuth access token for an HTTP
// server (docs/auth.md).
type ServerAuth struct {
	// Mode is AuthClientCredentials or AuthAuthorizationCode.
	Mode string `yaml:"mode"`
	// Scopes are requested exactly; nothing the server publishes or
	// challenges for is added.
	Scopes []string `yaml:"scopes,omitempty"`
	// ClientID and ClientSecret are a pre-registered client (required for
	// client credentials; optional for authorization code, else DCR).
	ClientID     string `yaml:"client_id,omitempty"`
	ClientSecret Secret `yaml:"client_secret,omitempty" twin:"client_secret_file"`
	// ClientMetadataURL is a Client ID Metadata Document URL, used first
	// when the authorization server supports such documents.
	ClientMetadataURL string `yaml:"client_metadata_url,omitempty"`
	// Issuer, when set, is the only authorization server accepted.
	Issuer string `yaml:"issuer,omitempty"`
	// RedirectPort is the loopback port of auth login's redirect
	// listener (for a client registered with a fixed redirect URI); 0
	// picks a free one.
	RedirectPort int `yaml:"redirect_port,omitempty"`
}

// checkAuth validates a server's auth block.
func (d *decoder) checkAuth(path string, s *Server, keyFile string) {
	a := s.Auth
	if a == nil {
		return
	}
	at := func(k string) string { return path + ".auth." + k }
	if s.URL == "" {
		d.report(path+".auth", "only valid for HTTP servers")
		return
	}
	switch {
	case a.Mode == "":
		d.reportf(at("mode"), "required (use %s)", strings.Join(authModes, " or "))
	case !slices.Contains(authModes, a.Mode):
		d.reportf(at("mode"), "unknown mode %s (use %s)", d.quoteAt(at("mode"), a.Mode), strings.Join(authModes, " or "))
	}
	for k := range s.Headers {
		if strings.EqualFold(k, "Authorization") {
			d.report(path+".headers."+k, "cannot be used with auth: the OAuth access token is the Authorization header")
		}
	}
	if keyFile == "" {
		d.report(path+".auth", "needs auth.key_file: OAuth grants are stored only encrypted")
	}
	for i, sc := range a.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			d.reportf(fmt.Sprintf("%s[%d]", at("scopes"), i), "%s is not a valid scope", quoteText(sc))
		}
	}
	if a.Mode == AuthClientCredentials {
		if a.ClientID == "" {
			d.report(at("client_id"), "required for client_credentials")
		}
		if !a.ClientSecret.IsSet() && !d.present(at("client_secret_file")) {
			d.report(at("client_secret"), "required for client_credentials (or client_secret_file)")
		}
		if a.ClientMetadataURL != "" {
			d.report(at("client_metadata_url"), "only used by authorization_code")
		}
	}
	if a.ClientSecret.IsSet() && a.ClientID == "" {
		d.report(at("client_id"), "required with client_secret")
	}
	if u := a.ClientMetadataURL; u != "" {
		if pu, err := url.Parse(u); err != nil || pu.Scheme != "https" || strings.Trim(pu.Path, "/") == "" {
			d.report(at("client_metadata_url"), "must be an https URL with a path")
		}
	}
	if u := a.Issuer; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			d.report(at("issuer"), "must be an http(s) URL")
		}
	}
	if a.RedirectPort < 0 || a.RedirectPort > 65535 {
		d.report(at("redirect_port"), "must be between 0 and 65535")
	}
}
