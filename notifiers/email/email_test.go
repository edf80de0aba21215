package email

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/notifytest"
)

const user = "mcpdrift"

// delivered is one message the test server accepted.
type delivered struct {
	from   string
	to     []string
	data   []byte
	tls    bool
	authed string
}

// mailServer is an in-process SMTP server (emersion/go-smtp).
type mailServer struct {
	mu      sync.Mutex
	msgs    []delivered
	rcptErr error // returned by RCPT when set
	addr    string
}

func (m *mailServer) all() []delivered {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]delivered(nil), m.msgs...)
}

type serverOpts struct {
	cert     *tls.Certificate // nil: no TLS at all
	implicit bool             // TLS from the first byte instead of STARTTLS
	auth     bool             // require AUTH PLAIN as user / CanaryPassword
	rcptErr  error
}

func startServer(t *testing.T, o serverOpts) *mailServer {
	t.Helper()
	ms := &mailServer{rcptErr: o.rcptErr}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ms: ms, conn: c, needAuth: o.auth}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if o.cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*o.cert}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = l.Addr().String()
	if o.implicit {
		l = tls.NewListener(l, srv.TLSConfig)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return ms
}

type session struct {
	ms       *mailServer
	conn     *smtp.Conn
	needAuth bool
	authed   string
	from     string
	to       []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != user || password != notifytest.CanaryPassword {
			return smtp.ErrAuthFailed
		}
		s.authed = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.needAuth && s.authed == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.ms.rcptErr != nil {
		return s.ms.rcptErr
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.ms.mu.Lock()
	s.ms.msgs = append(s.ms.msgs, delivered{from: s.from, to: s.to, data: b, tls: isTLS, authed: s.authed})
	s.ms.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// testCert makes a self-signed certificate for the given names and the
// pool that trusts it.
func testCert(t *testing.T, dnsNames []string, ips []net.IP) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mcpdrift test smtp"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func localCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	return testCert(t, []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
}

func newNotifier(t *testing.T, addr, policy string, withAuth bool, roots *x509.CertPool, logs io.Writer) *Notifier {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	s := &config.SMTP{Host: host, Port: p, TLS: policy}
	if withAuth {
		s.Username, s.Password = user, config.NewSecret(notifytest.CanaryPassword)
	}
	if logs == nil {
		logs = io.Discard
	}
	n, err := New(config.Notifier{
		Name: "oncall", Type: config.NotifierEmail, SMTP: s,
		From: "mcpdrift <mcpdrift@example.com>", To: []string{"secops@example.com", "Bob <bob@example.org>"},
	}, Options{
		TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		Timeout:   5 * time.Second,
		HELO:      "mcpdrift.test",
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// parsed is a delivered message read back with net/mail and
// mime/multipart.
type parsed struct {
	header mail.Header
	text   string
	html   string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	p := parsed{header: m.Header}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var order []string
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(part) // quoted-printable is decoded by multipart
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cp["charset"] != "UTF-8" && cp["charset"] != "utf-8" {
			t.Errorf("part %s has charset %q", ct, cp["charset"])
		}
		s := strings.ReplaceAll(string(body), "\r\n", "\n")
		switch ct {
		case "text/plain":
			p.text = s
		case "text/html":
			p.html = s
		}
		order = append(order, ct)
	}
	// The richest part comes last in multipart/alternative.
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Errorf("parts = %v, want text/plain then text/html", order)
	}
	return p
}

func subject(t *testing.T, h mail.Header) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSendOverSTARTTLSWithAuth(t *testing.T) {
	cert, roots := localCert(t)
	ms := startServer(t, serverOpts{cert: &cert, auth: true})
	var logs bytes.Buffer
	n := newNotifier(t, ms.addr, config.SMTPStartTLS, true, roots, &logs)
	a := notifytest.RichDrift()
	if retry, err := n.Notify(context.Background(), a); err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	msgs := ms.all()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	d := msgs[0]
	if !d.tls || d.authed != user {
		t.Errorf("tls %v, authenticated as %q", d.tls, d.authed)
	}
	if d.from != "mcpdrift@example.com" || strings.Join(d.to, ",") != "secops@example.com,bob@example.org" {
		t.Errorf("envelope from %q to %v", d.from, d.to)
	}
	p := parse(t, d.data)
	h := p.header
	checks := map[string]string{
		"From":                     `"mcpdrift" <mcpdrift@example.com>`,
		"To":                       `<secops@example.com>, "Bob" <bob@example.org>`,
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "All",
		"X-Mcpdrift-Incident":      notifytest.Incident,
		"In-Reply-To":              "",
		"References":               "",
	}
	for k, want := range checks {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := subject(t, h); got != "[mcpdrift] github: drift" {
		t.Errorf("Subject = %q", got)
	}
	id, _ := MessageIDs("oncall", "example.com", a)
	if h.Get("Message-Id") != "<"+id+">" || !strings.HasSuffix(id, "@example.com") {
		t.Errorf("Message-ID = %q, want <%s>", h.Get("Message-Id"), id)
	}
	date, err := h.Date()
	if err != nil || !date.Equal(notifytest.Now) {
		t.Errorf("Date = %v (%v), want %v", date, err, notifytest.Now)
	}
	v := newView(a, "oncall")
	wantHTML, _ := htmlBody(v)
	if p.text != textBody(v) {
		t.Errorf("text part differs from the rendering:\n%s", p.text)
	}
	if p.html != wantHTML {
		t.Errorf("html part differs from the rendering:\n%s", p.html)
	}
	notifytest.NoCanary(t, "logs", logs.String())
	notifytest.NoCanary(t, "message", string(d.data))
}

func TestThreadingHeaders(t *testing.T) {
	cert, roots := localCert(t)
	ms := startServer(t, serverOpts{cert: &cert})
	n := newNotifier(t, ms.addr, config.SMTPStartTLS, false, roots, nil)
	for _, a := range []*notifiers.Alert{notifytest.RichDrift(), notifytest.Reminder(1), notifytest.Reminder(2), notifytest.Resolved(), notifytest.RichDrift()} {
		if _, err := n.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	msgs := ms.all()
	if len(msgs) != 5 {
		t.Fatalf("got %d messages", len(msgs))
	}
	var hs []mail.Header
	for _, d := range msgs {
		hs = append(hs, parse(t, d.data).header)
	}
	first := hs[0].Get("Message-Id")
	firstSubject := subject(t, hs[0])
	seen := map[string]bool{}
	for i, h := range hs[1:4] {
		id := h.Get("Message-Id")
		if id == first || seen[id] {
			t.Errorf("message %d reuses Message-ID %s", i+1, id)
		}
		seen[id] = true
		if h.Get("In-Reply-To") != first || h.Get("References") != first {
			t.Errorf("message %d: In-Reply-To %q References %q, want %q", i+1, h.Get("In-Reply-To"), h.Get("References"), first)
		}
	}
	for i, h := range hs[1:3] {
		if got := subject(t, h); got != firstSubject {
			t.Errorf("reminder %d subject %q, want %q", i+1, got, firstSubject)
		}
	}
	if got := subject(t, hs[3]); got != "Re: "+firstSubject {
		t.Errorf("resolved subject %q, want %q", got, "Re: "+firstSubject)
	}
	if hs[4].Get("Message-Id") != first {
		t.Errorf("a resent first alert got a new Message-ID %q; ids must be deterministic", hs[4].Get("Message-Id"))
	}
}

func TestMessageIDsPerNotifierAndTest(t *testing.T) {
	a := notifytest.RichDrift()
	id1, _ := MessageIDs("oncall", "example.com", a)
	id2, _ := MessageIDs("other", "example.com", a)
	if id1 == id2 {
		t.Error("two notifiers share a Message-ID for one incident")
	}
	t1, p := MessageIDs("oncall", "example.com", notifytest.Test())
	tt := notifytest.Test()
	tt.At = tt.At.Add(time.Second)
	t2, _ := MessageIDs("oncall", "example.com", tt)
	if t1 == t2 || p != "" {
		t.Errorf("test messages: ids %q %q parent %q", t1, t2, p)
	}
	if got := idDomain("not an address"); got != "mcpdrift.invalid" {
		t.Errorf("idDomain fallback = %q", got)
	}
}

func TestBodiesGolden(t *testing.T) {
	tests := []struct {
		name  string
		alert *notifiers.Alert
	}{
		{"drift", notifytest.RichDrift()},
		{"changed-again", notifytest.ChangedAgain()},
		{"reminder", notifytest.Reminder(2)},
		{"resolved", notifytest.Resolved()},
		{"unreachable", notifytest.Unreachable()},
		{"test", notifytest.Test()},
		{"huge", notifytest.Huge(200)},
		{"upgrade", notifytest.Upgrade(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newView(tt.alert, "oncall")
			h, err := htmlBody(v)
			if err != nil {
				t.Fatal(err)
			}
			notifytest.Golden(t, tt.name+".txt.golden", []byte(textBody(v)))
			notifytest.Golden(t, tt.name+".html.golden", []byte(h))
			if strings.Contains(h, "<style") || strings.Contains(h, "src=") || strings.Contains(h, "href=") || strings.Contains(h, "ZgotmplZ") {
				t.Error("HTML uses <style>, remote resources, links, or a value html/template rejected")
			}
			if tt.name == "test" && (!strings.Contains(h, "mcpdrift test message — no action needed") || !strings.Contains(textBody(v), "No action needed")) {
				t.Error("test message not marked as a test")
			}
		})
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name  string
		alert *notifiers.Alert
		want  string
	}{
		{"drift", notifytest.RichDrift(), "[mcpdrift] github: drift"},
		{"reminder", notifytest.Reminder(3), "[mcpdrift] github: drift"},
		{"changed again", notifytest.ChangedAgain(), "[mcpdrift] github: drift"},
		{"resolved", notifytest.Resolved(), "Re: [mcpdrift] github: drift"},
		{"unreachable", notifytest.Unreachable(), "[mcpdrift] files: unreachable"},
		{"test", notifytest.Test(), "[mcpdrift] TEST: mcpdrift test message — no action needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Subject(tt.alert); got != tt.want {
				t.Errorf("Subject = %q, want %q", got, tt.want)
			}
		})
	}
	// A resolution carries the report of the resolved state (no changes):
	// its subject is still the incident's, so mail clients thread it.
	empty := notifytest.Resolved()
	empty.Report.Changes = nil
	if got, want := Subject(empty), "Re: "+Subject(notifytest.RichDrift()); got != want {
		t.Errorf("resolution with no changes left: subject %q, want %q", got, want)
	}
	r := notifytest.Unreachable()
	r.Kind, r.Resolves = notifiers.KindResolved, notifiers.KindUnreachable
	if got := Subject(r); got != "Re: "+Subject(notifytest.Unreachable()) {
		t.Errorf("recovered subject %q", got)
	}
}

func TestTLSPolicies(t *testing.T) {
	cert, roots := localCert(t)
	otherCert, otherRoots := testCert(t, []string{"mail.example.com"}, nil)
	tests := []struct {
		name      string
		server    serverOpts
		policy    string
		roots     *x509.CertPool
		auth      bool
		wantErr   string // "" means delivered
		wantRetry bool
		wantTLS   bool
	}{
		{"starttls", serverOpts{cert: &cert}, config.SMTPStartTLS, roots, false, "", false, true},
		{"starttls without server support", serverOpts{}, config.SMTPStartTLS, roots, false,
			"does not offer STARTTLS; set smtp.tls: none only on a trusted network", false, false},
		{"none", serverOpts{}, config.SMTPNone, nil, false, "", false, false},
		{"implicit tls", serverOpts{cert: &cert, implicit: true}, config.SMTPTLS, roots, true, "", false, true},
		{"implicit tls against a plain server", serverOpts{}, config.SMTPTLS, roots, false, "did not answer with TLS", false, false},
		{"untrusted certificate", serverOpts{cert: &cert}, config.SMTPStartTLS, x509.NewCertPool(), false,
			"the TLS certificate of 127.0.0.1 cannot be trusted", false, false},
		{"certificate for another host", serverOpts{cert: &otherCert}, config.SMTPStartTLS, otherRoots, false,
			"the TLS certificate of 127.0.0.1 cannot be trusted: dial failed: tls: failed to verify certificate: x509: cannot validate certificate for 127.0.0.1", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := startServer(t, tt.server)
			var logs bytes.Buffer
			n := newNotifier(t, ms.addr, tt.policy, tt.auth, tt.roots, &logs)
			retry, err := n.Notify(context.Background(), notifytest.Test())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				msgs := ms.all()
				if len(msgs) != 1 || msgs[0].tls != tt.wantTLS {
					t.Fatalf("delivered %d messages, tls %v; want 1 over tls=%v", len(msgs), len(msgs) == 1 && msgs[0].tls, tt.wantTLS)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v", retry, tt.wantRetry)
			}
			if !strings.Contains(err.Error(), "email notifier oncall: smtp server "+ms.addr) {
				t.Errorf("error does not name the notifier and server: %v", err)
			}
			if len(ms.all()) != 0 {
				t.Error("a message was delivered despite the failure")
			}
			notifytest.NoCanary(t, "logs", logs.String())
		})
	}
}

func TestDeliveryFaults(t *testing.T) {
	cert, roots := localCert(t)
	refused := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}
	tests := []struct {
		name      string
		server    *serverOpts // nil: nothing listens
		password  string
		wantRetry bool
		wantErr   string
	}{
		{"wrong password", &serverOpts{cert: &cert, auth: true}, "wrong-CANARY-smtp-password-4242", false, "authentication as mcpdrift failed"},
		{"temporary rejection", &serverOpts{cert: &cert, auth: true, rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}}, "", true, "try later"},
		{"permanent rejection", &serverOpts{cert: &cert, auth: true, rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}}, "", false, "no such user"},
		{"connection refused", nil, "", true, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := refused(t)
			if tt.server != nil {
				addr = startServer(t, *tt.server).addr
			}
			var logs bytes.Buffer
			n := newNotifier(t, addr, config.SMTPStartTLS, true, roots, &logs)
			if tt.password != "" {
				n.password = config.NewSecret(tt.password)
			}
			retry, err := n.Notify(context.Background(), notifytest.RichDrift())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if retry != tt.wantRetry {
				t.Errorf("retry = %v, want %v (%v)", retry, tt.wantRetry, err)
			}
			notifytest.NoCanary(t, "error", fmt.Sprintf("%v %+v", err, err))
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				notifytest.NoCanary(t, "wrapped error", e.Error())
			}
			if strings.Contains(err.Error(), "wrong-CANARY") {
				t.Errorf("the password appears in %v", err)
			}
			notifytest.NoCanary(t, "logs", logs.String())
		})
	}
}

func TestPasswordFileReadAtSend(t *testing.T) {
	cert, roots := localCert(t)
	ms := startServer(t, serverOpts{cert: &cert, auth: true})
	n := newNotifier(t, ms.addr, config.SMTPStartTLS, true, roots, nil)
	path := t.TempDir() + "/pass"
	n.password = config.NewSecretFile(path)
	if _, err := n.Notify(context.Background(), notifytest.Test()); err == nil {
		t.Fatal("sent without a password file")
	}
	if err := writeFile(path, notifytest.CanaryPassword+"\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Notify(context.Background(), notifytest.Test()); err != nil {
		t.Fatalf("after writing the password file: %v", err)
	}
}

func TestInjectionInert(t *testing.T) {
	cert, roots := localCert(t)
	ms := startServer(t, serverOpts{cert: &cert})
	n := newNotifier(t, ms.addr, config.SMTPStartTLS, false, roots, nil)
	kinds := []string{notifiers.KindDrift, notifiers.KindResolved, notifiers.KindUnreachable}
	for _, kind := range kinds {
		if _, err := n.Notify(context.Background(), notifytest.InjectionAlert(kind)); err != nil {
			t.Fatal(err)
		}
	}
	for i, d := range ms.all() {
		t.Run(kinds[i], func(t *testing.T) {
			p := parse(t, d.data)
			for _, problem := range notifytest.Inert(p.text, false) {
				t.Errorf("text part: %s", problem)
			}
			for _, problem := range notifytest.Inert(p.html, true) {
				t.Errorf("html part: %s", problem)
			}
			for _, raw := range []string{"<!channel", "<script", "<img", "<a ", "</td></tr></table><table>"} {
				if strings.Contains(p.html, raw) {
					t.Errorf("html part carries raw %q", raw)
				}
			}
			if !strings.Contains(p.html, "&lt;script&gt;") || !strings.Contains(p.html, `&lt;U+202E&gt;</span>`) {
				t.Error("html part lacks the escaped forms")
			}
			if !strings.Contains(p.text, "‹script›") || !strings.Contains(p.text, "hxxps://evil.example") {
				t.Error("text part lacks the escaped forms")
			}
			subj := subject(t, p.header)
			for _, problem := range notifytest.Forbidden(subj, false) {
				t.Errorf("subject: %s", problem)
			}
			for k, vs := range p.header {
				for _, v := range vs {
					if strings.ContainsAny(v, "\r\n\x1b\u202e\u200b") {
						t.Errorf("header %s carries a raw control or invisible character: %q", k, v)
					}
				}
			}
		})
	}
}

// Each corpus item alone, through every kind of message.
func TestRenderInjectionPerItem(t *testing.T) {
	for _, kind := range []string{notifiers.KindDrift, notifiers.KindResolved, notifiers.KindUnreachable, notifiers.KindTest, "other"} {
		for i, h := range notifytest.Corpus {
			t.Run(fmt.Sprintf("%s/%d", kind, i), func(t *testing.T) {
				a := notifytest.InjectionAlertWith(kind, h)
				v := newView(a, h)
				html, err := htmlBody(v)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range notifytest.Forbidden(textBody(v), false) {
					t.Errorf("text: %s", p)
				}
				for _, p := range notifytest.Forbidden(html, true) {
					t.Errorf("html: %s", p)
				}
				for _, p := range notifytest.Forbidden(Subject(a), false) {
					t.Errorf("subject: %s", p)
				}
			})
		}
	}
}

func TestNew(t *testing.T) {
	good := config.Notifier{Name: "x", Type: "email", SMTP: &config.SMTP{Host: "h"}, From: "a@b.c", To: []string{"d@e.f"}}
	n, err := New(good, Options{})
	if err != nil || n.port != 587 || n.policy != config.SMTPStartTLS || n.domain != "b.c" {
		t.Fatalf("New = %+v, %v; want port 587, starttls, domain b.c", n, err)
	}
	tests := []struct {
		name   string
		mutate func(*config.Notifier)
		want   string
	}{
		{"wrong type", func(c *config.Notifier) { c.Type = "slack" }, "not email"},
		{"no smtp", func(c *config.Notifier) { c.SMTP = nil }, "smtp.host"},
		{"no recipients", func(c *config.Notifier) { c.To = nil }, "from and to"},
		{"bad policy", func(c *config.Notifier) { c.SMTP = &config.SMTP{Host: "h", TLS: "ssl"} }, "unknown smtp.tls"},
		{"password without user", func(c *config.Notifier) {
			c.SMTP = &config.SMTP{Host: "h", Password: config.NewSecret("p")}
		}, "needs smtp.username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			if _, err := New(cfg, Options{}); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }

// TestUpgradeRugPullFirst: in a real 148-change upgrade, the poisoned
// description is the first change both bodies show.
func TestUpgradeRugPullFirst(t *testing.T) {
	v := newView(notifytest.Upgrade(t), "oncall")
	h, err := htmlBody(v)
	if err != nil {
		t.Fatal(err)
	}
	notifytest.RugPullFirst(t, textBody(v))
	notifytest.RugPullFirst(t, h)
}

// A resolution whose report has no changes left (the resolved state) does
// not say "0 changes".
func TestResolvedWithoutChangesLeft(t *testing.T) {
	a := notifytest.Resolved()
	a.Report.Changes = nil
	v := newView(a, "oncall")
	h, err := htmlBody(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{textBody(v), h} {
		if strings.Contains(body, "0 changes") || !strings.Contains(body, "is resolved") {
			t.Errorf("resolution body:\n%s", body)
		}
	}
}
