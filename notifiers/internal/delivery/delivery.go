// Package delivery holds what the notifiers share about sending: an HTTP
// client that never follows redirects and remembers the response it got,
// the classification of an outcome as retryable or permanent
// (notifiers.Notifier's contract), the scrubbing of secrets (webhook URLs,
// tokens) out of errors, and the defaults of their options (Clock,
// Logger).
//
// delivery does not render messages and does not retry: the outbox does.
package delivery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// DefaultTimeout bounds one delivery when the caller's context has no
// deadline and no HTTP client was given.
const DefaultTimeout = 30 * time.Second

// maxBodyExcerpt is how much of an error response is kept for the error
// message: enough for Slack's "channel_not_found", not a whole HTML page.
const maxBodyExcerpt = 256

// Recorder is an http.RoundTripper that remembers the status, Retry-After
// header and the start of the body of the last response, so an outcome can
// be classified even when a library (slack-go) reduces it to a string.
type Recorder struct {
	base http.RoundTripper

	mu         sync.Mutex
	status     int
	retryAfter string
	body       bytes.Buffer
}

// Response is what a Recorder saw.
type Response struct {
	Status     int
	RetryAfter string
	Body       string // the first bytes of the body, escaped onto one line
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.status = resp.StatusCode
	r.retryAfter = resp.Header.Get("Retry-After")
	r.body.Reset()
	r.mu.Unlock()
	resp.Body = &teeBody{ReadCloser: resp.Body, r: r}
	return resp, nil
}

// Last returns the last response seen; Status is 0 when none arrived.
func (r *Recorder) Last() Response {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Response{
		Status:     r.status,
		RetryAfter: r.retryAfter,
		Body:       escape.Line(strings.TrimSpace(r.body.String())),
	}
}

type teeBody struct {
	io.ReadCloser
	r *Recorder
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	if n > 0 {
		t.r.mu.Lock()
		if room := maxBodyExcerpt - t.r.body.Len(); room > 0 {
			t.r.body.Write(p[:min(n, room)])
		}
		t.r.mu.Unlock()
	}
	return n, err
}

// Client returns a copy of base (or of a default client with
// DefaultTimeout) that records responses and does not follow redirects: a
// redirect would carry the body, and custom headers with secrets, to a host
// nobody configured.
func Client(base *http.Client) (*http.Client, *Recorder) {
	c := &http.Client{Timeout: DefaultTimeout}
	if base != nil {
		cp := *base
		c = &cp
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	rec := &Recorder{base: rt}
	c.Transport = rec
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, rec
}

// Status classifies an HTTP response status. 2xx is success; 429 asks to be
// retried after Retry-After (a RetryAfterError when the header is valid); 408
// and 5xx are retryable; redirects and other 4xx are permanent. what names
// the destination in the error ("slack webhook https://hooks.slack.com/[REDACTED]").
func Status(what string, resp Response, now time.Time) (retry bool, err error) {
	s := resp.Status
	switch {
	case s >= 200 && s < 300:
		return false, nil
	case s == http.StatusTooManyRequests:
		err := fmt.Errorf("%s: rate limited (HTTP 429)%s", what, bodySuffix(resp.Body))
		if d, ok := RetryAfter(resp.RetryAfter, now); ok {
			return true, &notifiers.RetryAfterError{After: d, Err: err}
		}
		return true, err
	case s == http.StatusRequestTimeout || s >= 500:
		return true, fmt.Errorf("%s: server error (HTTP %d)%s", what, s, bodySuffix(resp.Body))
	case s >= 300 && s < 400:
		return false, fmt.Errorf("%s: answered with a redirect (HTTP %d), which is not followed; configure the final URL", what, s)
	default:
		return false, fmt.Errorf("%s: rejected (HTTP %d)%s", what, s, bodySuffix(resp.Body))
	}
}

func bodySuffix(body string) string {
	if body == "" {
		return ""
	}
	return ": " + escape.Truncate(body, 200)
}

// RetryAfter parses a Retry-After value: delay seconds or an HTTP date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 86400)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Transport classifies an error where no response arrived: certificate
// problems are permanent (retrying cannot fix them); network errors,
// timeouts and cancellation are retryable.
func Transport(err error) (retry bool) {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
	)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid), errors.As(err, &verify):
		return false
	}
	return true
}

// RedactURL keeps the scheme and host of a secret URL and hides the rest:
// "https://hooks.slack.com/[REDACTED]". An unparsable URL is hidden whole.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "[REDACTED]"
	}
	return u.Scheme + "://" + u.Host + "/[REDACTED]"
}

// Secrets lists the strings an error must never show for a secret URL or
// token: the whole value and, for a URL, its path, query and user info,
// which clients print separately.
func Secrets(values ...string) []string {
	var out []string
	for _, v := range values {
		if v == "" {
			continue
		}
		out = append(out, v)
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			for _, part := range []string{u.EscapedPath(), u.Path, u.RawQuery, u.User.String()} {
				if len(part) > 1 {
					out = append(out, part)
				}
			}
			if p, ok := u.User.Password(); ok && p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Scrub returns err with every secret replaced by [REDACTED]. The returned
// error unwraps to the outermost error in err's chain whose message holds
// no secret, so errors.Is still finds context.Canceled and the like, and no
// caller can reach a message with a secret by unwrapping.
func Scrub(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if !containsAny(msg, secrets) {
		return err
	}
	for _, s := range secrets {
		if len(s) > 0 {
			msg = strings.ReplaceAll(msg, s, "[REDACTED]")
		}
	}
	var cause error
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if !containsAny(e.Error(), secrets) {
			cause = e
			break
		}
	}
	return &scrubbed{msg: msg, cause: cause}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

type scrubbed struct {
	msg   string
	cause error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.cause }

// NoURL strips the URL from a *url.Error, whose message is
// `Post "https://hooks.slack.com/services/...": dial tcp ...`, keeping the
// network error it wraps.
func NoURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Clock is a notifier's Options.Now: now, or time.Now when nil.
func Clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// Logger is a notifier's logger: logger (discarding when nil) naming the
// notifier in every record.
func Logger(logger *slog.Logger, name string) *slog.Logger {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return logger.With("component", "notifier", "notifier", name)
}
