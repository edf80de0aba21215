// Package oauthtest runs a real OAuth 2.1 authorization server (ory/fosite:
// authorization code with PKCE S256 enforced, refresh tokens with rotation,
// client credentials, RFC 7009 revocation, RFC 8414 metadata, and RFC 7591
// registration into fosite's client store) beside a go-sdk MCP server
// protected by go-sdk's auth middleware (RequireBearerToken, verifying
// tokens by fosite introspection and publishing RFC 9728 metadata).
//
// It is for tests only. Nothing here answers with canned tokens: every
// token is minted, introspected, refreshed and revoked by fosite.
package oauthtest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	// AccessTokenLifespan defaults to one hour.
	AccessTokenLifespan time.Duration
	// ScopesSupported is what the protected resource and the authorization
	// server publish, and what registered clients may be granted. Default:
	// tools:read, tools:write.
	ScopesSupported []string
	// RequiredScopes are the scopes every MCP request must carry (the
	// middleware answers 403 with a scope challenge otherwise). Default:
	// none.
	RequiredScopes []string
	// Tools are the tool names the MCP server serves. Default: "search".
	Tools []string
	// MetadataDocuments advertises Client ID Metadata Document support.
	// The server does not fetch documents: AddPublicClient registers the
	// client id URL as a fosite client, as a server would after fetching.
	MetadataDocuments bool
	// IssuerInResponse advertises RFC 9207
	// (authorization_response_iss_parameter_supported) and adds iss to
	// every authorization response: the issuer, or what SetResponseIssuer
	// set.
	IssuerInResponse bool
}

// Server is a running authorization server and protected MCP server, on one
// loopback origin: the issuer is URL, the MCP endpoint MCPURL.
type Server struct {
	URL    string
	MCPURL string

	t        testing.TB
	provider fosite.OAuth2Provider
	store    *clientStore
	hasher   fosite.Hasher
	srv      *httptest.Server

	// fosite's memory store guards one map with two different locks
	// (RevokeRefreshToken against GetRefreshTokenSession): every call
	// into fosite is serialized here.
	fositeMu sync.Mutex

	cimd bool
	iss  bool

	mu          sync.Mutex
	respIss     string              // iss of authorization responses; "" is the issuer
	asURL       string              // authorization server the resource names; "" is this one
	peers       []*Server           // other authorization servers whose tokens the MCP server accepts
	resources   map[string][]string // resource parameters of token requests, per grant type
	required    []string
	grantExtra  []string
	scopesSup   []string
	grants      map[string]int // token requests per grant type
	requested   [][]string     // scopes of every authorization and client credentials request
	refreshFail int            // refresh requests answered with an error
	ids         []string       // request ids of every token issued
	codes       []string       // authorization codes issued
}

// clientStore is fosite's memory store with clients kept under a lock of
// its own, so that registration (RFC 7591) can add clients while other
// requests read them.
type clientStore struct {
	*storage.MemoryStore
	mu      sync.RWMutex
	clients map[string]fosite.Client
}

func (s *clientStore) GetClient(_ context.Context, id string) (fosite.Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.clients[id]
	if !ok {
		return nil, fosite.ErrNotFound
	}
	return c, nil
}

func (s *clientStore) add(c fosite.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.GetID()] = c
}

// Start runs a Server until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.AccessTokenLifespan == 0 {
		opts.AccessTokenLifespan = time.Hour
	}
	if opts.ScopesSupported == nil {
		opts.ScopesSupported = []string{"tools:read", "tools:write"}
	}
	if opts.Tools == nil {
		opts.Tools = []string{"search"}
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	cfg := &fosite.Config{
		AccessTokenLifespan:  opts.AccessTokenLifespan,
		RefreshTokenLifespan: 24 * time.Hour,
		GlobalSecret:         secret,
		EnforcePKCE:          true,
		HashCost:             4,
		// Refresh tokens without offline_access: the client requests
		// exactly the scopes it is configured with.
		RefreshTokenScopes: []string{},
		ScopeStrategy:      fosite.ExactScopeStrategy,
	}
	st := &clientStore{MemoryStore: storage.NewMemoryStore(), clients: map[string]fosite.Client{}}
	provider := compose.Compose(cfg, st, compose.NewOAuth2HMACStrategy(cfg),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
	)
	s := &Server{
		t: t, provider: provider, store: st, hasher: &fosite.BCrypt{Config: cfg},
		required: opts.RequiredScopes, scopesSup: opts.ScopesSupported, grants: map[string]int{},
		cimd: opts.MetadataDocuments, iss: opts.IssuerInResponse, resources: map[string][]string{},
	}
	mux := http.NewServeMux()
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	s.MCPURL = s.srv.URL + "/mcp"

	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	mux.HandleFunc("GET /authorize", s.serial(s.authorize))
	mux.HandleFunc("POST /token", s.serial(s.token))
	mux.HandleFunc("POST /revoke", s.serial(s.revoke))
	mux.HandleFunc("POST /register", s.serial(s.register))
	prm := func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		sup := slices.Clone(s.scopesSup)
		as := cmp.Or(s.asURL, s.URL)
		s.mu.Unlock()
		auth.ProtectedResourceMetadataHandler(&oauthex.ProtectedResourceMetadata{
			Resource:             s.MCPURL,
			AuthorizationServers: []string{as},
			ScopesSupported:      sup,
		}).ServeHTTP(w, r)
	}
	mux.HandleFunc("/.well-known/oauth-protected-resource/mcp", prm)
	mux.HandleFunc("/.well-known/oauth-protected-resource", prm)

	server := mcp.NewServer(&mcp.Implementation{Name: "protected", Version: "1.0.0"}, nil)
	for _, name := range opts.Tools {
		mcp.AddTool(server, &mcp.Tool{Name: name, Description: "tool " + name},
			func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
				return &mcp.CallToolResult{}, nil, nil
			})
	}
	mcpHandler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		req := slices.Clone(s.required)
		s.mu.Unlock()
		auth.RequireBearerToken(s.verify, &auth.RequireBearerTokenOptions{
			ResourceMetadataURL: s.URL + "/.well-known/oauth-protected-resource/mcp",
			Scopes:              req,
		})(mcpHandler).ServeHTTP(w, r)
	}))
	return s
}

// serial runs h with every other call into fosite excluded.
func (s *Server) serial(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.fositeMu.Lock()
		defer s.fositeMu.Unlock()
		h(w, r)
	}
}

// verify checks a bearer token by fosite's introspection, here and at the
// trusted peers.
func (s *Server) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	s.mu.Lock()
	peers := slices.Clone(s.peers)
	s.mu.Unlock()
	ar, err := s.introspect(ctx, token)
	for _, p := range peers {
		if err == nil {
			break
		}
		ar, err = p.introspect(ctx, token)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
	}
	return &auth.TokenInfo{
		Scopes:     ar.GetGrantedScopes(),
		Expiration: ar.GetSession().GetExpiresAt(fosite.AccessToken),
	}, nil
}

func (s *Server) introspect(ctx context.Context, token string) (fosite.AccessRequester, error) {
	s.fositeMu.Lock()
	defer s.fositeMu.Unlock()
	_, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, &fosite.DefaultSession{})
	return ar, err
}

// Active reports whether fosite still accepts token as an access token
// (false once it is revoked or expired).
func (s *Server) Active(token string) bool {
	_, err := s.introspect(context.Background(), token)
	return err == nil
}

// MoveTo makes the protected resource name peer as its authorization
// server and accept peer's tokens (a server moving to another
// authorization server); its own tokens stay accepted.
func (s *Server) MoveTo(peer *Server) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asURL = peer.URL
	s.peers = append(s.peers, peer)
}

// SetResponseIssuer makes authorization responses carry iss (with
// IssuerInResponse): another issuer than this one is an RFC 9207 mix-up.
func (s *Server) SetResponseIssuer(iss string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respIss = iss
}

// Resources returns the resource parameters (RFC 8707) of the token
// requests of a grant type, in order ("" for a request without one).
func (s *Server) Resources(grant string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.resources[grant])
}

func (s *Server) metadata(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	sup := slices.Clone(s.scopesSup)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"client_id_metadata_document_supported":          s.cimd,
		"authorization_response_iss_parameter_supported": s.iss,
		"issuer":                                s.URL,
		"authorization_endpoint":                s.URL + "/authorize",
		"token_endpoint":                        s.URL + "/token",
		"registration_endpoint":                 s.URL + "/register",
		"revocation_endpoint":                   s.URL + "/revoke",
		"scopes_supported":                      sup,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
	})
}

// authorize consents at once for a fixed user: the "browser" of a test is
// an HTTP client that follows the redirect to the client's loopback
// listener.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.grant(ar)
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, &fosite.DefaultSession{Subject: "tester"})
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.mu.Lock()
	s.codes = append(s.codes, resp.GetCode())
	iss := cmp.Or(s.respIss, s.URL)
	s.mu.Unlock()
	if s.iss {
		resp.AddParameter("iss", iss)
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// grant records the scopes a request asked for and grants them, with the
// extra ones of GrantExtra.
func (s *Server) grant(ar fosite.Requester) {
	s.mu.Lock()
	s.requested = append(s.requested, slices.Clone([]string(ar.GetRequestedScopes())))
	extra := slices.Clone(s.grantExtra)
	s.mu.Unlock()
	for _, sc := range append(slices.Clone([]string(ar.GetRequestedScopes())), extra...) {
		ar.GrantScope(sc)
	}
}

// Codes returns every authorization code issued (for secret canaries).
func (s *Server) Codes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.codes)
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := s.provider.NewAccessRequest(ctx, r, &fosite.DefaultSession{Subject: "tester"})
	grant := r.PostFormValue("grant_type")
	s.mu.Lock()
	s.grants[grant]++
	if err != nil && grant == "refresh_token" {
		s.refreshFail++
	}
	s.mu.Unlock()
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.mu.Lock()
	s.resources[grant] = append(s.resources[grant], r.PostFormValue("resource"))
	s.mu.Unlock()
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		s.grant(ar)
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	s.mu.Lock()
	s.ids = append(s.ids, ar.GetID())
	s.mu.Unlock()
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

// register is RFC 7591 dynamic client registration into fosite's store.
func (s *Server) register(w http.ResponseWriter, r *http.Request) {
	var meta oauthex.ClientRegistrationMetadata
	if err := json.NewDecoder(r.Body).Decode(&meta); err != nil || len(meta.RedirectURIs) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_client_metadata"})
		return
	}
	id := "dcr-" + rand.Text()
	c := &fosite.DefaultClient{
		ID: id, RedirectURIs: meta.RedirectURIs, ResponseTypes: []string{"code"},
		GrantTypes: meta.GrantTypes, Scopes: s.allowedScopes(),
	}
	resp := map[string]any{"client_id": id, "redirect_uris": meta.RedirectURIs,
		"grant_types": meta.GrantTypes, "token_endpoint_auth_method": meta.TokenEndpointAuthMethod}
	if meta.TokenEndpointAuthMethod == "none" {
		c.Public = true
	} else {
		secret := rand.Text()
		c.Secret = s.hash(secret)
		resp["client_secret"] = secret
	}
	if len(c.GrantTypes) == 0 {
		c.GrantTypes = []string{"authorization_code"}
	}
	s.store.add(c)
	writeJSON(w, http.StatusCreated, resp)
}

func (s *Server) allowedScopes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(slices.Clone(s.scopesSup), s.grantExtra...)
}

func (s *Server) hash(secret string) []byte {
	h, err := s.hasher.Hash(context.Background(), []byte(secret))
	if err != nil {
		s.t.Fatalf("oauthtest: hash: %v", err)
	}
	return h
}

// AddClient pre-registers a confidential client allowed the grant types
// given ("authorization_code", "refresh_token", "client_credentials").
func (s *Server) AddClient(id, secret string, redirectURIs []string, grantTypes ...string) {
	s.store.add(&fosite.DefaultClient{
		ID: id, Secret: s.hash(secret), RedirectURIs: redirectURIs,
		GrantTypes: grantTypes, ResponseTypes: []string{"code"}, Scopes: s.allowedScopes(),
	})
}

// AddPublicClient registers a public client (no secret) for the
// authorization code grant with refresh tokens.
func (s *Server) AddPublicClient(id string, redirectURIs ...string) {
	s.store.add(&fosite.DefaultClient{
		ID: id, Public: true, RedirectURIs: redirectURIs, ResponseTypes: []string{"code"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, Scopes: s.allowedScopes(),
	})
}

// SetRequiredScopes changes the scopes the MCP server demands (a step-up
// challenge for tokens without them).
func (s *Server) SetRequiredScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.required = scopes
}

// SetScopesSupported changes the published scopes_supported.
func (s *Server) SetScopesSupported(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopesSup = scopes
}

// GrantExtra makes the server grant these scopes on top of every request
// (a server widening what it hands out). Clients registered afterwards
// may hold them; earlier ones are widened here too.
func (s *Server) GrantExtra(scopes ...string) {
	s.mu.Lock()
	s.grantExtra = scopes
	s.mu.Unlock()
	s.fositeMu.Lock()
	defer s.fositeMu.Unlock()
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	for _, c := range s.store.clients {
		if dc, ok := c.(*fosite.DefaultClient); ok {
			for _, sc := range scopes {
				if !slices.Contains(dc.Scopes, sc) {
					dc.Scopes = append(dc.Scopes, sc)
				}
			}
		}
	}
}

// RevokeAll revokes every refresh and access token issued so far, as an
// administrator withdrawing consent would.
func (s *Server) RevokeAll() {
	ctx := context.Background()
	s.fositeMu.Lock()
	defer s.fositeMu.Unlock()
	for _, id := range s.requestIDs() {
		_ = s.store.RevokeRefreshToken(ctx, id)
		_ = s.store.RevokeAccessToken(ctx, id)
	}
}

func (s *Server) requestIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ids)
}

// Grants returns how many token requests of a grant type were made.
func (s *Server) Grants(grant string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants[grant]
}

// RefreshFailures returns how many refresh requests were refused.
func (s *Server) RefreshFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshFail
}

// Requested returns the scopes of every authorization and client
// credentials request, in order.
func (s *Server) Requested() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requested)
}

// Browse is the test's browser: it opens an authorization URL, consents,
// and follows the redirect to the client's loopback listener. It refuses to
// follow redirects anywhere but loopback addresses.
func Browse(ctx context.Context, authURL string) error {
	c := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if ip := net.ParseIP(req.URL.Hostname()); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("browser: redirect to %s refused", req.URL.Host)
		}
		return nil
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("browser: %s answered %s", resp.Request.URL.Redacted(), resp.Status)
	}
	return nil
}

// AuthURLFrom extracts the first authorization URL of the issuer from text
// (what `mcpdrift auth login` prints).
func AuthURLFrom(text, issuer string) (string, error) {
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, issuer+"/authorize?") {
			if _, err := url.Parse(f); err == nil {
				return f, nil
			}
		}
	}
	return "", errors.New("no authorization URL printed")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Browser is an io.Writer for what `mcpdrift auth login` prints: when the
// authorization URL of its issuer appears, it opens it (Browse) once, as a
// person would, and Wait returns how that went.
type Browser struct {
	ctx    context.Context
	issuer string

	mu     sync.Mutex
	buf    strings.Builder
	opened bool
	done   chan error
}

// NewBrowser returns a Browser for the issuer's authorization URLs.
func NewBrowser(ctx context.Context, issuer string) *Browser {
	return &Browser{ctx: ctx, issuer: issuer, done: make(chan error, 1)}
}

func (b *Browser) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if !b.opened {
		if u, err := AuthURLFrom(b.buf.String(), b.issuer); err == nil {
			b.opened = true
			go func() { b.done <- Browse(b.ctx, u) }()
		}
	}
	return len(p), nil
}

// String is everything written so far.
func (b *Browser) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Wait returns the outcome of the browsing, or an error if no URL was
// printed.
func (b *Browser) Wait() error {
	b.mu.Lock()
	opened := b.opened
	b.mu.Unlock()
	if !opened {
		return errors.New("browser: no authorization URL was printed")
	}
	return <-b.done
}
