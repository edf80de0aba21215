package cli

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// healthServer answers /healthz with status and body, and 404 elsewhere.
func healthServer(t *testing.T, status int, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != healthPath {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// healthConfig writes a minimal config with http.listen set to listen.
func healthConfig(t *testing.T, listen string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, path, fmt.Sprintf(`storage: {path: %s}
servers:
  - {name: a, url: "http://127.0.0.1:1/mcp"}
http: {listen: %q}
`, filepath.Join(dir, "db"), listen))
	return path
}

func TestHealthcheck(t *testing.T) {
	ok := healthServer(t, http.StatusOK, "ok\n")
	failing := healthServer(t, http.StatusInternalServerError, "database: locked\nsecond line")
	redirect := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/", http.StatusFound))
	t.Cleanup(redirect.Close)
	stopped := httptest.NewServer(http.NotFoundHandler())
	stoppedURL := stopped.URL + healthPath
	stopped.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers; released when the client gives up
	}))
	t.Cleanup(slow.Close)

	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ok.URL, "http://"))
	_, failPort, _ := net.SplitHostPort(strings.TrimPrefix(failing.URL, "http://"))

	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string
		stderr []string
	}{
		{"live", nil, []string{"healthcheck", "--url", ok.URL + healthPath}, 0, "healthy: GET " + ok.URL + "/healthz: 200 OK", nil},
		{"url without a path asks /healthz", nil, []string{"healthcheck", "--url", ok.URL}, 0, "200 OK", nil},
		{"stopped", nil, []string{"healthcheck", "--url", stoppedURL}, 1, "", []string{"unhealthy: GET " + stoppedURL, "connection refused"}},
		{"500 with the daemon's reason", nil, []string{"healthcheck", "--url", failing.URL + healthPath}, 1, "", []string{"500 Internal Server Error: database: locked"}},
		{"wrong path is 404", nil, []string{"healthcheck", "--url", ok.URL + "/metrics"}, 1, "", []string{"404"}},
		{"redirect is not health", nil, []string{"healthcheck", "--url", redirect.URL}, 1, "", []string{"302"}},
		{"no answer in time", nil, []string{"healthcheck", "--url", slow.URL, "--timeout", "100ms"}, 1, "", []string{"no answer within 100ms"}},
		{"bad url", nil, []string{"healthcheck", "--url", "127.0.0.1:9464"}, 1, "", []string{"want an http://"}},
		{"from config, 0.0.0.0 asked on loopback", map[string]string{"MCPDRIFT_CONFIG": healthConfig(t, "0.0.0.0:"+port)}, []string{"healthcheck"}, 0, "http://127.0.0.1:" + port + "/healthz", nil},
		{"from config, [::] asked on loopback", map[string]string{"MCPDRIFT_CONFIG": healthConfig(t, "[::]:"+port)}, []string{"healthcheck"}, 0, "http://127.0.0.1:" + port + "/healthz", nil},
		{"from config, unhealthy", map[string]string{"MCPDRIFT_CONFIG": healthConfig(t, "127.0.0.1:"+failPort)}, []string{"healthcheck"}, 1, "", []string{"500"}},
		{"--url wins over the config", map[string]string{"MCPDRIFT_CONFIG": healthConfig(t, "127.0.0.1:"+failPort)}, []string{"healthcheck", "--url", ok.URL}, 0, "200 OK", nil},
		{"listener disabled", map[string]string{"MCPDRIFT_CONFIG": healthConfig(t, "")}, []string{"healthcheck"}, 1, "", []string{"http.listen is empty"}},
		{"no config and no --url", map[string]string{"MCPDRIFT_CONFIG": filepath.Join(t.TempDir(), "none.yaml")}, []string{"healthcheck"}, 1, "", []string{"none.yaml", "or pass --url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, tt.args...)
			expect(t, r, tt.code, tt.stdout, tt.stderr...)
			// Docker shows the probe's output in `docker inspect`: one line.
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("stderr has %d extra lines: %q", n, r.stderr)
			}
		})
	}
}

func TestListenURL(t *testing.T) {
	tests := []struct {
		name, listen, want string
	}{
		{"loopback", "127.0.0.1:9464", "http://127.0.0.1:9464/healthz"},
		{"ipv4 wildcard", "0.0.0.0:9464", "http://127.0.0.1:9464/healthz"},
		{"ipv6 wildcard", "[::]:9464", "http://127.0.0.1:9464/healthz"},
		{"empty host", ":9464", "http://127.0.0.1:9464/healthz"},
		{"ipv6 loopback", "[::1]:9464", "http://[::1]:9464/healthz"},
		{"name", "localhost:80", "http://localhost:80/healthz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := listenURL(tt.listen)
			if err != nil || got != tt.want {
				t.Errorf("listenURL(%q) = %q, %v; want %q", tt.listen, got, err, tt.want)
			}
		})
	}
	if _, err := listenURL("9464"); err == nil {
		t.Error("listenURL without a port separator succeeded")
	}
}

// daemonServingHTTP runs the daemon with its admin socket and its health
// listener (http settings beyond listen in httpExtra) on a free loopback
// port until the test ends, and returns its environment, listen address
// and a function that stops it.
func daemonServingHTTP(t *testing.T, httpExtra string) (env map[string]string, addr string, stop func()) {
	t.Helper()
	dir := shortTempDir(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	sock := filepath.Join(dir, "admin.sock")
	cfg, _ := setup(t, fmt.Sprintf("admin: {socket: %s}\nhttp: {listen: %q%s}\n", sock, addr, httpExtra))
	env = map[string]string{"MCPDRIFT_CONFIG": cfg}
	return env, addr, startDaemon(t, env, sock)
}

// TestHealthcheckAgainstDaemon: 0 while the real daemon serves /healthz,
// 1 once it has stopped.
func TestHealthcheckAgainstDaemon(t *testing.T) {
	env, _, stop := daemonServingHTTP(t, "")
	if r := run(t, env, "healthcheck"); r.code != 0 {
		t.Fatalf("healthcheck against a live daemon: %+v", r)
	}
	stop()
	if r := run(t, env, "healthcheck"); r.code != 1 {
		t.Fatalf("healthcheck against a stopped daemon: %+v", r)
	}
}

// With http.web_config_file asking for basic auth, the daemon's /healthz
// answers 401 without credentials, and healthcheck passes them from
// --url's user info without ever printing the password.
func TestHealthcheckWithWebConfig(t *testing.T) {
	const (
		password = "hc-canary-pw"
		// bcrypt, cost 4, of password (htpasswd -nbBC 4 healthcheck hc-canary-pw)
		hash = "$2a$04$zfx8u1hRBfqmZRIotO/loubSa0BQMWqnqBd0wbEQJ1vFZ1p13cplS"
	)
	web := filepath.Join(t.TempDir(), "web-config.yml")
	writeFile(t, web, "basic_auth_users:\n  healthcheck: "+hash+"\n")
	env, addr, _ := daemonServingHTTP(t, ", web_config_file: "+web)
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no credentials", []string{"healthcheck"}, 1, "401 Unauthorized"},
		{"wrong password", []string{"healthcheck", "--url", "http://healthcheck:guess@" + addr}, 1, "401 Unauthorized"},
		{"credentials in the URL", []string{"healthcheck", "--url", "http://healthcheck:" + password + "@" + addr}, 0, "healthy: GET http://healthcheck:xxxxx@" + addr + "/healthz: 200 OK"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, env, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Fatalf("got %+v, want exit %d and %q", r, tt.code, tt.want)
			}
			if strings.Contains(r.stdout+r.stderr, password) {
				t.Errorf("the password was printed: %+v", r)
			}
		})
	}
}
