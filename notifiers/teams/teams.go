// Package teams sends alerts to Microsoft Teams through a Workflows (Power
// Automate) webhook: an HTTP POST of a message with one Adaptive Card
// attachment, which the flow posts to a channel or chat.
//
// The card says what the Slack message says, in the same order: the most
// severe changes first, each with its diff excerpt and findings, then the
// commands to review and approve. A card is kept under MaxBodyBytes (Teams
// refuses messages over about 28 KB); changes that do not fit are left out
// least severe first, never one of a severity while a less severe one is
// shown, and a line names how many and the `mcpdrift diff` that shows them.
//
// Threading: a Workflows webhook answers with no message id, so, like a
// Slack incoming webhook, every alert (reminders and resolutions included)
// is its own post; each names its server, severity and snapshot.
//
// The webhook URL is a secret (its query string carries the flow's
// signature): it is read from the config at each send and never appears in
// errors or logs, which show it as https://host/[REDACTED].
//
// teams renders and sends one alert; it does not queue or retry.
package teams

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/delivery"
)

// Options are a Teams notifier's dependencies.
type Options struct {
	// HTTPClient sends the requests; nil means a client with a 30s
	// timeout. Redirects are never followed.
	HTTPClient *http.Client
	// Logger receives delivery notes; nil discards them.
	Logger *slog.Logger
	// Now is the clock for Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// Notifier posts alerts to one Workflows webhook.
type Notifier struct {
	name    string
	webhook config.Secret
	opts    Options
	log     *slog.Logger
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns the Teams notifier cfg describes. The webhook URL is read
// at each send.
func New(cfg config.Notifier, opts Options) (*Notifier, error) {
	switch {
	case cfg.Type != config.NotifierTeams:
		return nil, fmt.Errorf("teams notifier %s: type is %q, not teams", cfg.Name, cfg.Type)
	case !cfg.WebhookURL.IsSet():
		return nil, fmt.Errorf("teams notifier %s: webhook_url is required", cfg.Name)
	}
	opts.Now = delivery.Clock(opts.Now)
	return &Notifier{
		name:    cfg.Name,
		webhook: cfg.WebhookURL,
		opts:    opts,
		log:     delivery.Logger(opts.Logger, cfg.Name),
	}, nil
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// Notify implements notifiers.Notifier.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (bool, error) {
	url, err := n.webhook.Reveal()
	if err != nil {
		return false, fmt.Errorf("teams notifier %s: webhook_url: %w", n.name, err)
	}
	if strings.TrimSpace(url) == "" {
		return false, fmt.Errorf("teams notifier %s: webhook_url is empty", n.name)
	}
	body, err := Body(Render(a, n.name))
	if err != nil {
		return false, fmt.Errorf("teams notifier %s: %w", n.name, err)
	}
	what := fmt.Sprintf("teams notifier %s: webhook %s", n.name, delivery.RedactURL(url))
	retry, err := delivery.Post(ctx, n.opts.HTTPClient, url, nil, body, what, delivery.Secrets(url), n.opts.Now())
	if err != nil {
		return retry, err
	}
	n.log.Debug("alert posted", "bytes", len(body))
	return false, nil
}
