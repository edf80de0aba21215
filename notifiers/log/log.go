// Package log is the notifier that writes each alert as one structured
// slog line, for setups that ship logs to their alerting, and as a
// notifier that cannot fail. It logs ids, counts and the server name, never
// server-controlled text such as descriptions or diffs.
package log

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
)

// Notifier logs alerts.
type Notifier struct {
	name string
	log  *slog.Logger
}

var _ notifiers.Notifier = (*Notifier)(nil)

// New returns the log notifier cfg describes, writing to logger (nil:
// slog.Default()).
func New(cfg config.Notifier, logger *slog.Logger) (*Notifier, error) {
	if cfg.Type != config.NotifierLog {
		return nil, fmt.Errorf("log notifier %s: type is %q, not log", cfg.Name, cfg.Type)
	}
	return Fallback(cfg.Name, logger), nil
}

// Fallback returns a log notifier standing in for the configured notifier
// name, whatever its type: the daemon's notifiers when no channel
// implementations are built, so that alerts are never silently lost.
func Fallback(name string, logger *slog.Logger) *Notifier {
	if logger == nil {
		logger = slog.Default()
	}
	return &Notifier{name: name, log: logger.With("component", "notifier", "notifier", name)}
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// Notify implements notifiers.Notifier. It never fails.
func (n *Notifier) Notify(ctx context.Context, a *notifiers.Alert) (bool, error) {
	level := slog.LevelInfo
	if a.Kind == notifiers.KindDrift || a.Kind == notifiers.KindUnreachable {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("kind", render.Line(a.Kind)),
		slog.String("server", render.Line(a.Server)),
		slog.String("severity", a.Severity.String()),
		slog.String("incident", render.Line(a.Incident)),
		slog.Int("changes", len(a.Report.Changes)),
		slog.String("snapshot", render.Line(render.SnapshotID(a))),
		slog.String("baseline", render.Line(render.BaselineID(a))),
	}
	if a.Resolves != "" {
		attrs = append(attrs, slog.String("resolves", render.Line(a.Resolves)))
	}
	if a.Reminder > 0 {
		attrs = append(attrs, slog.Int("reminder", a.Reminder))
	}
	if n := len(render.Findings(a.Report.Findings)); n > 0 {
		attrs = append(attrs, slog.Int("findings", n))
	}
	msg := "mcpdrift alert"
	if a.Kind == notifiers.KindTest {
		msg = render.TestMessage
	}
	// A cancelled context must not lose the line: the log is the record.
	n.log.LogAttrs(context.WithoutCancel(ctx), level, msg, attrs...)
	return false, nil
}
