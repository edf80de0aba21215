package oauth

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
)

// Provider makes the probe's Authorizer of each OAuth server from the
// Vault. The daemon and check use one; a Session lives for one probe and
// reads the stored grant anew, so a login made meanwhile is picked up.
type Provider struct {
	Vault  *Vault
	Logger *slog.Logger
	Now    func() time.Time
}

// Authorizer returns the session of s for one probe, or nil when s has no
// auth block.
func (p *Provider) Authorizer(s *config.Server, tc *tls.Config) (probe.Authorizer, error) {
	if s.Auth == nil {
		return nil, nil
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := p.Now
	if now == nil {
		now = time.Now
	}
	sess := &Session{vault: p.Vault, srv: s, client: httpClient(tc), log: log.With("component", "oauth", "server", s.Name), now: now}
	if s.Auth.Mode == config.AuthClientCredentials {
		sec, err := s.Auth.ClientSecret.Reveal()
		if err != nil {
			return nil, fmt.Errorf("auth.client_secret: %w", err)
		}
		sess.secret = sec
	}
	return sess, nil
}

// Session is one probe's OAuth session with one server (probe.Authorizer).
type Session struct {
	vault  *Vault
	srv    *config.Server
	secret string // client credentials' client secret
	client *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	rec        *Record
	tok        *oauth2.Token
	challenged []string
}

var _ probe.Authorizer = (*Session)(nil)

// Token returns a valid access token: the stored one, else a refreshed one
// (authorization code) or a new one (client credentials), stored sealed
// before it is used.
func (s *Session) Token(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Within one probe the token got at its start is used as long as it
	// has not expired, even inside oauth2's early-refresh margin: one
	// refresh per probe, not one per request.
	if t := s.tok; t != nil && (t.Expiry.IsZero() || s.now().Before(t.Expiry)) {
		return t, nil
	}
	if s.rec == nil {
		rec, err := s.vault.Load(s.srv.Name)
		if err != nil {
			return nil, fmt.Errorf("stored grant: %w", err)
		}
		s.rec = rec
	}
	if s.srv.Auth.Mode == config.AuthClientCredentials {
		return s.clientCredentials(ctx)
	}
	return s.refresh(ctx)
}

func (s *Session) refresh(ctx context.Context) (*oauth2.Token, error) {
	rec := s.rec
	switch {
	case rec == nil || rec.Token == nil:
		return nil, authRequired(s.srv.Name, config.AuthAuthorizationCode, "not logged in")
	case rec.NeedsLogin:
		// Refused before: asking again would only repeat the refusal.
		return nil, authRequired(s.srv.Name, rec.Mode, "the stored grant was refused ("+rec.LastError+")")
	}
	if rec.Token.Valid() {
		s.tok = rec.Token
		return s.tok, nil
	}
	cfg := &oauth2.Config{
		ClientID: rec.ClientID, ClientSecret: rec.ClientSecret,
		Endpoint: oauth2.Endpoint{AuthURL: rec.AuthURL, TokenURL: rec.TokenURL, AuthStyle: rec.AuthStyle},
		Scopes:   rec.Requested,
	}
	// A token source per refresh: it keeps the context it is given, and
	// this one is the request's.
	tok, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, withResource(s.client, rec.TokenURL, rec.Resource)), rec.Token).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			// The authorization server could not be reached: a failed
			// check like any other, tried again at the next one.
			return nil, fmt.Errorf("refreshing the access token at %s: %s", rec.TokenURL, networkError(err))
		}
		rec.NeedsLogin, rec.LastError = true, describe(err)
		if serr := s.vault.Save(rec); serr != nil {
			s.log.Warn("could not store the refused grant", "error", serr.Error())
		}
		s.log.Warn("refresh refused: authorization required", "issuer", rec.Issuer, "reason", rec.LastError)
		return nil, authRequired(s.srv.Name, rec.Mode, "refreshing the access token failed: "+rec.LastError)
	}
	if tok.AccessToken != rec.Token.AccessToken {
		rec.Token = tok
		rec.LastRefresh = s.now().UTC()
		rec.LastError = ""
		if sc, ok := tok.Extra("scope").(string); ok && sc != "" {
			rec.Granted = manifest.SetOf(strings.Fields(sc))
		}
		if err := s.vault.Save(rec); err != nil {
			// Rotated refresh tokens are single use: a token that cannot
			// be stored must not be used, or the next refresh fails.
			return nil, fmt.Errorf("storing the refreshed grant: %w", err)
		}
		s.log.Debug("access token refreshed", "issuer", rec.Issuer, "expiry", tok.Expiry)
	}
	s.tok = tok
	return tok, nil
}

func (s *Session) clientCredentials(ctx context.Context) (*oauth2.Token, error) {
	a := s.srv.Auth
	if rec := s.rec; rec != nil && rec.Token.Valid() && rec.ClientID == a.ClientID && equalSets(rec.Requested, a.Scopes) {
		s.tok = rec.Token
		return s.tok, nil
	}
	md, err := discover(ctx, s.client, s.srv.URL, "", a.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OAuth discovery: %s", networkError(err))
	}
	cc := &clientcredentials.Config{
		ClientID: a.ClientID, ClientSecret: s.secret, TokenURL: md.as.TokenEndpoint,
		Scopes: a.Scopes, AuthStyle: authStyle(md.as.TokenEndpointAuthMethodsSupported),
	}
	if md.resource != "" {
		cc.EndpointParams = map[string][]string{"resource": {md.resource}}
	}
	tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, s.client))
	rec := &Record{
		Server: s.srv.Name, Mode: config.AuthClientCredentials, Issuer: md.as.Issuer, Resource: md.resource,
		Registration: RegPreregistered, ClientID: a.ClientID, TokenURL: md.as.TokenEndpoint,
		RevocationURL: md.as.RevocationEndpoint, AuthStyle: cc.AuthStyle, Requested: manifest.SetOf(a.Scopes),
	}
	if s.rec != nil && sameIssuer(s.rec.Issuer, md.as.Issuer) {
		rec.LoggedIn = s.rec.LoggedIn
	}
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			return nil, fmt.Errorf("client credentials token request to %s: %s", md.as.TokenEndpoint, networkError(err))
		}
		rec.LastError = describe(err)
		if serr := s.vault.Save(rec); serr != nil {
			s.log.Warn("could not store the grant's state", "error", serr.Error())
		}
		return nil, authRequired(s.srv.Name, config.AuthClientCredentials, "the client credentials were refused: "+rec.LastError)
	}
	rec.Token, rec.Granted = tok, grantedScopes(tok, a.Scopes)
	rec.LastRefresh = s.now().UTC()
	if rec.LoggedIn.IsZero() {
		rec.LoggedIn = rec.LastRefresh
	}
	if err := s.vault.Save(rec); err != nil {
		return nil, fmt.Errorf("storing the grant: %w", err)
	}
	s.rec, s.tok = rec, tok
	return tok, nil
}

// Rejected explains a 401 or 403 from the MCP server: a rejected token
// needs a person (or fixed client credentials); a step-up challenge for
// scopes beyond the configured ones is refused and reported, never
// followed (least privilege).
func (s *Session) Rejected(resp *http.Response) error {
	challenges, _ := oauthex.ParseWWWAuthenticate(resp.Header.Values("WWW-Authenticate"))
	var scopes []string
	errCode := ""
	for _, c := range challenges {
		if c.Scheme != "bearer" {
			continue
		}
		scopes = append(scopes, strings.Fields(c.Params["scope"])...)
		if errCode == "" {
			errCode = c.Params["error"]
		}
	}
	s.mu.Lock()
	mode := s.srv.Auth.Mode
	configured := s.srv.Auth.Scopes
	extra := beyond(scopes, configured)
	s.challenged = append(s.challenged, extra...)
	s.mu.Unlock()
	if resp.StatusCode == http.StatusForbidden && (len(extra) > 0 || errCode == "insufficient_scope") {
		if len(extra) == 0 {
			return authRequired(s.srv.Name, mode, "the server answered insufficient_scope for the configured scopes")
		}
		fix := "run: " + LoginCommand(s.srv.Name)
		if mode == config.AuthClientCredentials {
			fix = "the next check requests it"
		}
		return fmt.Errorf("%w: the server demands scope %s beyond the configured scopes [%s] (insufficient_scope step-up refused); review it, then add it to auth.scopes of server %s; %s",
			probe.ErrAuthRequired, strings.Join(extra, " "), strings.Join(configured, " "), s.srv.Name, fix)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return authRequired(s.srv.Name, mode, "the server rejected the access token (401)")
	}
	return nil
}

// Identity is the grant the probe ran under, for the snapshot.
func (s *Session) Identity(scopesSupported []string) *manifest.Auth {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rec == nil {
		return nil
	}
	return &manifest.Auth{
		Mode:        s.rec.Mode,
		Issuer:      s.rec.Issuer,
		Requested:   manifest.SetOf(s.srv.Auth.Scopes),
		Granted:     manifest.SetOf(s.rec.Granted),
		Unrequested: beyond(append(append([]string(nil), scopesSupported...), s.challenged...), s.srv.Auth.Scopes),
	}
}

// networkError is err without anything a URL query could carry.
func networkError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

func equalSets(a, b []string) bool {
	x, y := manifest.SetOf(a), manifest.SetOf(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// ProbeFunc is engine.ProbeFunc.
type ProbeFunc = func(ctx context.Context, t probe.Target) (*probe.Result, error)

// Wrap returns next with the Authorizer of every server with an auth
// block set on its target; lookup finds a server's current configuration
// by name (nil for none).
func (p *Provider) Wrap(next ProbeFunc, lookup func(name string) *config.Server) ProbeFunc {
	return func(ctx context.Context, t probe.Target) (*probe.Result, error) {
		if s := lookup(t.Name); s != nil && s.Auth != nil && t.OAuth == nil && t.URL != "" {
			az, err := p.Authorizer(s, t.TLS)
			if err != nil {
				return nil, &probe.Error{Server: t.Name, Phase: "start", Err: err}
			}
			t.OAuth = az
		}
		return next(ctx, t)
	}
}

// withResource returns c sending the RFC 8707 resource parameter with the
// refresh requests it makes to tokenURL. The MCP specification wants the
// resource on every token request, and x/oauth2 refreshes without a way to
// add a parameter; go-sdk's handler sends it with the authorization and
// code exchange only.
func withResource(c *http.Client, tokenURL, resource string) *http.Client {
	if resource == "" {
		return c
	}
	out := *c
	out.Transport = &resourceTransport{next: cmp.Or[http.RoundTripper](c.Transport, http.DefaultTransport), tokenURL: tokenURL, resource: resource}
	return &out
}

type resourceTransport struct {
	next               http.RoundTripper
	tokenURL, resource string
}

func (t *resourceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || req.URL.String() != t.tokenURL || req.GetBody == nil {
		return t.next.RoundTrip(req)
	}
	// The form is read from a copy (GetBody), so req goes on untouched
	// when it is not a refresh.
	body, err := req.GetBody()
	if err != nil {
		return t.next.RoundTrip(req)
	}
	raw, err := io.ReadAll(io.LimitReader(body, 64<<10))
	_ = body.Close()
	form, perr := url.ParseQuery(string(raw))
	if err != nil || perr != nil || form.Get("grant_type") != "refresh_token" || form.Has("resource") {
		return t.next.RoundTrip(req)
	}
	form.Set("resource", t.resource)
	enc := form.Encode()
	r2 := req.Clone(req.Context())
	r2.Body = io.NopCloser(strings.NewReader(enc))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(enc)), nil }
	r2.ContentLength = int64(len(enc))
	if req.Body != nil {
		_ = req.Body.Close() // a RoundTripper closes the body it was given
	}
	return t.next.RoundTrip(r2)
}
