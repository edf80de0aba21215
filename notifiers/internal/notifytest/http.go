package notifytest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/mcpdrift/mcpdrift/notifiers"
)

// Request is one request a Receiver got.
type Request struct {
	Method string
	Path   string // with the query
	Header http.Header
	Body   []byte
}

// Receiver is a local HTTP destination (an httptest server on a real
// loopback socket) that records every request and answers with its reply.
type Receiver struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string

	reply func(http.ResponseWriter)
	mu    sync.Mutex
	got   []Request
}

// NewReceiver starts a Receiver that answers with reply (nil: 200 and no
// body), stopped when the test ends.
func NewReceiver(t testing.TB, reply func(http.ResponseWriter)) *Receiver {
	t.Helper()
	rc := &Receiver{reply: reply}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, Request{r.Method, r.URL.RequestURI(), r.Header.Clone(), body})
		rc.mu.Unlock()
		if rc.reply != nil {
			rc.reply(w)
		}
	}))
	t.Cleanup(srv.Close)
	rc.URL = srv.URL
	return rc
}

// Requests returns what the receiver got so far.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.got...)
}

// Reply answers with status code, an optional "Name: value" header and a
// body.
func Reply(code int, header, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if header != "" {
			k, v, _ := strings.Cut(header, ": ")
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// ClosedURL is the base URL of a loopback port nothing listens on: a
// connection to it is refused.
func ClosedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// SecretFileReadAtSend checks that n reads its secret from the file at
// path at each send: while the file is missing a send fails without
// showing a canary, and once content is written there the next send
// reaches rc.
func SecretFileReadAtSend(t *testing.T, n notifiers.Notifier, path, content string, rc *Receiver) {
	t.Helper()
	if _, err := n.Notify(context.Background(), Test()); err == nil {
		t.Fatal("Notify succeeded without its secret file")
	} else {
		NoCanary(t, "error", err.Error())
	}
	if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), Test()); err != nil {
		t.Fatalf("after writing the secret file: %v", err)
	}
	if got := len(rc.Requests()); got != 1 {
		t.Errorf("%d posts after the secret file appeared, want 1", got)
	}
}
