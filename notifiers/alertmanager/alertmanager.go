// Package alertmanager sends alerts to Prometheus Alertmanager through its
// API v2 (POST <url>/api/v2/alerts), so that Alertmanager's routing,
// grouping, silences and inhibition apply to them.
//
// Each incident is one Alertmanager alert, identified by its labels:
// alertname (MCPDriftDrift, MCPDriftUnreachable; MCPDriftTest for `mcpdrift
// notify test`), server, kind, severity, instance (the sending mcpdrift,
// default the host name) and the configured static labels. Annotations say
// what happened (summary, description) and what to run (approve, diff).
//
// Firing alerts carry endsAt = now + resolve_timeout. The daemon re-sends
// an open incident every alerts.repeat_interval, and resolve_timeout
// defaults to two intervals and an hour, so an alert stays firing while the
// daemon is alive and expires by itself when the daemon that sent it is
// gone. A resolution posts the same labels with endsAt in the past.
//
// When an incident's severity changes while it is open (the server
// changed again), its severity label changes with it: the alert under the
// old label set is ended in the same request, so it does not linger until
// it expires. The severity last posted is kept in the ThreadStore.
//
// Several URLs (an HA pair) each get every alert, as Prometheus does: the
// delivery succeeds when at least one instance accepts it; the failures of
// the others are logged.
//
// Posting the same alert again is harmless (Alertmanager merges it), so a
// retried delivery never duplicates anything. URLs, passwords and tokens
// are read from their config secrets at each send and never appear in
// errors or logs, which show each URL as http://host/[REDACTED].
//
// This is a small typed client on purpose: Alertmanager's own
// api/v2/client would add 19 modules (go-openapi, OpenTelemetry, ...) and
// 3.5 MB to the binary for one POST.
package alertmanager

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/delivery"
)

// AlertsPath is the API v2 endpoint alerts are posted to, below each URL.
const AlertsPath = "/api/v2/alerts"

// Options are an Alertmanager notifier's dependencies.
type Options struct {
	// HTTPClient sends the requests; nil means a client with a 30s
	// timeout. Redirects are never followed.
	HTTPClient *http.Client
	// Threads keeps the severity label of each open alert, so that a
	// changed severity ends the alert under the old one; nil leaves such
	// an alert to expire at its endsAt.
	Threads notifiers.ThreadStore
	// Logger receives delivery warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock for startsAt/endsAt and Retry-After; nil means
	// time.Now.
	Now func() time.Time
	// Hostname gives the default instance label; nil means os.Hostname.
	Hostname func() (string, error)
}

// Notifier posts alerts to one Alertmanager (or the instances of one HA
// cluster).
type Notifier struct {
	name           string
	urls           config.Secret
	username       string
	password       config.Secret
	token          config.Secret
	labels         map[string]string
	instance       string
	resolveTimeout time.Duration
	generatorURL   string
	opts           Options
	log            *slog.Logger
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns the Alertmanager notifier cfg describes. Secrets are read at
// each send.
func New(cfg config.Notifier, opts Options) (*Notifier, error) {
	switch {
	case cfg.Type != config.NotifierAlertmanager:
		return nil, fmt.Errorf("alertmanager notifier %s: type is %q, not alertmanager", cfg.Name, cfg.Type)
	case !cfg.URL.IsSet():
		return nil, fmt.Errorf("alertmanager notifier %s: url is required", cfg.Name)
	case cfg.BearerToken.IsSet() && (cfg.Username != "" || cfg.Password.IsSet()):
		return nil, fmt.Errorf("alertmanager notifier %s: bearer_token cannot be used together with username and password", cfg.Name)
	}
	opts.Now = delivery.Clock(opts.Now)
	if opts.Hostname == nil {
		opts.Hostname = os.Hostname
	}
	instance := cfg.Instance
	if instance == "" {
		h, err := opts.Hostname()
		if err != nil || h == "" {
			return nil, fmt.Errorf("alertmanager notifier %s: no host name for the instance label (set instance): %w", cfg.Name, errors.Join(err, errors.New("empty host name")))
		}
		instance = h
	}
	timeout := cfg.ResolveTimeout
	if timeout <= 0 {
		timeout = config.DefaultResolveTimeout(config.DefaultRepeatInterval)
	}
	return &Notifier{
		name:           cfg.Name,
		urls:           cfg.URL,
		username:       cfg.Username,
		password:       cfg.Password,
		token:          cfg.BearerToken,
		labels:         maps.Clone(cfg.Labels),
		instance:       instance,
		resolveTimeout: timeout,
		generatorURL:   cfg.GeneratorURL,
		opts:           opts,
		log:            delivery.Logger(opts.Logger, cfg.Name),
	}, nil
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// stateKey is where the severity label of a server's open alert is kept
// (the ThreadStore's incident key: one open alert per kind and server).
func stateKey(a *notifiers.Alert) string {
	return "severity/" + alertName(incidentKind(a)) + "/" + a.Server
}

// Alerts returns what Notify posts for a at now, given the severity label
// the open alert was last posted with (prev, "" when unknown): the alert,
// and the alert under prev, ended, when the severity changed.
func (n *Notifier) Alerts(a *notifiers.Alert, prev string, now time.Time) []PostableAlert {
	sev := severityLabel(a.Severity)
	out := []PostableAlert{n.build(a, sev, now)}
	if prev != "" && prev != sev {
		out = append(out, ended(n.build(a, prev, now), now))
	}
	return out
}

// Notify implements notifiers.Notifier.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (bool, error) {
	raw, err := n.urls.Reveal()
	if err != nil {
		return false, fmt.Errorf("alertmanager notifier %s: url: %w", n.name, err)
	}
	urls := strings.Fields(raw)
	if len(urls) == 0 {
		return false, fmt.Errorf("alertmanager notifier %s: url is empty", n.name)
	}
	header, secrets, err := n.auth()
	if err != nil {
		return false, err
	}
	secrets = append(secrets, delivery.Secrets(urls...)...)

	tracked := n.opts.Threads != nil && a.Kind != notifiers.KindTest && a.Server != ""
	prev := ""
	if tracked {
		v, _, terr := n.opts.Threads.Thread(n.name, stateKey(a))
		if terr != nil {
			n.log.Warn("reading the last severity failed; an alert of another severity may stay until it expires",
				"server", escape.Line(a.Server), "err", terr)
		}
		prev = v
	}
	now := n.opts.Now()
	body, err := json.Marshal(n.Alerts(a, prev, now))
	if err != nil {
		return false, fmt.Errorf("alertmanager notifier %s: encode alerts: %w", n.name, err)
	}

	retry, err := n.postAll(ctx, urls, header, body, secrets, now)
	if err != nil {
		return retry, err
	}
	if tracked {
		next := severityLabel(a.Severity)
		if a.Kind == notifiers.KindResolved {
			next = ""
		}
		if next != prev {
			if serr := n.opts.Threads.SetThread(n.name, stateKey(a), next); serr != nil {
				// Delivered; failing now would only post it again.
				n.log.Warn("saving the severity failed", "server", escape.Line(a.Server), "err", serr)
			}
		}
	}
	return false, nil
}

// auth returns the Authorization header, and the values errors must never
// show.
func (n *Notifier) auth() (http.Header, []string, error) {
	h := http.Header{}
	switch {
	case n.token.IsSet():
		tok, err := n.token.Reveal()
		if err != nil {
			return nil, nil, fmt.Errorf("alertmanager notifier %s: bearer_token: %w", n.name, err)
		}
		if tok == "" {
			return nil, nil, fmt.Errorf("alertmanager notifier %s: bearer_token is empty", n.name)
		}
		h.Set("Authorization", "Bearer "+tok)
		return h, []string{tok}, nil
	case n.username != "" || n.password.IsSet():
		pw, err := n.password.Reveal()
		if err != nil {
			return nil, nil, fmt.Errorf("alertmanager notifier %s: password: %w", n.name, err)
		}
		cred := base64.StdEncoding.EncodeToString([]byte(n.username + ":" + pw))
		h.Set("Authorization", "Basic "+cred)
		return h, []string{pw, cred}, nil
	}
	return h, nil, nil
}

// postAll posts body to every instance at once. One acceptance is
// delivery; otherwise the delivery is retryable if any failure is.
func (n *Notifier) postAll(ctx context.Context, urls []string, header http.Header, body []byte, secrets []string, now time.Time) (bool, error) {
	type result struct {
		retry bool
		err   error
	}
	results := make([]result, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Go(func() {
			what := fmt.Sprintf("alertmanager notifier %s: %s", n.name, delivery.RedactURL(u))
			results[i].retry, results[i].err = delivery.Post(ctx, n.opts.HTTPClient, endpoint(u), header.Clone(), body, what, secrets, now)
		})
	}
	wg.Wait()

	var errs []error
	retry, delivered := false, 0
	for _, r := range results {
		if r.err == nil {
			delivered++
			continue
		}
		errs = append(errs, r.err)
		retry = retry || r.retry
	}
	if delivered == 0 {
		return retry, errors.Join(errs...)
	}
	for _, err := range errs {
		n.log.Warn("an Alertmanager instance failed; the others have the alert", "err", err)
	}
	n.log.Debug("alerts posted", "instances", delivered)
	return false, nil
}

// endpoint is the alerts endpoint below a base URL; a URL that already
// names it is kept.
func endpoint(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base // the POST fails with a redacted "bad url"
	}
	if !strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), AlertsPath) {
		u.Path = strings.TrimSuffix(u.Path, "/") + AlertsPath
		u.RawPath = ""
	}
	return u.String()
}
