package engine

import (
	"context"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/divergence"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// Divergences is the divergence step's probing and comparing, for tests.
func (e *Engine) Divergences(ctx context.Context, s *config.Server, seen *manifest.Manifest, ids []divergence.Identity) ([]report.Change, error) {
	return e.divergences(ctx, s, seen, ids, e.limiter().Acquire)
}
