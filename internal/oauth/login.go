package oauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// LoginOptions are the inputs of Login.
type LoginOptions struct {
	// Vault stores the grant (Vault.Replace), unless Keep is set.
	Vault *Vault
	// Keep, when set, stores the grant instead of Vault: the daemon's
	// admin socket when a daemon holds the database (it seals the grant
	// with its own key).
	Keep func(context.Context, *Record) error
	// TLS is the server's TLS configuration (a private CA), or nil.
	TLS *tls.Config
	// Out receives the URL to open and progress; never a token or code.
	Out io.Writer
	// Timeout bounds the wait for the browser; 0 means 10 minutes.
	Timeout time.Duration
}

// Login runs the authorization code flow with PKCE for s, once, for a
// person: it listens on a loopback port of 127.0.0.1, prints the
// authorization URL (open it in any browser; over SSH, forward the port
// with ssh -L), waits for the redirect, exchanges the code and stores the
// grant sealed. It never opens a browser itself.
//
// Client registration follows the MCP specification's order, as go-sdk's
// AuthorizationCodeHandler implements it: the Client ID Metadata Document
// URL (auth.client_metadata_url) when the authorization server supports
// it, else the pre-registered client (auth.client_id), else RFC 7591
// dynamic registration.
func Login(ctx context.Context, s *config.Server, o LoginOptions) (*Record, error) {
	a := s.Auth
	if a == nil || a.Mode != config.AuthAuthorizationCode {
		return nil, fmt.Errorf("server %s is not configured for auth mode %s", s.Name, config.AuthAuthorizationCode)
	}
	if o.Keep == nil {
		if _, err := o.Vault.aead(); err != nil {
			return nil, err // refuse before anything is asked of a person
		}
		o.Keep = func(_ context.Context, r *Record) error { return o.Vault.Replace(r) }
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(a.RedirectPort)))
	if err != nil {
		return nil, fmt.Errorf("loopback listener for the redirect: %w", err)
	}
	defer ln.Close()
	redirect := "http://" + ln.Addr().String() + "/callback"
	results := make(chan *auth.AuthorizationResult, 1)
	var once sync.Once
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if e := q.Get("error"); e != "" {
			// The person refused, or the authorization server did.
			w.WriteHeader(http.StatusBadRequest)
			_, _ = fmt.Fprintf(w, "Authorization failed: %s. You can close this window.", html.EscapeString(e))
			once.Do(func() { results <- &auth.AuthorizationResult{State: q.Get("state")} })
			return
		}
		_, _ = io.WriteString(w, "mcpdrift is authorized. You can close this window.")
		once.Do(func() {
			results <- &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}
		})
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Graceful: the browser's page is still being written when the
		// code arrives, and closing at once cut it off (a reset instead of
		// "you can close this window").
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()

	client := httpClient(o.TLS)
	// Discovery first, with the same fetchers the handler uses, to know
	// the issuer the grant is stored under and to refuse an unexpected
	// authorization server before a person is asked anything.
	md, err := discover(ctx, client, s.URL, "", a.Issuer)
	if err != nil {
		return nil, fmt.Errorf("OAuth discovery: %s", networkError(err))
	}

	var (
		got       *oauth2.Config
		gotTok    *oauth2.Token
		asked     []string
		printOnce sync.Once
	)
	cfg := &auth.AuthorizationCodeHandlerConfig{
		RedirectURL: redirect,
		Client:      client,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			printOnce.Do(func() {
				_, _ = fmt.Fprintf(o.Out, "Open this URL in a browser to authorize mcpdrift for %s (scopes: %s):\n\n  %s\n\n"+
					"Waiting for the redirect to %s (over SSH: ssh -L %s:%s ...)\n",
					s.Name, strings.Join(a.Scopes, " "), args.URL, redirect, portOf(ln), ln.Addr().String())
			})
			select {
			case r := <-results:
				if r.Code == "" {
					return nil, errors.New("the authorization was refused in the browser")
				}
				return r, nil
			case <-ctx.Done():
				return nil, fmt.Errorf("no redirect arrived: %w", ctx.Err())
			}
		},
		ScopeFilter: func(discovered []string) []string {
			asked = discovered
			return append([]string(nil), a.Scopes...)
		},
		NewTokenSource: func(ctx context.Context, c *oauth2.Config, t *oauth2.Token) (oauth2.TokenSource, error) {
			got, gotTok = c, t
			return oauth2.StaticTokenSource(t), nil
		},
	}
	if a.ClientMetadataURL != "" {
		cfg.ClientIDMetadataDocumentConfig = &auth.ClientIDMetadataDocumentConfig{URL: a.ClientMetadataURL}
	}
	if a.ClientID != "" {
		cc := &oauthex.ClientCredentials{ClientID: a.ClientID, Issuer: a.Issuer}
		sec, err := a.ClientSecret.Reveal()
		if err != nil {
			return nil, fmt.Errorf("auth.client_secret: %w", err)
		}
		if sec != "" {
			cc.ClientSecretAuth = &oauthex.ClientSecretAuth{ClientSecret: sec}
		}
		cfg.PreregisteredClient = cc
	} else {
		cfg.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs:            []string{redirect},
			TokenEndpointAuthMethod: "none",
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			ClientName:              "mcpdrift",
			Scope:                   strings.Join(a.Scopes, " "),
		}}
	}
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		return nil, fmt.Errorf("authorization code handler: %w", err)
	}
	// The handler starts from the server's own 401: an unauthenticated
	// request, as any client's first.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		return nil, errors.New("server url is not a valid URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("contacting the server: %s", networkError(err))
	}
	if resp.StatusCode != http.StatusUnauthorized {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("the server answered %s without a token, not 401: it does not ask for OAuth here", resp.Status)
	}
	if err := h.Authorize(ctx, req, resp); err != nil {
		return nil, fmt.Errorf("authorization: %s", safeError(err))
	}
	if got == nil || gotTok == nil {
		return nil, errors.New("authorization: no token was issued")
	}
	now := time.Now().UTC()
	rec := &Record{
		Server: s.Name, Mode: config.AuthAuthorizationCode, Issuer: md.as.Issuer, Resource: md.resource,
		Registration: registration(a, md.as), ClientID: got.ClientID, AuthURL: got.Endpoint.AuthURL,
		TokenURL: got.Endpoint.TokenURL, RevocationURL: md.as.RevocationEndpoint, AuthStyle: got.Endpoint.AuthStyle,
		Token: gotTok, Requested: manifest.SetOf(a.Scopes), Granted: grantedScopes(gotTok, a.Scopes),
		LoggedIn: now, LastRefresh: now,
	}
	if rec.Registration == RegDynamic {
		// Only a dynamically registered secret is stored; a configured
		// one stays in the config (and its *_file).
		rec.ClientSecret = got.ClientSecret
	}
	if err := o.Keep(ctx, rec); err != nil {
		return nil, fmt.Errorf("storing the grant: %w", err)
	}
	if x := beyond(asked, a.Scopes); len(x) > 0 {
		_, _ = fmt.Fprintf(o.Out, "note: the server asks for scopes %s beyond the configured ones; they were not requested\n", strings.Join(x, " "))
	}
	return rec, nil
}

func registration(a *config.ServerAuth, as *oauthex.AuthServerMeta) string {
	switch {
	case a.ClientMetadataURL != "" && as.ClientIDMetadataDocumentSupported:
		return RegMetadataDocument
	case a.ClientID != "":
		return RegPreregistered
	}
	return RegDynamic
}

func portOf(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// safeError is an authorization error without the URL query (code, state)
// an *url.Error would quote.
func safeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + redactURL(ue.URL) + ": " + ue.Err.Error()
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return describe(re)
	}
	return err.Error()
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}
