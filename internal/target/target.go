// Package target maps a configured server (config.Server) to what the
// prober connects to (probe.Target), reading its secrets at use time. It is
// shared by the check pipeline (internal/engine), the daemon's watcher and
// the CLI's auth and prepare commands, which must not import the pipeline.
package target

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/sandbox"
)

// For maps a configured server to a probe target. Secrets (headers, env)
// are read here, at use time, so a rotated *_file takes effect on the next
// probe. Errors never contain a secret value.
func For(s *config.Server) (probe.Target, error) {
	t := probe.Target{
		Name:            s.Name,
		Transport:       probe.Transport(s.Transport),
		Command:         s.Command,
		Args:            s.Args,
		Dir:             s.Cwd,
		URL:             s.URL,
		Timeout:         s.Timeout,
		ProtocolVersion: s.ProtocolVersion,
		Relist:          probe.RelistMode(s.Relist),
		Client: probe.ClientIdentity{
			Name:         s.Client.Name,
			Version:      s.Client.Version,
			Capabilities: s.Client.Capabilities,
			UserAgent:    s.Client.UserAgent,
		},
		Limits: probe.Limits{
			MaxPages:         s.Limits.MaxPages,
			MaxItems:         s.Limits.MaxItems,
			MaxResponseBytes: int64(s.Limits.MaxResponseBytes),
			MaxManifestBytes: int64(s.Limits.MaxManifestBytes),
			MaxStderrBytes:   int64(s.Limits.MaxStderrBytes),
		},
	}
	if s.Transport == config.TransportStdio {
		t.Sandbox = sandbox.Policy{
			Mode: sandbox.Mode(s.Sandbox),
			Hide: s.Private.Hidden(),
			Home: s.Private.Home(s.Name),
		}
	}
	var err error
	if t.Env, err = reveal(s.Env, "env"); err != nil {
		return t, err
	}
	for k, sec := range s.Env {
		if sec.IsSet() && !sec.Inline() {
			if t.ExternalEnv == nil {
				t.ExternalEnv = map[string]bool{}
			}
			t.ExternalEnv[k] = true
		}
	}
	if t.Headers, err = reveal(s.Headers, "headers"); err != nil {
		return t, err
	}
	if s.TLS != nil {
		if t.TLS, err = tlsConfig(s.TLS); err != nil {
			return t, err
		}
	}
	return t, nil
}

func reveal(m map[string]config.Secret, what string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, sec := range m {
		v, err := sec.Reveal()
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", what, k, err)
		}
		out[k] = v
	}
	return out, nil
}

func tlsConfig(c *config.TLS) (*tls.Config, error) {
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // explicit operator choice, validated and documented in config
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate found", c.CAFile)
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
