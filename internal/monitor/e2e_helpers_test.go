package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/build"
	"github.com/mcpdrift/mcpdrift/store"
)

// hookRequest is one POST a hookReceiver answered.
type hookRequest struct {
	at     time.Time // on the daemon's clock (fake in most tests)
	wall   time.Time // real arrival time, for latency
	status int
	body   string
}

// hookAnswer decides the answer to the n-th request (1-based) arriving
// at now: a status and an optional Retry-After value.
type hookAnswer func(n int, now time.Time) (status int, retryAfter string)

// statuses answers the n-th request with codes[n-1], then the last code.
func statuses(codes ...int) hookAnswer {
	return func(n int, _ time.Time) (int, string) { return codes[min(n, len(codes))-1], "" }
}

// hookReceiver stands in for a Slack incoming webhook or a webhook
// receiver on loopback: it records every request and answers by script.
type hookReceiver struct {
	clock clock.Clock
	url   string

	mu     sync.Mutex
	answer hookAnswer
	reqs   []hookRequest
}

func newHookReceiver(t *testing.T, clock clock.Clock, answer hookAnswer) *hookReceiver {
	t.Helper()
	r := &hookReceiver{clock: clock, answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	// Shaped like a Slack incoming webhook; the path is the secret part.
	r.url = srv.URL + "/services/T0000/B0000/secretpath"
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	now := r.clock.Now()
	status, retryAfter := r.answer(len(r.reqs)+1, now)
	r.reqs = append(r.reqs, hookRequest{at: now, wall: time.Now(), status: status, body: string(body)})
	r.mu.Unlock()
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(status)
	if status == http.StatusOK {
		_, _ = io.WriteString(w, "ok")
		return
	}
	_, _ = fmt.Fprintf(w, "answer %d", status)
}

func (r *hookReceiver) setAnswer(a hookAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = a
}

func (r *hookReceiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.reqs...)
}

// accepted returns the requests answered with 2xx.
func (r *hookReceiver) accepted() []hookRequest {
	var out []hookRequest
	for _, q := range r.requests() {
		if q.status/100 == 2 {
			out = append(out, q)
		}
	}
	return out
}

// timeline summarizes the requests for logs and failure messages, as
// offsets from since.
func (r *hookReceiver) timeline(since time.Time) string {
	var parts []string
	for _, q := range r.requests() {
		parts = append(parts, fmt.Sprintf("+%s:%d", q.at.Sub(since), q.status))
	}
	return strings.Join(parts, " ")
}

// realNotifiers builds the configured notifiers with the production
// constructors, as `mcpdrift run` does.
func realNotifiers(cfg *config.Config) (map[string]notifiers.Notifier, error) {
	return build.Build(cfg.Notifiers, build.Deps{Logger: slogDiscard()})
}

// startReal runs an App on the fake clock with real notifiers, the real
// prober and test-sized retry backoff (1s doubling to 1m).
func startReal(t *testing.T, db *store.DB, clock *fakeClock, cfgYAML string) *harness {
	t.Helper()
	return start(t, db, Options{
		Config:    parseConfig(t, cfgYAML),
		Clock:     clock,
		Notifiers: realNotifiers,
		RetryMin:  time.Second,
		RetryMax:  time.Minute,
	})
}

// checkNow checks server through the daemon (as `mcpdrift check` over the
// admin socket does) and fails unless it reports drift.
func (h *harness) checkDrift(server string) report.Server {
	h.t.Helper()
	rep, err := h.app.Service().Check(context.Background(), []string{server})
	if err != nil {
		h.t.Fatalf("check %s: %v", server, err)
	}
	if len(rep.Servers) != 1 || rep.Servers[0].Status != report.StatusDrift {
		h.t.Fatalf("check %s: %+v, want drift", server, rep.Servers)
	}
	return rep.Servers[0]
}

// hasTimerAt reports whether a timer waits for exactly when.
func (c *fakeClock) hasTimerAt(when time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.timers {
		if t.when.Equal(when) {
			return true
		}
	}
	return false
}

// idleTimers wait while the daemon idles on the fake clock: the schedule
// loop of the one server and the reminder loop.
const idleTimers = 2

// settle waits until the daemon is idle on the fake clock: the schedule
// and reminder loops wait on their timers, and notifier's worker has
// nothing queued or sleeps until its oldest delivery is due. It returns
// that delivery, if any.
func (h *harness) settle(notifier string) (store.Delivery, bool) {
	h.t.Helper()
	var head store.Delivery
	var queued bool
	eventually(h.t, "the daemon to wait on the fake clock", func() bool {
		d, err := h.db.NextDelivery(notifier)
		switch {
		case errors.Is(err, store.ErrNotFound):
			queued = false
			return h.clock.Pending() >= idleTimers
		case err != nil:
			return false
		}
		head, queued = d, true
		return d.NextAttempt.After(h.clock.Now()) && h.clock.hasTimerAt(d.NextAttempt) && h.clock.Pending() >= idleTimers+1
	})
	return head, queued
}

// advanceToRetry waits for notifier's worker to sleep until its oldest
// delivery's next attempt, then advances the clock to it.
func (h *harness) advanceToRetry(notifier string) store.Delivery {
	h.t.Helper()
	d, ok := h.settle(notifier)
	if !ok {
		h.t.Fatalf("no delivery queued for %s", notifier)
	}
	h.clock.Advance(d.NextAttempt.Sub(h.clock.Now()))
	return d
}

// driveTo advances the clock to target, stopping at every retry of
// notifier's deliveries on the way so that each one happens at its time,
// and at least every DefaultReminderCheck so that the reminder loop sees
// every tick it would see in real time.
func (h *harness) driveTo(notifier string, target time.Time) {
	h.t.Helper()
	for {
		d, queued := h.settle(notifier)
		now := h.clock.Now()
		if !now.Before(target) {
			return
		}
		next := now.Add(DefaultReminderCheck)
		if target.Before(next) {
			next = target
		}
		if queued && d.NextAttempt.Before(next) {
			next = d.NextAttempt
		}
		h.clock.Advance(next.Sub(now))
	}
}

// freePort returns a loopback port nothing listens on (for now).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// mailbox is an in-process SMTP server without TLS or authentication
// (emersion/go-smtp) that keeps every message it accepts.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
}

func (m *mailbox) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.msgs...)
}

// serveMailbox starts the SMTP server on addr.
func serveMailbox(t *testing.T, addr string) *mailbox {
	t.Helper()
	m := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen for SMTP on %s: %v", addr, err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return m
}

type mailSession struct{ m *mailbox }

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, string(b))
	s.m.mu.Unlock()
	return nil
}
