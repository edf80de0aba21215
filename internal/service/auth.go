package service

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

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

// AuthStatus is the stored OAuth grant of each named server with an auth
// block (all of them when none), as `mcpdrift auth status` shows it.
func (l *Local) AuthStatus(_ context.Context, names []string) ([]oauth.Status, error) {
	v := &oauth.Vault{Store: l.Store, KeyFile: l.Config.Auth.KeyFile}
	out := []oauth.Status{}
	for i := range l.Config.Servers {
		s := &l.Config.Servers[i]
		if s.Auth != nil && (len(names) == 0 || slices.Contains(names, s.Name)) {
			out = append(out, v.StatusOf(s))
		}
	}
	if len(out) == 0 && len(names) > 0 {
		return nil, fmt.Errorf("%w: no server named %s has an auth block", ErrUsage, strings.Join(names, ", "))
	}
	return out, nil
}
