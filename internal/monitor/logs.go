package monitor

import (
	"context"
	"log/slog"
)

// engineLogFilter drops the engine's own per-snapshot lines ("snapshot",
// "snapshot failed"): the daemon logs one line per snapshot itself, with
// its result and trigger, and logs a repeated error once. Everything else
// the engine and the probes log passes through.
type engineLogFilter struct {
	inner   slog.Handler
	derived bool // a logger derived with With: the probe's, not the engine's own
}

func (h *engineLogFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *engineLogFilter) Handle(ctx context.Context, r slog.Record) error {
	if !h.derived && (r.Message == "snapshot" || r.Message == "snapshot failed") {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h *engineLogFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &engineLogFilter{inner: h.inner.WithAttrs(attrs), derived: true}
}

func (h *engineLogFilter) WithGroup(name string) slog.Handler {
	return &engineLogFilter{inner: h.inner.WithGroup(name), derived: true}
}
