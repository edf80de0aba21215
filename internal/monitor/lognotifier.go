package monitor

import (
	"log/slog"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	lognotifier "github.com/mcpdrift/mcpdrift/notifiers/log"
)

// LogNotifiers stands a log notifier (notifiers/log, which escapes what
// the server sent) in for every notifier in cfg: the daemon's notifiers
// when no channel implementations are built, so alerts are never silently
// lost.
func LogNotifiers(cfg *config.Config, log *slog.Logger) map[string]notifiers.Notifier {
	out := make(map[string]notifiers.Notifier, len(cfg.Notifiers))
	for _, n := range cfg.Notifiers {
		out[n.Name] = lognotifier.Fallback(n.Name, log)
	}
	return out
}
