package monitor

import (
	"context"

	"github.com/mcpdrift/mcpdrift/internal/probe"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
)

// withAuth gives every probe of a server with an auth block its OAuth
// session (internal/oauth): the stored grant, refreshed here in the daemon
// and never interactively. The key file and the server are read from the
// running configuration at each probe, so a reload takes effect.
func (a *App) withAuth(next oauth.ProbeFunc) oauth.ProbeFunc {
	lookup := func(name string) *config.Server {
		if rt := a.runtime(); rt != nil {
			return rt.servers[name]
		}
		return nil
	}
	return func(ctx context.Context, t probe.Target) (*probe.Result, error) {
		keyFile := ""
		if rt := a.runtime(); rt != nil {
			keyFile = rt.cfg.Auth.KeyFile
		}
		p := &oauth.Provider{Vault: &oauth.Vault{Store: a.store, KeyFile: keyFile}, Logger: a.log, Now: a.clock.Now}
		return p.Wrap(next, lookup)(ctx, t)
	}
}

// authorizer is the OAuth session of a watch session's target (nil for a
// server without auth:): refreshed as the session goes on, never
// interactively.
func (a *App) authorizer(s *config.Server, t probe.Target) (probe.Authorizer, error) {
	if s.Auth == nil || t.URL == "" {
		return nil, nil
	}
	keyFile := ""
	if rt := a.runtime(); rt != nil {
		keyFile = rt.cfg.Auth.KeyFile
	}
	p := &oauth.Provider{Vault: &oauth.Vault{Store: a.store, KeyFile: keyFile}, Logger: a.log, Now: a.clock.Now}
	return p.Authorizer(s, t.TLS)
}
