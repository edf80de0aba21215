package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/notifiers"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"Mon, 23 Nov 2026 09:01:00 GMT", time.Minute, true},
		{"Mon, 23 Nov 2026 08:00:00 GMT", 0, true},
		{"999999999", 86400 * time.Second, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatus(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name      string
		resp      Response
		wantRetry bool
		wantErr   bool
		wantAfter time.Duration
	}{
		{"200", Response{Status: 200}, false, false, 0},
		{"204", Response{Status: 204}, false, false, 0},
		{"500", Response{Status: 500}, true, true, 0},
		{"502", Response{Status: 502}, true, true, 0},
		{"408", Response{Status: 408}, true, true, 0},
		{"429 with Retry-After", Response{Status: 429, RetryAfter: "7"}, true, true, 7 * time.Second},
		{"429 without", Response{Status: 429}, true, true, 0},
		{"400", Response{Status: 400, Body: "invalid_payload"}, false, true, 0},
		{"403", Response{Status: 403}, false, true, 0},
		{"301", Response{Status: 301}, false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry, err := Status("dest", tt.resp, now)
			if retry != tt.wantRetry || (err != nil) != tt.wantErr {
				t.Fatalf("Status = %v, %v", retry, err)
			}
			after, ok := notifiers.RetryAfter(err)
			if ok != (tt.wantAfter > 0) || after != tt.wantAfter {
				t.Errorf("RetryAfter = %v, %v; want %v", after, ok, tt.wantAfter)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "dest: ") {
				t.Errorf("error %q does not name the destination", err)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	secret := "https://hooks.slack.com/services/T1/B2/SECRETPART"
	inner := &url.Error{Op: "Post", URL: secret, Err: context.DeadlineExceeded}
	err := Scrub(fmt.Errorf("slack: %w", inner), Secrets(secret))
	if strings.Contains(err.Error(), "SECRETPART") || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Errorf("Scrub left the secret: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("Scrub lost the cause")
	}
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "SECRETPART") {
			t.Errorf("unwrapping reaches the secret: %v", e)
		}
	}
	plain := errors.New("nothing to hide")
	if Scrub(plain, Secrets(secret)) != plain { //nolint:errorlint // identity: Scrub must return the very same error
		t.Error("Scrub rewrote an error without secrets")
	}
	if Scrub(nil, nil) != nil {
		t.Error("Scrub(nil) is not nil")
	}
}

func TestSecretsCoverURLParts(t *testing.T) {
	s := Secrets("https://user:pa55@h.example/p/ath?k=v", "")
	for _, want := range []string{"/p/ath", "k=v", "pa55"} {
		found := false
		for _, x := range s {
			found = found || x == want
		}
		if !found {
			t.Errorf("Secrets lacks %q: %v", want, s)
		}
	}
}

func TestRedactURL(t *testing.T) {
	if got := RedactURL("https://hooks.slack.com/services/T/B/X?y=z"); got != "https://hooks.slack.com/[REDACTED]" {
		t.Errorf("RedactURL = %q", got)
	}
	if got := RedactURL("::not a url"); got != "[REDACTED]" {
		t.Errorf("RedactURL = %q", got)
	}
}

func TestClientRecordsAndDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			t.Error("redirect followed")
		}
		w.Header().Set("Location", "/elsewhere")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusTemporaryRedirect)
		_, _ = io.WriteString(w, strings.Repeat("x", 1000))
	}))
	defer srv.Close()
	c, rec := Client(nil)
	resp, err := c.Post(srv.URL, "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	last := rec.Last()
	if last.Status != 307 || last.RetryAfter != "3" || len(last.Body) != maxBodyExcerpt {
		t.Errorf("recorded %d %q body of %d bytes", last.Status, last.RetryAfter, len(last.Body))
	}
	if c.Timeout != DefaultTimeout {
		t.Errorf("default client timeout %v", c.Timeout)
	}
}

func TestTransport(t *testing.T) {
	if !Transport(context.Canceled) || !Transport(errors.New("connection reset")) {
		t.Error("network errors must be retryable")
	}
}
