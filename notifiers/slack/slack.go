// Package slack sends alerts to Slack as Block Kit messages, through an
// incoming webhook or, with a bot token, chat.postMessage. With a bot token
// and a ThreadStore, reminders and the resolution of an incident are posted
// in the thread of its first message (the resolution also to the channel).
//
// The webhook URL and the token are read from their config secrets at each
// send, so a rotated secret file takes effect without a reload, and never
// appear in errors or logs: errors name the webhook as
// https://hooks.slack.com/[REDACTED].
//
// slack renders and sends one alert; it does not queue or retry.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/delivery"
	slackapi "github.com/slack-go/slack"
)

// Options are a Slack notifier's dependencies.
type Options struct {
	// HTTPClient sends the requests; nil means a client with a 30s timeout.
	// Redirects are never followed.
	HTTPClient *http.Client
	// Threads keeps the channel and ts of an incident's first message (bot
	// token only); nil posts every alert at the top level.
	Threads notifiers.ThreadStore
	// Logger receives delivery warnings; nil discards them.
	Logger *slog.Logger
	// APIURL is the Slack Web API base URL, ending in "/"; empty means
	// https://slack.com/api/. Tests point it at slacktest.
	APIURL string
	// Now is the clock for Retry-After dates; nil means time.Now.
	Now func() time.Time
}

// Notifier posts alerts to one Slack destination.
type Notifier struct {
	name    string
	webhook config.Secret
	token   config.Secret
	channel string
	opts    Options
	log     *slog.Logger
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns the Slack notifier cfg describes. Secrets are not read here
// but at each send.
func New(cfg config.Notifier, opts Options) (*Notifier, error) {
	switch {
	case cfg.Type != config.NotifierSlack:
		return nil, fmt.Errorf("slack notifier %s: type is %q, not slack", cfg.Name, cfg.Type)
	case cfg.WebhookURL.IsSet() == cfg.Token.IsSet():
		return nil, fmt.Errorf("slack notifier %s: needs exactly one of webhook_url and token", cfg.Name)
	case cfg.Token.IsSet() && cfg.Channel == "":
		return nil, fmt.Errorf("slack notifier %s: channel is required with token", cfg.Name)
	}
	if opts.APIURL == "" {
		opts.APIURL = slackapi.APIURL
	}
	opts.Now = delivery.Clock(opts.Now)
	return &Notifier{
		name:    cfg.Name,
		webhook: cfg.WebhookURL,
		token:   cfg.Token,
		channel: cfg.Channel,
		opts:    opts,
		log:     delivery.Logger(opts.Logger, cfg.Name),
	}, nil
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// Notify implements notifiers.Notifier.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (bool, error) {
	msg := Render(a, n.name)
	if n.token.IsSet() {
		return n.postMessage(ctx, a, msg)
	}
	return n.postWebhook(ctx, msg)
}

func (n *Notifier) postWebhook(ctx context.Context, msg Message) (bool, error) {
	url, err := n.webhook.Reveal()
	if err != nil {
		return false, fmt.Errorf("slack notifier %s: webhook_url: %w", n.name, err)
	}
	if strings.TrimSpace(url) == "" {
		return false, fmt.Errorf("slack notifier %s: webhook_url is empty", n.name)
	}
	secrets := delivery.Secrets(url)
	what := fmt.Sprintf("slack notifier %s: webhook %s", n.name, delivery.RedactURL(url))

	client, rec := delivery.Client(n.opts.HTTPClient)
	no := false
	err = slackapi.PostWebhookCustomHTTPContext(ctx, url, client, &slackapi.WebhookMessage{
		Text:        msg.Text,
		Blocks:      &slackapi.Blocks{BlockSet: msg.Blocks},
		UnfurlLinks: &no,
		UnfurlMedia: &no,
	})
	if err == nil {
		n.log.Debug("alert posted", "via", "webhook")
		return false, nil
	}
	if last := rec.Last(); last.Status != 0 {
		retry, serr := delivery.Status(what, last, n.opts.Now())
		if serr == nil { // 2xx, yet slack-go failed: keep its reason
			retry, serr = true, fmt.Errorf("%s: %w", what, delivery.NoURL(err))
		}
		return retry, delivery.Scrub(serr, secrets)
	}
	return delivery.Transport(err), delivery.Scrub(fmt.Errorf("%s: %w", what, delivery.NoURL(err)), secrets)
}

// threadValue is how a thread is stored: "channel ts".
func threadValue(channel, ts string) string { return channel + " " + ts }

func parseThread(v string) (channel, ts string, ok bool) {
	channel, ts, ok = strings.Cut(v, " ")
	return channel, ts, ok && channel != "" && ts != ""
}

func (n *Notifier) postMessage(ctx context.Context, a *notifiers.Alert, msg Message) (bool, error) {
	token, err := n.token.Reveal()
	if err != nil {
		return false, fmt.Errorf("slack notifier %s: token: %w", n.name, err)
	}
	if strings.TrimSpace(token) == "" {
		return false, fmt.Errorf("slack notifier %s: token is empty", n.name)
	}
	secrets := delivery.Secrets(token)

	channel := n.channel
	opts := []slackapi.MsgOption{
		slackapi.MsgOptionText(msg.Text, false),
		slackapi.MsgOptionBlocks(msg.Blocks...),
		slackapi.MsgOptionDisableLinkUnfurl(),
		slackapi.MsgOptionDisableMediaUnfurl(),
	}
	threaded := n.opts.Threads != nil && a.Kind != notifiers.KindTest && a.Incident != ""
	inThread := false
	if threaded {
		v, ok, terr := n.opts.Threads.Thread(n.name, a.Incident)
		switch {
		case terr != nil:
			n.log.Warn("thread lookup failed; posting at the top level", "incident", escape.Line(a.Incident), "err", terr)
		case ok:
			if ch, ts, good := parseThread(v); good {
				channel, inThread = ch, true
				opts = append(opts, slackapi.MsgOptionTS(ts))
				if a.Kind == notifiers.KindResolved {
					opts = append(opts, slackapi.MsgOptionBroadcast())
				}
			}
		}
	}

	client, rec := delivery.Client(n.opts.HTTPClient)
	api := slackapi.New(token, slackapi.OptionHTTPClient(client), slackapi.OptionAPIURL(n.opts.APIURL))
	postedTo, ts, err := api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		retry, cerr := n.classifyAPI(err, rec.Last(), channel)
		return retry, delivery.Scrub(cerr, secrets)
	}
	n.log.Debug("alert posted", "via", "chat.postMessage", "threaded", inThread)
	if threaded && !inThread && a.Kind != notifiers.KindResolved && ts != "" {
		if postedTo == "" {
			postedTo = channel
		}
		if serr := n.opts.Threads.SetThread(n.name, a.Incident, threadValue(postedTo, ts)); serr != nil {
			// The alert is delivered; failing now would post it twice.
			n.log.Warn("saving the thread failed; reminders will not be threaded", "incident", escape.Line(a.Incident), "err", serr)
		}
	}
	return false, nil
}

// retryableAPIErrors are chat.postMessage error codes worth retrying;
// every other code (channel_not_found, invalid_auth, not_in_channel, ...)
// needs a person.
var retryableAPIErrors = map[string]bool{
	"ratelimited":         true,
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
}

func (n *Notifier) classifyAPI(err error, last delivery.Response, channel string) (bool, error) {
	what := fmt.Sprintf("slack notifier %s: chat.postMessage to %s", n.name, escape.Line(channel))
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return true, &notifiers.RetryAfterError{After: rl.RetryAfter, Err: fmt.Errorf("%s: rate limited (HTTP 429)", what)}
	}
	if last.Status != 0 && (last.Status < 200 || last.Status >= 300) {
		return delivery.Status(what, last, n.opts.Now())
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		code := escape.Line(se.Err)
		return retryableAPIErrors[se.Err], fmt.Errorf("%s: slack answered %s", what, code)
	}
	if last.Status != 0 {
		// A 2xx answer slack-go could not read: the message may be
		// posted, but losing an alert is worse than repeating it.
		return true, fmt.Errorf("%s: unreadable answer: %w", what, err)
	}
	return delivery.Transport(err), fmt.Errorf("%s: %w", what, delivery.NoURL(err))
}
