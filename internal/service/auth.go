package service

import (
	"log/slog"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/store"
)

// withAuth gives every probe of a server with an auth block its OAuth
// session (internal/oauth): the grant stored in db, refreshed as needed.
func withAuth(cfg *config.Config, db *store.DB, logger *slog.Logger, next oauth.ProbeFunc) oauth.ProbeFunc {
	p := &oauth.Provider{Vault: &oauth.Vault{Store: db, KeyFile: cfg.Auth.KeyFile}, Logger: logger}
	return p.Wrap(next, func(name string) *config.Server {
		for i := range cfg.Servers {
			if cfg.Servers[i].Name == name {
				return &cfg.Servers[i]
			}
		}
		return nil
	})
}
