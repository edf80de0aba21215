package probe

import (
	"context"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// Authorizer is an HTTP target's OAuth session (internal/oauth owns it).
// The probe asks it for the access token of every request to the
// configured host, tells it about every 401 and 403 the server answers,
// and records what it says about the grant in the identity. The probe
// never retries a refused request and never starts an authorization: a
// refusal fails the probe with the Authorizer's error, which wraps
// ErrAuthRequired when a person has to act.
type Authorizer interface {
	// Token returns the access token to send, refreshing it if needed.
	Token(ctx context.Context) (*oauth2.Token, error)
	// Rejected explains a 401 or 403 answer to a request that carried a
	// token. It must not read or close the body.
	Rejected(resp *http.Response) error
	// Identity is the grant to record, given the scopes the server
	// publishes (its protected resource metadata's scopes_supported).
	Identity(scopesSupported []string) *manifest.Auth
}
