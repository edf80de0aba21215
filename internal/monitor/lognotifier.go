package monitor

import (
	"context"
	"log/slog"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// LogNotifier writes one log line per alert. It stands in for every
// configured notifier when no channel implementations are built (see
// LogNotifiers), so alerts are never silently lost.
type LogNotifier struct {
	name string
	log  *slog.Logger
}

var _ notifiers.Notifier = (*LogNotifier)(nil)

// NewLogNotifier returns a LogNotifier named name.
func NewLogNotifier(name string, log *slog.Logger) *LogNotifier {
	return &LogNotifier{name: name, log: log.With("component", "notifier", "notifier", name)}
}

// Name returns the notifier's name.
func (n *LogNotifier) Name() string { return n.name }

// Notify logs the alert; it never fails.
func (n *LogNotifier) Notify(_ context.Context, a *notifiers.Alert) (bool, error) {
	attrs := []any{"kind", a.Kind, "server", a.Server, "severity", a.Severity.String(), "incident", a.Incident,
		"changes", len(a.Report.Changes)}
	if a.Reminder > 0 {
		attrs = append(attrs, "reminder", a.Reminder)
	}
	if a.Resolves != "" {
		attrs = append(attrs, "resolves", a.Resolves)
	}
	if a.Reason != "" {
		attrs = append(attrs, "reason", a.Reason)
	}
	n.log.Warn("notification", attrs...)
	return false, nil
}

// LogNotifiers builds a LogNotifier for every notifier in cfg.
func LogNotifiers(cfg *config.Config, log *slog.Logger) map[string]notifiers.Notifier {
	out := make(map[string]notifiers.Notifier, len(cfg.Notifiers))
	for _, n := range cfg.Notifiers {
		out[n.Name] = NewLogNotifier(n.Name, log)
	}
	return out
}
