package oauth_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/oauth/oauthtest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/store"
)

const canarySecret = "cc-secret-CANARY-7f3a"

func newVault(t *testing.T) (*oauth.Vault, *store.DB, string) {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	k := bytes.Repeat([]byte{7}, 32)
	if err := os.WriteFile(key, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return &oauth.Vault{Store: db, KeyFile: key}, db, filepath.Join(dir, "db")
}

func probeWith(t *testing.T, p *oauth.Provider, s *config.Server) (*probe.Result, error) {
	t.Helper()
	az, err := p.Authorizer(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return probe.Probe(t.Context(), probe.Target{Name: s.Name, URL: s.URL, OAuth: az, Timeout: 20 * time.Second})
}

func tools(t *testing.T, res *probe.Result) []string {
	t.Helper()
	m, err := manifest.Build(res.Capture)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range m.Entities[manifest.KindTool] {
		names = append(names, e.Key)
	}
	return names
}

func TestClientCredentialsEndToEnd(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{Tools: []string{"search", "fetch"}, ScopesSupported: []string{"tools:read", "tools:write", "admin"}})
	as.AddClient("svc", canarySecret, nil, "client_credentials")
	v, _, _ := newVault(t)
	s := &config.Server{Name: "svc-server", URL: as.MCPURL, Auth: &config.ServerAuth{
		Mode: config.AuthClientCredentials, ClientID: "svc", ClientSecret: config.NewSecret(canarySecret), Scopes: []string{"tools:read"},
	}}
	p := &oauth.Provider{Vault: v}
	res, err := probeWith(t, p, s)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if got := tools(t, res); !slices.Equal(got, []string{"fetch", "search"}) {
		t.Errorf("tools = %v", got)
	}
	// Exactly the configured scopes were requested, although the server
	// publishes three.
	if req := as.Requested(); len(req) != 1 || !slices.Equal(req[0], []string{"tools:read"}) {
		t.Errorf("requested scopes = %v, want [[tools:read]]", req)
	}
	if rs := as.Resources("client_credentials"); !slices.Equal(rs, []string{as.MCPURL}) {
		t.Errorf("resource parameters = %q, want [%s] (RFC 8707)", rs, as.MCPURL)
	}
	a := res.Capture.Identity.Auth
	if a == nil || a.Mode != config.AuthClientCredentials || a.Issuer != as.URL || !slices.Equal(a.Granted, []string{"tools:read"}) ||
		!slices.Equal(a.Unrequested, []string{"admin", "tools:write"}) {
		t.Errorf("identity auth = %+v", a)
	}
	// A second probe reuses the stored, still valid token.
	if _, err := probeWith(t, p, s); err != nil {
		t.Fatal(err)
	}
	if n := as.Grants("client_credentials"); n != 1 {
		t.Errorf("%d client credentials requests for two probes, want 1 (token stored and reused)", n)
	}

	// A wrong secret is auth-required, naming the keys to fix, never the secret.
	as2 := oauthtest.Start(t, oauthtest.Options{})
	as2.AddClient("svc", "the-real-one", nil, "client_credentials")
	s.URL = as2.MCPURL
	_, err = probeWith(t, p, s)
	if !errors.Is(err, probe.ErrAuthRequired) || !strings.Contains(err.Error(), "auth.client_secret") || strings.Contains(err.Error(), canarySecret) {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestRefusesToStoreWithoutKey(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{})
	as.AddClient("svc", canarySecret, nil, "client_credentials")
	v, _, _ := newVault(t)
	v.KeyFile = ""
	s := &config.Server{Name: "svc", URL: as.MCPURL, Auth: &config.ServerAuth{
		Mode: config.AuthClientCredentials, ClientID: "svc", ClientSecret: config.NewSecret(canarySecret)}}
	_, err := probeWith(t, &oauth.Provider{Vault: v}, s)
	if !errors.Is(err, oauth.ErrNoKey) {
		t.Fatalf("probe without a key: %v, want ErrNoKey", err)
	}
	_, err = oauth.Login(t.Context(), &config.Server{Name: "x", URL: as.MCPURL, Auth: &config.ServerAuth{Mode: config.AuthAuthorizationCode}},
		oauth.LoginOptions{Vault: v, Out: &bytes.Buffer{}})
	if !errors.Is(err, oauth.ErrNoKey) {
		t.Fatalf("login without a key: %v, want ErrNoKey", err)
	}
}

// login runs Login with the test's browser: it reads the printed URL and
// follows it, consenting, to the loopback listener.
func login(t *testing.T, v *oauth.Vault, s *config.Server, issuer string) (*oauth.Record, string) {
	t.Helper()
	b := oauthtest.NewBrowser(t.Context(), issuer)
	rec, err := oauth.Login(t.Context(), s, oauth.LoginOptions{Vault: v, Out: b, Timeout: time.Minute})
	if berr := b.Wait(); berr != nil {
		t.Fatalf("browser: %v", berr)
	}
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return rec, b.String()
}

func TestLoginDynamicRegistrationRefreshAndRevoke(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{AccessTokenLifespan: 2 * time.Second, Tools: []string{"search"}})
	v, _, _ := newVault(t)
	s := &config.Server{Name: "notes", URL: as.MCPURL, Auth: &config.ServerAuth{Mode: config.AuthAuthorizationCode, Scopes: []string{"tools:read"}}}
	rec, out := login(t, v, s, as.URL)
	if rec.Registration != oauth.RegDynamic || rec.Token.RefreshToken == "" || !slices.Equal(rec.Granted, []string{"tools:read"}) {
		t.Fatalf("record: registration %s, refresh token set %v, granted %v", rec.Registration, rec.Token.RefreshToken != "", rec.Granted)
	}
	if strings.Contains(out, rec.Token.AccessToken) || strings.Contains(out, rec.Token.RefreshToken) {
		t.Error("login output holds a token")
	}
	if req := as.Requested(); len(req) != 1 || !slices.Equal(req[0], []string{"tools:read"}) {
		t.Errorf("requested = %v", req)
	}
	p := &oauth.Provider{Vault: v}
	// Access tokens live 2 s, within oauth2's 10 s expiry margin: every
	// probe refreshes, and every refresh rotates the refresh token,
	// which must be stored for the next one to work.
	for i := range 3 {
		if _, err := probeWith(t, p, s); err != nil {
			t.Fatalf("probe %d: %v", i, err)
		}
	}
	if n := as.Grants("refresh_token"); n != 3 {
		t.Errorf("%d refreshes for 3 probes, want 3", n)
	}
	// RFC 8707: the resource goes with the code exchange and every refresh.
	for _, g := range []string{"authorization_code", "refresh_token"} {
		if rs := as.Resources(g); len(rs) == 0 || slices.ContainsFunc(rs, func(r string) bool { return r != as.MCPURL }) {
			t.Errorf("resource parameters of %s requests = %q, want %s on each", g, rs, as.MCPURL)
		}
	}
	as.RevokeAll()
	_, err := probeWith(t, p, s)
	if !errors.Is(err, probe.ErrAuthRequired) || !strings.Contains(err.Error(), "mcpdrift auth login notes") {
		t.Fatalf("after revocation: %v", err)
	}
	// auth status shows the refusal, without a token.
	st := v.StatusOf(s)
	if !st.Stored || !st.NeedsLogin || !strings.Contains(st.LastError, "invalid_grant") || st.Issuer != as.URL || st.LastRefresh.IsZero() {
		t.Errorf("status after the refused refresh: %+v", st)
	}
	if cur, err := v.Load(s.Name); err != nil || cur == nil || strings.Contains(st.LastError, cur.Token.RefreshToken) {
		t.Errorf("the last error holds the refresh token (or no grant: %v)", err)
	}
	// No loop: later probes do not ask the authorization server again.
	before := as.RefreshFailures()
	for range 2 {
		if _, err := probeWith(t, p, s); !errors.Is(err, probe.ErrAuthRequired) {
			t.Fatalf("still auth-required expected: %v", err)
		}
	}
	if n := as.RefreshFailures(); n != before || before != 1 {
		t.Errorf("refused refreshes: %d then %d, want 1 and no more", before, n)
	}
	// A new login replaces the refused grant.
	login(t, v, s, as.URL)
	if _, err := probeWith(t, p, s); err != nil {
		t.Fatalf("after a new login: %v", err)
	}
}

func TestLoginPreregisteredClientAndLogout(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{})
	v, _, _ := newVault(t)
	// A fixed redirect port, as a client registered with one needs.
	s := &config.Server{Name: "asana", URL: as.MCPURL, Auth: &config.ServerAuth{
		Mode: config.AuthAuthorizationCode, ClientID: "pre", ClientSecret: config.NewSecret(canarySecret), Scopes: []string{"tools:read"},
	}}
	as.AddClient("pre", canarySecret, []string{"http://127.0.0.1/callback"}, "authorization_code", "refresh_token")
	rec, _ := login(t, v, s, as.URL)
	if rec.Registration != oauth.RegPreregistered || rec.ClientID != "pre" || rec.ClientSecret != "" {
		t.Fatalf("registration %s client %s secret stored %v", rec.Registration, rec.ClientID, rec.ClientSecret != "")
	}
	if !as.Active(rec.Token.AccessToken) {
		t.Fatal("the access token is not active after login")
	}
	revoked, err := oauth.Logout(t.Context(), v, s.Name, canarySecret, nil)
	if err != nil || !revoked {
		t.Fatalf("logout: revoked %v, %v", revoked, err)
	}
	// RFC 7009 at fosite's revocation endpoint: the access token is dead.
	if as.Active(rec.Token.AccessToken) {
		t.Error("the access token is still active after logout")
	}
	if r, err := v.Load(s.Name); err != nil || r != nil {
		t.Fatalf("grant left after logout: %v %v", r, err)
	}
	// The revoked refresh token no longer works at the authorization server.
	v2, _, _ := newVault(t)
	rec.NeedsLogin = false
	rec.Token.Expiry = time.Now().Add(-time.Hour)
	if err := v2.Save(rec); err != nil {
		t.Fatal(err)
	}
	if _, err := probeWith(t, &oauth.Provider{Vault: v2}, s); !errors.Is(err, probe.ErrAuthRequired) {
		t.Fatalf("refresh with a revoked token: %v", err)
	}
}

// TestLoginPrefersMetadataDocument: with a Client ID Metadata Document URL
// configured and supported by the authorization server, it is the client
// id, before a pre-registered client and dynamic registration.
func TestLoginPrefersMetadataDocument(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{MetadataDocuments: true})
	const doc = "https://client.example/mcpdrift/client.json"
	as.AddPublicClient(doc, "http://127.0.0.1/callback")
	as.AddClient("pre", canarySecret, []string{"http://127.0.0.1/callback"}, "authorization_code", "refresh_token")
	v, _, _ := newVault(t)
	s := &config.Server{Name: "cimd", URL: as.MCPURL, Auth: &config.ServerAuth{
		Mode: config.AuthAuthorizationCode, ClientMetadataURL: doc, ClientID: "pre",
		ClientSecret: config.NewSecret(canarySecret), Scopes: []string{"tools:read"},
	}}
	rec, _ := login(t, v, s, as.URL)
	if rec.Registration != oauth.RegMetadataDocument || rec.ClientID != doc {
		t.Fatalf("registration %s client %s, want the metadata document", rec.Registration, rec.ClientID)
	}
	if _, err := probeWith(t, &oauth.Provider{Vault: v}, s); err != nil {
		t.Fatal(err)
	}
}

// TestLoginChecksResponseIssuer: with an authorization server that
// advertises RFC 9207, go-sdk's handler accepts the authorization response
// carrying its issuer and rejects one naming another (a mix-up attack),
// clearly, storing nothing.
func TestLoginChecksResponseIssuer(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{IssuerInResponse: true})
	v, _, _ := newVault(t)
	s := &config.Server{Name: "notes", URL: as.MCPURL, Auth: &config.ServerAuth{Mode: config.AuthAuthorizationCode, Scopes: []string{"tools:read"}}}
	if rec, _ := login(t, v, s, as.URL); rec.Issuer != as.URL {
		t.Fatalf("issuer %s, want %s", rec.Issuer, as.URL)
	}
	if err := v.Store.DeleteAuth(s.Name); err != nil {
		t.Fatal(err)
	}

	as.SetResponseIssuer("https://mix-up.example")
	b := oauthtest.NewBrowser(t.Context(), as.URL)
	_, err := oauth.Login(t.Context(), s, oauth.LoginOptions{Vault: v, Out: b, Timeout: time.Minute})
	if berr := b.Wait(); berr != nil {
		t.Fatalf("browser: %v", berr)
	}
	if err == nil || !strings.Contains(err.Error(), `issuer "https://mix-up.example" does not match expected issuer`) {
		t.Fatalf("login with a mismatched iss: %v", err)
	}
	for _, c := range as.Codes() {
		if strings.Contains(err.Error(), c) {
			t.Error("the error holds the authorization code")
		}
	}
	if rec, err := v.Load(s.Name); err != nil || rec != nil {
		t.Errorf("a grant was stored after the mismatch: %v %v", rec != nil, err)
	}
	if n := as.Grants("authorization_code"); n != 1 {
		t.Errorf("%d code exchanges, want 1 (the mismatched response's code is never exchanged)", n)
	}
}

// TestReplaceSupersedesEveryOtherGrant: a new grant replaces the server's
// grants from other authorization servers, and one sealed with a lost key
// too, so status shows the new one alone.
func TestReplaceSupersedesEveryOtherGrant(t *testing.T) {
	v, _, _ := newVault(t)
	old := &oauth.Record{Server: "notes", Mode: config.AuthAuthorizationCode, Issuer: "https://old.example", ClientID: "a"}
	if err := v.Save(old); err != nil {
		t.Fatal(err)
	}
	lost := filepath.Join(t.TempDir(), "lost")
	if err := os.WriteFile(lost, bytes.Repeat([]byte{1}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (&oauth.Vault{Store: v.Store, KeyFile: lost}).Save(&oauth.Record{Server: "notes", Issuer: "https://lost.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.LoadAll("notes"); err == nil {
		t.Fatal("a grant sealed with another key opened")
	}
	next := &oauth.Record{Server: "notes", Mode: config.AuthAuthorizationCode, Issuer: "https://new.example", ClientID: "b"}
	if err := v.Replace(next); err != nil {
		t.Fatal(err)
	}
	all, err := v.LoadAll("notes")
	if err != nil || len(all) != 1 || all[0].Issuer != next.Issuer {
		t.Fatalf("grants after Replace: %v, %v", len(all), err)
	}
}
