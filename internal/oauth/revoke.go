package oauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// Logout deletes every stored grant of server, after revoking its tokens
// (RFC 7009) where the authorization server publishes a revocation
// endpoint: the refresh token first (which, per RFC 7009, also ends the
// access tokens of the grant at most servers), then the access token. A
// failed revocation is reported, and the grant is deleted all the same.
// secret is the configured client secret of a pre-registered client, if
// any.
func Logout(ctx context.Context, v *Vault, server, secret string, tc *tls.Config) (revoked bool, err error) {
	recs, err := v.LoadAll(server)
	if err != nil {
		return false, err
	}
	var errs []error
	c := httpClient(tc)
	for _, r := range recs {
		if r.RevocationURL == "" || r.Token == nil {
			continue
		}
		sec := r.ClientSecret
		if sec == "" {
			sec = secret
		}
		for _, t := range []struct{ value, hint string }{{r.Token.RefreshToken, "refresh_token"}, {r.Token.AccessToken, "access_token"}} {
			if t.value == "" {
				continue
			}
			if err := revoke(ctx, c, r, sec, t.value, t.hint); err != nil {
				errs = append(errs, fmt.Errorf("revoking the %s at %s: %w", strings.ReplaceAll(t.hint, "_", " "), r.RevocationURL, err))
				continue
			}
			revoked = true
		}
	}
	if err := v.Store.DeleteAuth(server); err != nil {
		errs = append(errs, err)
	}
	return revoked, errors.Join(errs...)
}

func revoke(ctx context.Context, c *http.Client, r *Record, secret, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	basic := secret != "" && r.AuthStyle != oauth2.AuthStyleInParams
	if !basic {
		form.Set("client_id", r.ClientID)
		if secret != "" {
			form.Set("client_secret", secret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		return errors.New("invalid revocation endpoint")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(r.ClientID), url.QueryEscape(secret))
	}
	resp, err := c.Do(req)
	if err != nil {
		return errors.New(networkError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}
