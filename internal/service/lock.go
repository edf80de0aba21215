package service

import (
	"context"
	"log/slog"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/lockfile"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// CheckLock checks the named servers (all enabled ones when none) against
// a lockfile's manifests, and as each client identity in as, with no
// database (check --lock): the check pipeline with the lockfile as its
// baselines, under the configured concurrency, its errors redacted with
// secrets (the whole configuration's).
func CheckLock(ctx context.Context, cfg *config.Config, f *lockfile.File, names, as []string, logger *slog.Logger, secrets *redact.Live) (report.Report, error) {
	servers, err := Select(cfg, names)
	if err != nil {
		return report.Report{}, err
	}
	ids, err := Identities(as)
	if err != nil {
		return report.Report{}, err
	}
	eng := engine.New(nil, logger)
	// No database: OAuth grants live in memory for this run (client
	// credentials work; an authorization_code server is auth-required).
	eng.Probe = (&oauth.Provider{Vault: &oauth.Vault{Store: &oauth.MemoryStore{}, KeyFile: cfg.Auth.KeyFile}, Logger: logger}).
		Wrap(eng.Probe, func(name string) *config.Server { s, _ := cfg.Server(name); return s })
	eng.Secrets = secrets
	eng.Limit = engine.NewLimiter(cfg.Concurrency)
	return eng.Check(ctx, servers, engine.Options{Lock: engine.LockBaselines(f), As: ids}), nil
}
