package service

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/target"

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

// AuthLogin stores grant as the only grant of its server, which must be
// configured for the authorization code mode.
func (l *Local) AuthLogin(_ context.Context, grant *oauth.Record) error {
	if grant == nil {
		return fmt.Errorf("%w: no grant", ErrUsage)
	}
	s, err := l.authServer(grant.Server)
	if err != nil {
		return err
	}
	if s.Auth.Mode != config.AuthAuthorizationCode || grant.Mode != s.Auth.Mode {
		return fmt.Errorf("%w: server %s uses auth mode %s: nothing to log in to", ErrUsage, s.Name, s.Auth.Mode)
	}
	return (&oauth.Vault{Store: l.Store, KeyFile: l.Config.Auth.KeyFile}).Replace(grant)
}

// AuthLogout revokes server's tokens where its authorization server
// supports it (RFC 7009) and deletes its grant.
func (l *Local) AuthLogout(ctx context.Context, server string) (bool, error) {
	s, err := l.authServer(server)
	if err != nil {
		return false, err
	}
	t, err := target.For(s)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrUsage, err)
	}
	secret, err := s.Auth.ClientSecret.Reveal()
	if err != nil {
		return false, fmt.Errorf("auth.client_secret of %s: %w", s.Name, err)
	}
	return oauth.Logout(ctx, &oauth.Vault{Store: l.Store, KeyFile: l.Config.Auth.KeyFile}, s.Name, secret, t.TLS)
}

// authServer is the configured server named, which must have an auth block.
func (l *Local) authServer(name string) (*config.Server, error) {
	s, ok := l.Config.Server(name)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: no server named %q in the configuration", ErrUsage, name)
	case s.Auth == nil:
		return nil, fmt.Errorf("%w: server %s has no auth block (docs/auth.md)", ErrUsage, name)
	}
	return s, nil
}
