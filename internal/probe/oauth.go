package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// OAuth metadata discovery bounds. Metadata is public, small and served
// fast; anything else is recorded as an error, never waited for.
const (
	oauthBudget         = 10 * time.Second // the whole discovery, within the probe deadline
	oauthRequestTimeout = 5 * time.Second  // one GET
	oauthMinTime        = 500 * time.Millisecond
	oauthMaxBody        = 256 << 10
	oauthMaxRedirects   = 3
	drainBytes          = 4 << 10 // of an error body, to keep the connection
	oauthMaxAuthServers = 4       // whose metadata is fetched
	oauthMaxListed      = 16      // authorization servers recorded
	oauthMaxScopes      = 256     // per list
	oauthMaxScopeLen    = 256
)

const (
	wellKnownResource = "/.well-known/oauth-protected-resource"
	wellKnownAS       = "/.well-known/oauth-authorization-server"
	wellKnownOIDC     = "/.well-known/openid-configuration"
)

// errNotFound marks a metadata URL that does not serve metadata (any 4xx,
// or a 200 that is not a JSON object, as catch-all web apps send).
var errNotFound = errors.New("no metadata")

// discoverOAuth fetches the OAuth 2.0 Protected Resource Metadata of the
// server at final (RFC 9728) and the metadata of the authorization servers
// it names (RFC 8414, falling back to OpenID Connect discovery). It only
// ever sends GETs without credentials to well-known metadata URLs (and a
// same-origin resource_metadata hint): no token, client registration or
// authorization request is ever made. Every request obeys the OAuth
// discovery rule (netrule.go): a URL it refuses is recorded as "not
// fetched: <why>", and nothing is sent. Failures are recorded, not
// returned.
func (p *prober) discoverOAuth(ctx context.Context, final *url.URL, hint string) *manifest.OAuth {
	budget := oauthBudget
	if d, ok := ctx.Deadline(); ok {
		// Leave time for closing the session and the process.
		budget = min(budget, time.Until(d)/2)
	}
	if budget < oauthMinTime {
		return &manifest.OAuth{Status: manifest.OAuthError, Error: "not fetched: too little time left before the probe deadline"}
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	f := &metadataFetcher{client: p.metadataClient(), log: p.log,
		final: final, server: p.httpc.serverClass(ctx, final)}

	var candidates []string
	if hint != "" {
		if u, err := url.Parse(hint); err == nil && sameHost(u, final) {
			candidates = append(candidates, hint)
		} else {
			p.log.Debug("resource_metadata hint on another origin not followed", "hint_host", hostOf(hint))
		}
	}
	origin := originOf(final)
	if path := strings.TrimSuffix(final.EscapedPath(), "/"); path != "" {
		candidates = append(candidates, origin+wellKnownResource+path)
	}
	candidates = append(candidates, origin+wellKnownResource)

	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	at, err := f.first(ctx, slices.Compact(candidates), &prm)
	switch {
	case errors.Is(err, errNotFound):
		return &manifest.OAuth{Status: manifest.OAuthAbsent}
	case err != nil:
		return &manifest.OAuth{Status: manifest.OAuthError, Error: err.Error()}
	}
	res := &manifest.ProtectedResource{
		MetadataURL:          at,
		Resource:             clip(prm.Resource),
		AuthorizationServers: boundList(prm.AuthorizationServers, oauthMaxListed, maxIdentityString),
		ScopesSupported:      boundList(prm.ScopesSupported, oauthMaxScopes, oauthMaxScopeLen),
	}
	o := &manifest.OAuth{Status: manifest.OAuthPresent, Resource: res}
	for i, issuer := range setOfStrings(res.AuthorizationServers) {
		as := manifest.AuthorizationServer{Issuer: issuer}
		if i >= oauthMaxAuthServers {
			as.Error = fmt.Sprintf("not fetched: only the first %d authorization servers are", oauthMaxAuthServers)
		} else {
			f.authorizationServer(ctx, final, &as)
		}
		o.AuthorizationServers = append(o.AuthorizationServers, as)
	}
	return o
}

// authorizationServer fills as from its issuer's metadata.
func (f *metadataFetcher) authorizationServer(ctx context.Context, resource *url.URL, as *manifest.AuthorizationServer) {
	u, err := url.Parse(as.Issuer)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		as.Error = "not fetched: issuer is not an http(s) URL"
		return
	case u.Scheme == "http" && resource.Scheme == "https":
		as.Error = "not fetched: plain HTTP issuer for an HTTPS resource"
		return
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		as.Error = "not fetched: issuer has userinfo, query or fragment"
		return
	}
	origin := originOf(u)
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	var candidates []string
	if path == "" {
		candidates = []string{origin + wellKnownAS, origin + wellKnownOIDC}
	} else {
		candidates = []string{origin + wellKnownAS + path, origin + wellKnownOIDC + path, origin + path + wellKnownOIDC}
	}
	var md struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		RegistrationEndpoint  string   `json:"registration_endpoint"`
		ScopesSupported       []string `json:"scopes_supported"`
	}
	at, err := f.first(ctx, candidates, &md)
	switch {
	case errors.Is(err, errNotFound):
		as.Error = "no authorization server metadata found"
		return
	case err != nil:
		as.Error = err.Error()
		return
	}
	as.MetadataURL = at
	as.AuthorizationEndpoint = clip(md.AuthorizationEndpoint)
	as.TokenEndpoint = clip(md.TokenEndpoint)
	as.RegistrationEndpoint = clip(md.RegistrationEndpoint)
	as.ScopesSupported = boundList(md.ScopesSupported, oauthMaxScopes, oauthMaxScopeLen)
	if strings.TrimSuffix(md.Issuer, "/") != strings.TrimSuffix(as.Issuer, "/") {
		// RFC 8414 section 3.3: such metadata must not be used. It is kept,
		// so the reviewer sees what was served.
		as.Error = fmt.Sprintf("metadata names issuer %q, not the issuer it was fetched for", clip(md.Issuer))
	}
}

// metadataFetcher GETs metadata documents for the MCP server at final, on
// a network of class server.
type metadataFetcher struct {
	client *http.Client
	log    *slog.Logger
	final  *url.URL
	server netClass
}

// first decodes the first candidate URL that serves a metadata object into
// v and returns that URL. It returns errNotFound when none does, and the
// first real failure (network, 5xx, too large, malformed) when one
// happened and none served metadata.
func (f *metadataFetcher) first(ctx context.Context, candidates []string, v any) (string, error) {
	var firstErr error
	for _, c := range candidates {
		err := f.get(ctx, c, v)
		if err == nil {
			return redactURL(c), nil
		}
		f.log.Debug("oauth metadata", "url", redactURL(c), "result", err.Error())
		if !errors.Is(err, errNotFound) && firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr != nil {
		return "", firstErr
	}
	return "", errNotFound
}

func (f *metadataFetcher) get(ctx context.Context, raw string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, oauthRequestTimeout)
	defer cancel()
	shown := redactURL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("GET %s: invalid URL", shown)
	}
	// Redirects keep the context, and are never to another origin: one
	// policy holds for the whole request.
	ctx = withFetchPolicy(ctx, fetchPolicy{server: f.server, own: sameHost(u, f.final), overTLS: u.Scheme == "https"})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return fmt.Errorf("GET %s: invalid URL", shown)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		if refused := (*refusedError)(nil); errors.As(err, &refused) {
			return refused
		}
		return fmt.Errorf("GET %s: %s", shown, fetchErrorClass(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Read the (short) error body, so that the connection goes back to
		// the pool for the next request instead of being closed.
		_, _ = io.CopyN(io.Discard, resp.Body, drainBytes)
	}
	switch {
	case resp.StatusCode/100 == 4:
		return fmt.Errorf("%w: status %d", errNotFound, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("GET %s: status %d", shown, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, oauthMaxBody+1))
	if err != nil {
		return fmt.Errorf("GET %s: reading body: %s", shown, fetchErrorClass(err))
	}
	if len(body) > oauthMaxBody {
		return fmt.Errorf("GET %s: metadata larger than %d bytes", shown, oauthMaxBody)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil || obj == nil {
		return fmt.Errorf("%w: not a JSON object", errNotFound)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: malformed metadata (a field has the wrong type)", shown)
	}
	return nil
}

// metadataClient is an HTTP client over the probe's own transport (same
// TLS configuration, proxy and dial timeouts, and the dialer that enforces
// the OAuth discovery rule) that can only GET, sends the probe's
// User-Agent and no configured header or credential, follows at most
// oauthMaxRedirects redirects, only within the origin first asked (so
// never from HTTPS down to plain HTTP either).
func (p *prober) metadataClient() *http.Client {
	return &http.Client{
		Transport: &getOnly{base: p.httpc.base, ua: p.httpc.ua, classify: p.httpc.classify},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > oauthMaxRedirects {
				return fmt.Errorf("more than %d redirects", oauthMaxRedirects)
			}
			if !sameHost(req.URL, via[0].URL) {
				return &refusedError{reason: "redirected to another origin"}
			}
			return nil
		},
	}
}

// getOnly refuses every request but a GET, so no code path of metadata
// discovery can ever ask for a token, and every request without a
// fetchPolicy or that the OAuth discovery rule refuses on its URL (a
// cloud metadata name, an IP literal; or, through a proxy, what its name
// resolves to here). The dialer checks the rest.
type getOnly struct {
	base     *http.Transport
	ua       string
	classify addrClassifier
}

func (g *getOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		return nil, newKindError(ErrForbiddenMethod, "metadata discovery refused to send a %s request", req.Method)
	}
	pol, ok := req.Context().Value(fetchPolicyKey{}).(fetchPolicy)
	if !ok {
		return nil, &refusedError{reason: "no discovery policy (a bug)"}
	}
	ctx, err := guard(req, pol, g.classify, g.base.Proxy)
	if err != nil {
		return nil, err
	}
	out := req.Clone(ctx)
	out.Header = http.Header{"Accept": {"application/json"}, "User-Agent": {g.ua}}
	return g.base.RoundTrip(out)
}

// fetchErrorClass describes a fetch failure in a few stable words: the
// text becomes part of the snapshot, so it must not vary between runs.
func fetchErrorClass(err error) string {
	var (
		ne  net.Error
		ue  *x509.UnknownAuthorityError
		he  x509.HostnameError
		ce  x509.CertificateInvalidError
		dns *net.DNSError
		rec *tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &ue), errors.As(err, &he), errors.As(err, &ce):
		return "certificate not trusted"
	case errors.As(err, &rec):
		return "TLS handshake failed"
	case errors.As(err, &dns):
		return "host not found"
	case strings.Contains(err.Error(), "redirect"):
		var ue *url.Error
		if errors.As(err, &ue) {
			return escapeText(ue.Err.Error())
		}
		return "too many redirects"
	case errors.Is(err, ErrForbiddenMethod):
		return "refused"
	}
	return "request failed"
}

// redactURL drops userinfo, query and fragment from a URL for recording.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return clip((&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String())
}

// originOf is scheme://host of u, escaped (an IPv6 zone's "%" included).
func originOf(u *url.URL) string {
	return (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return ""
}

// boundList keeps at most n strings of at most size bytes each.
func boundList(l []string, n, size int) []string {
	out := make([]string, 0, min(len(l), n))
	for _, s := range l {
		if len(out) == n {
			break
		}
		if len(s) <= size {
			out = append(out, s)
		}
	}
	return out
}

func setOfStrings(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return slices.Compact(out)
}
