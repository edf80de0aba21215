// Package build turns the configured notifiers into working ones: one
// constructor call per config entry, with the shared dependencies. It
// lives apart from package notifiers because the channels import that
// package; build must not hold any channel logic itself.
package build

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/alertmanager"
	"github.com/mcpdrift/mcpdrift/notifiers/email"
	lognotifier "github.com/mcpdrift/mcpdrift/notifiers/log"
	"github.com/mcpdrift/mcpdrift/notifiers/slack"
	"github.com/mcpdrift/mcpdrift/notifiers/teams"
	"github.com/mcpdrift/mcpdrift/notifiers/webhook"
)

// Deps are what the notifiers share.
type Deps struct {
	// HTTPClient sends Slack, Teams, webhook and Alertmanager requests;
	// nil gives each a client with a 30s timeout. Redirects are never
	// followed.
	HTTPClient *http.Client
	// Threads keeps Slack thread ids, and the severity of open
	// Alertmanager alerts, across restarts; nil disables both.
	Threads notifiers.ThreadStore
	// Logger receives delivery warnings and the log notifier's lines; nil
	// means slog.Default().
	Logger *slog.Logger
	// SMTPTLSConfig is the base TLS configuration for SMTP (RootCAs of a
	// private CA); nil uses the system roots.
	SMTPTLSConfig *tls.Config
	// SlackAPIURL overrides the Slack Web API base URL (tests).
	SlackAPIURL string
}

// Build constructs every configured notifier, keyed by name. It reports
// every invalid entry at once; secrets are not read until a send.
func Build(cfgs []config.Notifier, deps Deps) (map[string]notifiers.Notifier, error) {
	logger := deps.Logger
	if logger == nil {
		logger = slog.Default()
	}
	out := make(map[string]notifiers.Notifier, len(cfgs))
	var errs []error
	for _, cfg := range cfgs {
		if _, dup := out[cfg.Name]; dup {
			errs = append(errs, fmt.Errorf("notifier %s: defined twice", cfg.Name))
			continue
		}
		n, err := one(cfg, deps, logger)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[cfg.Name] = n
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func one(cfg config.Notifier, deps Deps, logger *slog.Logger) (notifiers.Notifier, error) {
	switch cfg.Type {
	case config.NotifierSlack:
		return slack.New(cfg, slack.Options{HTTPClient: deps.HTTPClient, Threads: deps.Threads, Logger: logger, APIURL: deps.SlackAPIURL})
	case config.NotifierEmail:
		return email.New(cfg, email.Options{Logger: logger, TLSConfig: deps.SMTPTLSConfig})
	case config.NotifierWebhook:
		return webhook.New(cfg, webhook.Options{HTTPClient: deps.HTTPClient, Logger: logger})
	case config.NotifierLog:
		return lognotifier.New(cfg, logger)
	case config.NotifierAlertmanager:
		return alertmanager.New(cfg, alertmanager.Options{HTTPClient: deps.HTTPClient, Threads: deps.Threads, Logger: logger})
	case config.NotifierTeams:
		return teams.New(cfg, teams.Options{HTTPClient: deps.HTTPClient, Logger: logger})
	default:
		return nil, fmt.Errorf("notifier %s: unknown type %q", cfg.Name, cfg.Type)
	}
}
