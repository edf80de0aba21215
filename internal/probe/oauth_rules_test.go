package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// trap is a loopback service a hostile server would like mcpdrift to
// reach (an admin API, a metadata service): it counts every connection it
// accepts and every request it serves, and would serve valid metadata, so
// that only the rule, never a failure, keeps discovery away from it.
type trap struct {
	srv         *httptest.Server
	conns, reqs atomic.Int32
}

func newTrap(t *testing.T) *trap {
	t.Helper()
	tr := &trap{}
	tr.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.reqs.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"issuer":"http://` + r.Host + `","token_endpoint":"http://` + r.Host + `/token","resource":"x","authorization_servers":[]}`))
	}))
	tr.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			tr.conns.Add(1)
		}
	}
	tr.srv.Start()
	t.Cleanup(tr.srv.Close)
	return tr
}

func (tr *trap) port() string { return strconv.Itoa(tr.srv.Listener.Addr().(*net.TCPAddr).Port) }

func (tr *trap) assertUntouched(t *testing.T) {
	t.Helper()
	if c, r := tr.conns.Load(), tr.reqs.Load(); c != 0 || r != 0 {
		t.Errorf("the trap at %s saw %d connections and %d requests, want none", tr.srv.URL, c, r)
	}
}

// treatAs classifies the loopback listeners of srvs (by port) as class,
// and every other address as it is: a loopback test server stands in for
// a server on a public or private network.
func treatAs(class netClass, srvs ...*httptest.Server) addrClassifier {
	ports := map[uint16]bool{}
	for _, s := range srvs {
		ports[s.Listener.Addr().(*net.TCPAddr).AddrPort().Port()] = true
	}
	return func(ap netip.AddrPort) netClass {
		if ap.Addr().Unmap() == netip.MustParseAddr("127.0.0.1") && ports[ap.Port()] {
			return class
		}
		return classifyAddr(ap.Addr())
	}
}

// discoveryProber returns a prober over a transport for raw, as a probe of
// raw would have, classifying addresses with classify (nil: as they are).
func discoveryProber(t *testing.T, raw string, classify addrClassifier) *prober {
	t.Helper()
	p := newProber(Target{Name: "t", URL: raw, Timeout: 10 * time.Second, classifyAddr: classify})
	ep, err := parseEndpoint(raw)
	if err != nil {
		t.Fatal(err)
	}
	p.httpc = newHTTPCapture(context.Background(), p.t, ep, p.rec, p.log)
	t.Cleanup(p.httpc.base.CloseIdleConnections)
	return p
}

// TestOAuthDiscoveryCannotBeSteered: a server's metadata names
// authorization servers, or redirects, where mcpdrift must not go. Each
// refusal is recorded as "not fetched: <why>" and the trap, a loopback
// listener on another port, sees no connection at all.
func TestOAuthDiscoveryCannotBeSteered(t *testing.T) {
	const loopbackFromPublic = "not fetched: a loopback address (the MCP server is on a public address)"
	tests := []struct {
		name  string
		class netClass // the MCP server's, simulated
		// prm is the protected resource metadata, with TRAP for the
		// trap's port and SELF for the server's origin; empty: redirect
		// it to the trap.
		prm    string
		status string            // "" means manifest.OAuthPresent
		want   map[string]string // issuer -> recorded error
	}{
		{
			name: "public server names loopback ports", class: netPublic,
			prm: `{"authorization_servers":["http://127.0.0.1:TRAP/internal/admin/approve","https://127.0.0.1:TRAP","http://localhost:TRAP","http://[::ffff:127.0.0.1]:TRAP"]}`,
			want: map[string]string{
				"http://127.0.0.1:TRAP/internal/admin/approve": loopbackFromPublic,
				"https://127.0.0.1:TRAP":                       loopbackFromPublic,
				// A name: refused by the dialer, on the address it resolved to.
				"http://localhost:TRAP":          loopbackFromPublic,
				"http://[::ffff:127.0.0.1]:TRAP": loopbackFromPublic,
			},
		},
		{
			name: "public server names link-local and cloud metadata", class: netPublic,
			prm: `{"authorization_servers":["http://169.254.169.254/latest/meta-data/iam","http://[fe80::1]:TRAP","https://metadata.google.internal/computeMetadata/v1","http://0.0.0.0:TRAP"]}`,
			want: map[string]string{
				"http://169.254.169.254/latest/meta-data/iam":         "not fetched: a cloud metadata address",
				"http://[fe80::1]:TRAP":                               "not fetched: a link-local address",
				"https://metadata.google.internal/computeMetadata/v1": "not fetched: a cloud metadata address",
				"http://0.0.0.0:TRAP":                                 "not fetched: a reserved or non-unicast address",
			},
		},
		{
			name: "private-network server names loopback", class: netPrivate,
			prm: `{"authorization_servers":["http://localhost:TRAP"]}`,
			want: map[string]string{
				"http://localhost:TRAP": "not fetched: a loopback address (the MCP server is on a private network address)",
			},
		},
		{
			name: "loopback server names link-local", class: netLoopback,
			prm: `{"authorization_servers":["http://169.254.169.254","http://[fe80::1%25lo]:TRAP"]}`,
			want: map[string]string{
				"http://169.254.169.254":     "not fetched: a cloud metadata address",
				"http://[fe80::1%25lo]:TRAP": "not fetched: a link-local address",
			},
		},
		{
			name: "public server redirects its metadata to another origin", class: netPublic,
			status: manifest.OAuthError,
		},
		{
			name: "loopback server redirects its metadata to another loopback origin", class: netLoopback,
			status: manifest.OAuthError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTrap(t)
			prm := strings.ReplaceAll(tt.prm, "TRAP", tr.port())
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasPrefix(r.URL.Path, wellKnownResource) {
					http.NotFound(w, r)
					return
				}
				if prm == "" {
					http.Redirect(w, r, tr.srv.URL+"/internal/admin/approve?server=github", http.StatusFound)
					return
				}
				_, _ = w.Write([]byte(prm))
			}))
			defer srv.Close()
			p := discoveryProber(t, srv.URL+"/mcp", treatAs(tt.class, srv))
			final, _ := url.Parse(srv.URL + "/mcp")
			o := p.discoverOAuth(context.Background(), final, "")

			tr.assertUntouched(t)
			if tt.status == manifest.OAuthError {
				if o.Status != manifest.OAuthError || o.Error != "not fetched: redirected to another origin" {
					t.Errorf("oauth = %+v, want the redirect refused", o)
				}
				return
			}
			if o.Status != manifest.OAuthPresent {
				t.Fatalf("oauth = %+v, want the server's own metadata fetched", o)
			}
			got := map[string]string{}
			for _, as := range o.AuthorizationServers {
				got[strings.ReplaceAll(as.Issuer, tr.port(), "TRAP")] = as.Error
			}
			for issuer, want := range tt.want {
				if got[issuer] != want {
					t.Errorf("authorization server %s: error %q, want %q", issuer, got[issuer], want)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("authorization servers %v, want %d", got, len(tt.want))
			}
		})
	}
}

// TestOAuthDiscoveryOnTheServersNetwork: what the rule allows still works:
// a server may redirect within its own origin, and a loopback (private)
// server may name a loopback (private) authorization server on another
// port; but a permitted authorization server cannot redirect elsewhere.
func TestOAuthDiscoveryOnTheServersNetwork(t *testing.T) {
	for _, class := range []netClass{netLoopback, netPrivate} {
		t.Run(class.String(), func(t *testing.T) {
			tr := newTrap(t)
			var asHits atomic.Int32
			var asURL, hopURL string
			as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asHits.Add(1)
				if r.URL.Path == wellKnownAS {
					_, _ = w.Write([]byte(`{"issuer":"` + asURL + `","token_endpoint":"` + asURL + `/token","scopes_supported":["read"]}`))
					return
				}
				http.NotFound(w, r)
			}))
			defer as.Close()
			asURL = as.URL
			// hop is an authorization server that redirects to the trap.
			hop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, tr.srv.URL+r.URL.Path, http.StatusMovedPermanently)
			}))
			defer hop.Close()
			hopURL = hop.URL
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case wellKnownResource + "/mcp":
					http.Redirect(w, r, "/prm", http.StatusFound)
				case "/prm":
					_, _ = w.Write([]byte(`{"resource":"r","authorization_servers":["` + asURL + `","` + hopURL + `"]}`))
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			p := discoveryProber(t, srv.URL+"/mcp", treatAs(class, srv, as, hop))
			final, _ := url.Parse(srv.URL + "/mcp")
			o := p.discoverOAuth(context.Background(), final, "")

			tr.assertUntouched(t)
			if o.Status != manifest.OAuthPresent || !strings.HasSuffix(o.Resource.MetadataURL, "/.well-known/oauth-protected-resource/mcp") {
				t.Fatalf("oauth = %+v, want the metadata found through a same-origin redirect", o)
			}
			got := map[string]manifest.AuthorizationServer{}
			for _, a := range o.AuthorizationServers {
				got[a.Issuer] = a
			}
			if a := got[asURL]; a.Error != "" || a.TokenEndpoint != asURL+"/token" || asHits.Load() == 0 {
				t.Errorf("authorization server on the server's network: %+v (%d requests), want it fetched", a, asHits.Load())
			}
			if a := got[hopURL]; a.Error != "not fetched: redirected to another origin" {
				t.Errorf("redirecting authorization server: %+v, want the redirect refused", a)
			}
		})
	}
}

// TestOAuthDiscoveryThroughAProxy: through an HTTP proxy, which resolves
// names itself, the rule is applied to what names resolve to here; the
// connection to the proxy itself (on loopback here) is allowed.
func TestOAuthDiscoveryThroughAProxy(t *testing.T) {
	tr := newTrap(t)
	var mu sync.Mutex
	var proxied []string // hosts the proxy was asked for
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		mu.Lock()
		proxied = append(proxied, pr.In.URL.Host)
		mu.Unlock()
		pr.Out.URL = pr.In.URL // absolute-form: a forward proxy
	}})
	defer proxy.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"resource":"r","authorization_servers":["http://localhost:` + tr.port() + `/admin","http://169.254.169.254"]}`))
	}))
	defer srv.Close()
	srvHost := srv.Listener.Addr().String()
	p := discoveryProber(t, srv.URL+"/mcp", treatAs(netPublic, srv))
	proxyURL, _ := url.Parse(proxy.URL)
	p.httpc.base.Proxy = http.ProxyURL(proxyURL)
	final, _ := url.Parse(srv.URL + "/mcp")
	o := p.discoverOAuth(context.Background(), final, "")

	tr.assertUntouched(t)
	if o.Status != manifest.OAuthPresent || len(o.AuthorizationServers) != 2 {
		t.Fatalf("oauth = %+v, want the metadata fetched through the proxy", o)
	}
	for _, as := range o.AuthorizationServers {
		if !strings.HasPrefix(as.Error, "not fetched: a ") {
			t.Errorf("authorization server %+v: want it refused", as)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(proxied) == 0 || slices.ContainsFunc(proxied, func(h string) bool { return h != srvHost }) {
		t.Errorf("the proxy was asked for %v, want only the server's own origin %s", proxied, srvHost)
	}
}

// TestProbeOAuthDiscoveryFromAPublicServer: a whole probe of a (simulated)
// public server whose metadata points at loopback and link-local
// addresses. The server's class comes from the address the MCP session
// connected to; nothing reaches the trap.
func TestProbeOAuthDiscoveryFromAPublicServer(t *testing.T) {
	tr := newTrap(t)
	ts := oauthMCPServer(t, `{"resource":"r","authorization_servers":["http://127.0.0.1:`+tr.port()+`","http://localhost:`+tr.port()+`/admin","http://169.254.169.254"]}`, nil)
	res, err := Probe(context.Background(), Target{Name: "public", URL: ts.URL + "/mcp", Timeout: 20 * time.Second, classifyAddr: treatAs(netPublic, ts)})
	if err != nil {
		t.Fatal(err)
	}
	tr.assertUntouched(t)
	o := res.Capture.Identity.OAuth
	if o == nil || o.Status != manifest.OAuthPresent || len(o.AuthorizationServers) != 3 {
		t.Fatalf("oauth = %+v, want the metadata and three refused authorization servers", o)
	}
	for _, as := range o.AuthorizationServers {
		if !strings.HasPrefix(as.Error, "not fetched: a ") || as.MetadataURL != "" {
			t.Errorf("authorization server %+v: want it refused", as)
		}
	}
}

// TestUserAgentIsTheClients: every HTTP request of a probe, to the MCP
// endpoint and for OAuth discovery (the server's metadata and its
// authorization server's), carries the User-Agent of the client identity
// advertised, over both HTTP transports.
func TestUserAgentIsTheClients(t *testing.T) {
	tests := []struct {
		name      string
		transport Transport
		client    ClientIdentity
		want      string
	}{
		{"derived", TransportStreamable, ClientIdentity{Name: "Visual Studio Code", Version: "1.99.0"}, "Visual-Studio-Code/1.99.0"},
		{"configured", TransportStreamable, ClientIdentity{Name: "claude-code", Version: "1.0.43", UserAgent: "claude-cli/1.0.43 (external, cli)"}, "claude-cli/1.0.43 (external, cli)"},
		{"legacy SSE", TransportSSE, ClientIdentity{Name: "cursor", Version: "0.50"}, "cursor/0.50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			seen := map[string]map[string]bool{} // "mcp" or "discovery" -> user agents
			record := func(what string, r *http.Request) {
				mu.Lock()
				defer mu.Unlock()
				if seen[what] == nil {
					seen[what] = map[string]bool{}
				}
				seen[what][r.Header.Get("User-Agent")] = true
			}
			var asURL string
			as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				record("discovery", r)
				_, _ = w.Write([]byte(`{"issuer":"` + asURL + `","token_endpoint":"` + asURL + `/token"}`))
			}))
			defer as.Close()
			asURL = as.URL
			ts := oauthMCPServer(t, `{"resource":"r","authorization_servers":["`+asURL+`"]}`, record)
			endpoint := ts.URL + "/mcp"
			if tt.transport == TransportSSE {
				endpoint = ts.URL + "/sse"
			}
			res, err := Probe(context.Background(), Target{Name: "ua", URL: endpoint, Transport: tt.transport, Timeout: 20 * time.Second, Client: tt.client})
			if err != nil {
				t.Fatal(err)
			}
			if as := res.Capture.Identity.OAuth.AuthorizationServers; len(as) != 1 || as[0].Error != "" {
				t.Fatalf("authorization servers %+v, want one fetched", as)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, what := range []string{"mcp", "discovery"} {
				if len(seen[what]) != 1 || !seen[what][tt.want] {
					t.Errorf("%s requests carried User-Agent %v, want only %q", what, seen[what], tt.want)
				}
			}
		})
	}
}

// oauthMCPServer serves a go-sdk MCP server at /mcp (streamable) and /sse
// (legacy), and prm as its protected resource metadata; record, if set,
// sees every request, as "mcp" or "discovery".
func oauthMCPServer(t *testing.T, prm string, record func(string, *http.Request)) *httptest.Server {
	t.Helper()
	srv := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{{Name: "t", InputSchema: map[string]any{"type": "object"}}}})
	get := func(*http.Request) *mcp.Server { return srv.SDK }
	streamable, sse := mcp.NewStreamableHTTPHandler(get, nil), mcp.NewSSEHandler(get, nil)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		what := "mcp"
		if strings.HasPrefix(r.URL.Path, "/.well-known/") {
			what = "discovery"
		}
		if record != nil {
			record(what, r)
		}
		switch {
		case strings.HasPrefix(r.URL.Path, wellKnownResource):
			_, _ = w.Write([]byte(prm))
		case what == "discovery":
			http.NotFound(w, r)
		case strings.HasPrefix(r.URL.Path, "/sse"):
			sse.ServeHTTP(w, r)
		default:
			streamable.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestMCPRedirectCannotBeSteered: the MCP endpoint of a public server that
// redirects to a loopback service, a link-local or cloud metadata address,
// or plain HTTP on a public one, is refused before any packet leaves; a
// redirect within the server's own network is still followed.
func TestMCPRedirectCannotBeSteered(t *testing.T) {
	tr := newTrap(t)
	tests := []struct {
		name, to string
		refused  bool
	}{
		{"loopback port", "http://127.0.0.1:" + tr.port() + "/internal/admin?x=1", true},
		{"loopback name", "http://localhost:" + tr.port() + "/mcp", true},
		{"link-local", "http://169.254.10.10/mcp", true},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", true},
		{"cloud metadata name", "http://metadata.google.internal/computeMetadata/v1/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			redirector := httptest.NewServer(http.RedirectHandler(tt.to, http.StatusTemporaryRedirect))
			t.Cleanup(redirector.Close)
			_, err := Probe(context.Background(), Target{Name: "public", URL: redirector.URL + "/mcp",
				Timeout: 20 * time.Second, classifyAddr: treatAs(netPublic, redirector)})
			if err == nil || !strings.Contains(err.Error(), "refused to follow a redirect") {
				t.Fatalf("err = %v, want the redirect refused", err)
			}
			tr.assertUntouched(t)
		})
	}

	t.Run("same network", func(t *testing.T) {
		target := oauthMCPServer(t, `{}`, nil)
		redirector := httptest.NewServer(http.RedirectHandler(target.URL+"/mcp", http.StatusPermanentRedirect))
		t.Cleanup(redirector.Close)
		res, err := Probe(context.Background(), Target{Name: "local", URL: redirector.URL + "/mcp", Timeout: 20 * time.Second})
		if err != nil {
			t.Fatalf("a loopback server redirecting on loopback: %v", err)
		}
		if got := res.Capture.Identity.URL; got != target.URL+"/mcp" {
			t.Errorf("final URL = %q, want %q", got, target.URL+"/mcp")
		}
	})
}
