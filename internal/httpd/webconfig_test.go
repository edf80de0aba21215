package httpd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A bcrypt hash (cost 4, the minimum, to keep the test fast) of
// promPassword, as an operator would write with htpasswd -nbBC 4.
const (
	promUser     = "prometheus"
	promPassword = "metrics-canary-pw"
	promHash     = "$2a$04$cYqfD/WDgsfi16.dAJSaVu.30k6NGAYTMzb.JnSckgFzbrRwwt4w6"
)

// serveWith runs a listener protected by the web config text until the
// test ends and returns its address.
func serveWith(t *testing.T, webConfig string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "web-config.yml")
	if err := os.WriteFile(path, []byte(webConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return start(t, Options{WebConfigFile: path})
}

// start listens on a free loopback port with opts (a test registry, ready,
// and a discarding logger unless set) and serves until the test ends.
func start(t *testing.T, opts Options) string {
	t.Helper()
	opts.Listen = "127.0.0.1:0"
	opts.Gatherer = testRegistry()
	if opts.Ready == nil {
		opts.Ready = readiness{}
	}
	opts.Logger = slog.New(slog.DiscardHandler)
	srv, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv.Addr()
}

func get(t *testing.T, client *http.Client, url, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// With basic auth in the web config, /metrics answers 401 without the
// credentials and 200 with them.
func TestMetricsBasicAuth(t *testing.T) {
	addr := serveWith(t, "basic_auth_users:\n  "+promUser+": "+promHash+"\n")
	for _, tt := range []struct {
		name, path, user, password string
		status                     int
	}{
		{"metrics without credentials", "/metrics", "", "", http.StatusUnauthorized},
		{"metrics with a wrong password", "/metrics", promUser, "guess", http.StatusUnauthorized},
		{"metrics with an unknown user", "/metrics", "mallory", promPassword, http.StatusUnauthorized},
		{"metrics with the credentials", "/metrics", promUser, promPassword, http.StatusOK},
		{"healthz is behind the same auth", "/healthz", "", "", http.StatusUnauthorized},
		{"healthz with the credentials", "/healthz", promUser, promPassword, http.StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, http.DefaultClient, "http://"+addr+tt.path, tt.user, tt.password)
			if status != tt.status {
				t.Fatalf("GET %s = %d %q, want %d", tt.path, status, body, tt.status)
			}
			if tt.path == "/metrics" && (status == http.StatusOK) != strings.Contains(body, "mcpdrift_test_total 3") {
				t.Errorf("metrics exposed = %v with status %d", strings.Contains(body, "mcpdrift_test_total"), status)
			}
		})
	}
}

// With tls_server_config, the listener speaks only TLS with the given
// certificate.
func TestMetricsTLS(t *testing.T) {
	dir := t.TempDir()
	pool := writeCert(t, dir)
	addr := serveWith(t, "tls_server_config:\n  cert_file: "+filepath.Join(dir, "cert.pem")+"\n  key_file: "+filepath.Join(dir, "key.pem")+"\n")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	if status, body := get(t, client, "https://"+addr+"/metrics", "", ""); status != http.StatusOK || !strings.Contains(body, "mcpdrift_test_total 3") {
		t.Errorf("GET https /metrics = %d %q", status, body)
	}
	if status, _ := get(t, http.DefaultClient, "http://"+addr+"/metrics", "", ""); status != http.StatusBadRequest {
		t.Errorf("GET plain http /metrics = %d, want 400 (the TLS server refuses plain HTTP)", status)
	}
}

// A web config the toolkit would refuse fails Listen, naming the key.
func TestWebConfigInvalid(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, text, want string }{
		{"password not a bcrypt hash", "basic_auth_users:\n  prometheus: plaintext\n", "http.web_config_file"},
		{"unknown key", "basic_auth_user: {}\n", "field basic_auth_user not found"},
		{"missing certificate", "tls_server_config:\n  cert_file: /nonexistent/cert.pem\n  key_file: /nonexistent/key.pem\n", "http.web_config_file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yml")
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			srv, err := Listen(Options{Listen: "127.0.0.1:0", WebConfigFile: path, Gatherer: testRegistry(),
				Ready: readiness{}, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				srv.ln.Close()
				t.Fatal("Listen accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("Listen: %v, want it to name %s and mention %q", err, path, tt.want)
			}
		})
	}
	if _, err := Listen(Options{Listen: "127.0.0.1:0", WebConfigFile: filepath.Join(dir, "none.yml"), Gatherer: testRegistry(),
		Ready: readiness{}, Logger: slog.New(slog.DiscardHandler)}); err == nil {
		t.Error("Listen accepted a missing web config file")
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 to dir
// (cert.pem, key.pem) and returns a pool that trusts it.
func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mcpdrift test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool
}
