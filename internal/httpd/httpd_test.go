package httpd

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type readiness struct{ err error }

func (r readiness) Ready() error { return r.err }

func testRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "mcpdrift_test_total", Help: "A test counter."})
	c.Add(3)
	reg.MustRegister(c)
	return reg
}

func TestHandler(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		ready      error
		wantStatus int
		wantBody   string
	}{
		{"healthz", "GET", "/healthz", errors.New("irrelevant"), 200, "ok\n"},
		{"ready", "GET", "/readyz", nil, 200, "ok\n"},
		{"not ready says why", "GET", "/readyz", errors.New("first cycle not finished"), 503, "not ready: first cycle not finished\n"},
		{"metrics", "GET", "/metrics", nil, 200, "mcpdrift_test_total 3"},
		{"unknown path", "GET", "/debug/pprof/", nil, 404, ""},
		{"wrong method", "POST", "/metrics", nil, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := start(t, Options{Ready: readiness{tt.ready}})
			req, _ := http.NewRequest(tt.method, "http://"+addr+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("%s %s = %d %q, want %d containing %q", tt.method, tt.path, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestListenErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	log := slog.New(slog.DiscardHandler)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"empty address", Options{Gatherer: testRegistry(), Ready: readiness{}, Logger: log}, "empty listen address"},
		{"missing dependencies", Options{Listen: "127.0.0.1:0"}, "required"},
		{"port in use", Options{Listen: taken.Addr().String(), Gatherer: testRegistry(), Ready: readiness{}, Logger: log}, "http.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := Listen(tt.opts)
			if err == nil {
				srv.ln.Close()
				t.Fatal("Listen succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Listen: %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestServeStopsWithHangingClient checks that shutdown is bounded even with
// a client that holds a connection open mid-request.
func TestServeStopsWithHangingClient(t *testing.T) {
	const bound = 200 * time.Millisecond
	srv, err := Listen(Options{Listen: "127.0.0.1:0", Gatherer: testRegistry(), Ready: readiness{}, Logger: slog.New(slog.DiscardHandler), ShutdownTimeout: bound})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")); err != nil { // headers never finished
		t.Fatal(err)
	}
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(bound + 5*time.Second):
		t.Fatal("Serve did not return")
	}
	if took := time.Since(start); took > bound+time.Second {
		t.Errorf("shutdown took %s", took)
	}
}
