// Package oauth owns mcpdrift's OAuth sessions with MCP servers: the
// client credentials grant for service accounts, the authorization code
// grant with PKCE done once by a person (Login) and refreshed headless
// after, client registration in the order the MCP specification prefers
// (Client ID Metadata Document, pre-registered client, RFC 7591 dynamic
// registration), the sealed grant store (Vault) and RFC 7009 revocation.
//
// The protocol work is go-sdk's (auth.AuthorizationCodeHandler, its
// metadata discovery, PKCE, RFC 8707 resource and RFC 9207 iss checks;
// oauthex) and golang.org/x/oauth2's (token exchange, refresh, client
// credentials). x/oauth2 refreshes without extra parameters, so the RFC
// 8707 resource is added to refresh requests by a transport
// (withResource). go-sdk's extauth.ClientCredentialsHandler is not used: it
// requests every scope the server publishes, and mcpdrift requests exactly
// the configured ones.
//
// Least privilege: the configured scopes are requested exactly; the
// scopes granted, the issuer and the mode go into the snapshot's identity
// (manifest.Auth), so growth drifts like any other field. Tokens, client
// secrets and codes never reach a log, an error, the identity or the
// database unsealed.
package oauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
)

// Registration methods recorded in Record.Registration.
const (
	RegMetadataDocument = "metadata_document"
	RegPreregistered    = "preregistered"
	RegDynamic          = "dynamic"
)

// requestTimeout bounds every request to an authorization server.
const requestTimeout = 15 * time.Second

// httpClient is the client of authorization server requests: bounded, with
// the server's TLS settings (a private CA), never following a redirect
// (metadata, token and registration endpoints answer directly).
func httpClient(tc *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tc != nil {
		tr.TLSClientConfig = tc.Clone()
	}
	return &http.Client{
		Transport: tr, Timeout: requestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// LoginCommand is what a person runs to (re)authorize a server.
func LoginCommand(server string) string { return "mcpdrift auth login " + server }

// authRequired is an error wrapping probe.ErrAuthRequired whose text says
// what happened and what to do.
func authRequired(server, mode, what string) error {
	fix := "run: " + LoginCommand(server)
	if mode == config.AuthClientCredentials {
		fix = "check auth.client_id and auth.client_secret of server " + server
	}
	return fmt.Errorf("%w: %s; %s", probe.ErrAuthRequired, what, fix)
}

// describe renders an authorization server's refusal without its body:
// the error code and description only (RFC 6749 5.2).
func describe(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		s := "the authorization server answered " + re.Response.Status
		if re.ErrorCode != "" {
			s += " (" + re.ErrorCode
			if re.ErrorDescription != "" {
				s += ": " + clip(re.ErrorDescription, 200)
			}
			s += ")"
		}
		return s
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// metadata is what discovery found for a protected resource.
type metadata struct {
	resource        string
	scopesSupported []string
	as              *oauthex.AuthServerMeta
}

// discover finds the protected resource metadata of serverURL (RFC 9728,
// at the path of the endpoint, then at the root, as the MCP specification
// orders them) and its authorization server's metadata (RFC 8414 / OIDC),
// with go-sdk's fetchers. hint is a resource_metadata URL from a
// WWW-Authenticate challenge, tried first.
func discover(ctx context.Context, c *http.Client, serverURL, hint, pinned string) (*metadata, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, errors.New("server url is not a valid URL")
	}
	type cand struct{ at, resource string }
	var cands []cand
	if hint != "" {
		cands = append(cands, cand{hint, serverURL})
	}
	root := *u
	root.RawQuery, root.User, root.Fragment = "", nil, ""
	at := root
	at.Path = "/.well-known/oauth-protected-resource/" + strings.TrimLeft(u.Path, "/")
	cands = append(cands, cand{at.String(), root.String()})
	at.Path = "/.well-known/oauth-protected-resource"
	origin := root
	origin.Path = ""
	cands = append(cands, cand{at.String(), origin.String()})
	var prm *oauthex.ProtectedResourceMetadata
	var firstErr error
	for _, c2 := range cands {
		p, err := oauthex.GetProtectedResourceMetadata(ctx, c2.at, c2.resource, c)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			continue
		}
		if p != nil {
			prm = p
			break
		}
	}
	if prm == nil {
		if firstErr != nil {
			return nil, fmt.Errorf("protected resource metadata: %w", firstErr)
		}
		return nil, errors.New("the server publishes no OAuth protected resource metadata")
	}
	if len(prm.AuthorizationServers) == 0 {
		return nil, errors.New("protected resource metadata names no authorization server")
	}
	issuer := prm.AuthorizationServers[0]
	if pinned != "" {
		if !slices.ContainsFunc(prm.AuthorizationServers, func(s string) bool { return sameIssuer(s, pinned) }) {
			return nil, fmt.Errorf("the server names authorization servers %s, not the configured issuer %s",
				strings.Join(prm.AuthorizationServers, ", "), pinned)
		}
		issuer = pinned
	}
	asm, err := auth.GetAuthServerMetadata(ctx, issuer, c)
	if err != nil {
		return nil, fmt.Errorf("authorization server metadata of %s: %w", issuer, err)
	}
	if asm == nil {
		return nil, fmt.Errorf("authorization server %s publishes no metadata", issuer)
	}
	return &metadata{resource: prm.Resource, scopesSupported: prm.ScopesSupported, as: asm}, nil
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func sameIssuer(a, b string) bool { return strings.TrimSuffix(a, "/") == strings.TrimSuffix(b, "/") }

// authStyle picks the token endpoint authentication of a confidential
// client from what the authorization server supports.
func authStyle(supported []string) oauth2.AuthStyle {
	switch {
	case slices.Contains(supported, "client_secret_basic"):
		return oauth2.AuthStyleInHeader
	case slices.Contains(supported, "client_secret_post"):
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleAutoDetect
}

// grantedScopes is what the token response says was granted (its scope
// parameter, RFC 6749 5.1), else what was requested.
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return manifest.SetOf(strings.Fields(s))
	}
	return manifest.SetOf(requested)
}

// beyond returns the scopes of asked that are not in configured.
func beyond(asked, configured []string) []string {
	var out []string
	for _, s := range asked {
		if !slices.Contains(configured, s) {
			out = append(out, s)
		}
	}
	return manifest.SetOf(out)
}
