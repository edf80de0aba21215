// Package webhook POSTs alerts as JSON to a configured URL, for SIEMs and
// custom automation.
//
// The body is
//
//	{"version": 1,
//	 "alert": {"incident", "kind", "resolves", "reminder", "server",
//	           "severity", "reason", "at", "first_seen"},
//	 "report": <the server's report, as `mcpdrift check --format json`>}
//
// Every key is always present. The JSON escapes <, > and & and every
// invisible or control character (\u200b, \u202e, \u001b...): the data is
// exact, yet the body is inert if a receiver shows it raw. Receivers must
// still escape text for their own medium.
//
// # Signature
//
// With a secret configured, each request carries
//
//	X-Mcpdrift-Timestamp: <unix seconds>
//	X-Mcpdrift-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
// A receiver recomputes the HMAC over the timestamp header, a ".", and the
// raw body bytes, compares in constant time (Verify does), and rejects
// timestamps too far from its clock to stop replays.
//
// The URL, the secret and header values are read from their config secrets
// at each send and never appear in errors or logs; errors show the URL as
// https://host/[REDACTED]. Redirects are not followed.
//
// webhook sends one alert; it does not queue or retry.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/internal/version"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/delivery"
)

// Headers of a signed request.
const (
	HeaderSignature = "X-Mcpdrift-Signature"
	HeaderTimestamp = "X-Mcpdrift-Timestamp"
)

// Version is the payload format version.
const Version = 1

// Payload is the JSON body.
type Payload struct {
	Version int           `json:"version"`
	Alert   Alert         `json:"alert"`
	Report  report.Server `json:"report"`
}

// Alert is the alert part of the payload: notifiers.Alert without the
// report, every key always present.
type Alert struct {
	Incident  string         `json:"incident"`
	Kind      string         `json:"kind"`
	Resolves  string         `json:"resolves"`
	Reminder  int            `json:"reminder"`
	Server    string         `json:"server"`
	Severity  severity.Level `json:"severity"`
	Reason    string         `json:"reason"`
	At        time.Time      `json:"at"`
	FirstSeen time.Time      `json:"first_seen"`
}

// Options are a webhook notifier's dependencies.
type Options struct {
	// HTTPClient sends the requests; nil means a client with a 30s
	// timeout. Redirects are never followed.
	HTTPClient *http.Client
	// Logger receives delivery notes; nil discards them.
	Logger *slog.Logger
	// Now is the clock for the signature timestamp and Retry-After dates;
	// nil means time.Now.
	Now func() time.Time
}

// Notifier posts alerts to one URL.
type Notifier struct {
	name    string
	url     config.Secret
	secret  config.Secret
	headers map[string]config.Secret
	opts    Options
	log     *slog.Logger
}

var _ notifiers.Notifier = (*Notifier)(nil)

// reserved are headers the notifier sets itself; configured headers cannot
// replace them.
var reserved = []string{"Content-Type", "Content-Length", "Host", "User-Agent", HeaderSignature, HeaderTimestamp}

// New returns the webhook notifier cfg describes. Secrets are read at each
// send.
func New(cfg config.Notifier, opts Options) (*Notifier, error) {
	if cfg.Type != config.NotifierWebhook {
		return nil, fmt.Errorf("webhook notifier %s: type is %q, not webhook", cfg.Name, cfg.Type)
	}
	if !cfg.URL.IsSet() {
		return nil, fmt.Errorf("webhook notifier %s: url is required", cfg.Name)
	}
	for k := range cfg.Headers {
		if slices.ContainsFunc(reserved, func(r string) bool { return strings.EqualFold(r, k) }) {
			return nil, fmt.Errorf("webhook notifier %s: header %s is set by mcpdrift and cannot be configured", cfg.Name, k)
		}
	}
	opts.Now = delivery.Clock(opts.Now)
	return &Notifier{
		name:    cfg.Name,
		url:     cfg.URL,
		secret:  cfg.Secret,
		headers: cfg.Headers,
		opts:    opts,
		log:     delivery.Logger(opts.Logger, cfg.Name),
	}, nil
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// Body renders the request body for a.
func Body(a *notifiers.Alert) ([]byte, error) {
	r := a.Report
	// Clone before filling nil slices: the alert may be shared with
	// notifiers running concurrently.
	r.Changes = slices.Clone(r.Changes)
	// Riskiest first, as in every rendering, whoever built the report.
	report.SortByRisk(r.Changes)
	if r.Changes == nil {
		r.Changes = []report.Change{}
	}
	if r.Findings == nil {
		r.Findings = []report.Finding{}
	}
	for i := range r.Changes {
		if r.Changes[i].Findings == nil {
			r.Changes[i].Findings = []report.Finding{}
		}
	}
	p := Payload{
		Version: Version,
		Alert: Alert{
			Incident: a.Incident, Kind: a.Kind, Resolves: a.Resolves, Reminder: a.Reminder,
			Server: a.Server, Severity: a.Severity, Reason: a.Reason,
			At: a.At.UTC(), FirstSeen: a.FirstSeen.UTC(),
		},
		Report: r,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("encode webhook body: %w", err)
	}
	return escape.InertJSON(b.Bytes()), nil
}

// Sign returns the X-Mcpdrift-Signature value for a body sent at timestamp
// (the X-Mcpdrift-Timestamp value).
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is the valid signature of body at
// timestamp, comparing in constant time. Checking that timestamp is
// recent is the caller's job.
func Verify(secret []byte, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// Notify implements notifiers.Notifier.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (bool, error) {
	url, err := n.url.Reveal()
	if err != nil {
		return false, fmt.Errorf("webhook notifier %s: url: %w", n.name, err)
	}
	if strings.TrimSpace(url) == "" {
		return false, fmt.Errorf("webhook notifier %s: url is empty", n.name)
	}
	what := fmt.Sprintf("webhook notifier %s: %s", n.name, delivery.RedactURL(url))
	secrets := delivery.Secrets(url)

	body, err := Body(a)
	if err != nil {
		return false, fmt.Errorf("webhook notifier %s: %w", n.name, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return false, delivery.Scrub(fmt.Errorf("%s: bad url: %w", what, delivery.NoURL(err)), secrets)
	}
	for k, s := range n.headers {
		v, err := s.Reveal()
		if err != nil {
			return false, fmt.Errorf("%s: header %s: %w", what, k, err)
		}
		secrets = append(secrets, v)
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mcpdrift/"+version.Get().Version)
	if n.secret.IsSet() {
		key, err := n.secret.Reveal()
		if err != nil {
			return false, fmt.Errorf("%s: secret: %w", what, err)
		}
		if key == "" {
			return false, fmt.Errorf("%s: secret is empty", what)
		}
		secrets = append(secrets, key)
		ts := strconv.FormatInt(n.opts.Now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign([]byte(key), ts, body))
	}

	client, rec := delivery.Client(n.opts.HTTPClient)
	resp, err := client.Do(req)
	if err != nil {
		return delivery.Transport(err), delivery.Scrub(fmt.Errorf("%s: %w", what, delivery.NoURL(err)), secrets)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	retry, err := delivery.Status(what, rec.Last(), n.opts.Now())
	if err != nil {
		return retry, delivery.Scrub(err, secrets)
	}
	n.log.Debug("alert posted", "status", resp.StatusCode)
	return false, nil
}
