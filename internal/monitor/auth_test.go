package monitor

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/oauth/oauthtest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// TestDaemonRefreshesThenAuthRequired: with 2-second access tokens the
// daemon refreshes at every poll (each refresh rotating the refresh token,
// which it must store); once the grant is revoked, the server is
// auth-required with exactly one alert naming the command, and the daemon
// does not ask the authorization server again poll after poll.
func TestDaemonRefreshesThenAuthRequired(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{AccessTokenLifespan: 2 * time.Second})
	hook := newHookReceiver(t, clock.Real{}, statuses(http.StatusOK))
	keyFile := writeKeyFile(t)
	cfg := parseConfig(t, fmt.Sprintf(`
storage: {path: /unused}
auth: {key_file: %q}
alerts: {unreachable_after: 3}
servers:
  - name: notes
    url: %q
    schedule: "@every 1s"
    timeout: 10s
    trust_on_first_use: true
    auth: {mode: authorization_code, scopes: [tools:read]}
notifiers:
  - {name: rec, type: log}
  - {name: hook, type: webhook, url: %q}
`, keyFile, as.MCPURL, hook.url))
	db := openDB(t, dbPath(t))
	t.Cleanup(func() { db.Close() })
	b := oauthtest.NewBrowser(t.Context(), as.URL)
	first, err := oauth.Login(t.Context(), &cfg.Servers[0], oauth.LoginOptions{Vault: &oauth.Vault{Store: db, KeyFile: keyFile}, Out: b})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if err := b.Wait(); err != nil {
		t.Fatal(err)
	}

	rec := &recNotifier{ID: "rec"}
	h := start(t, db, Options{Config: cfg, Notifiers: func(c *config.Config) (map[string]notifiers.Notifier, error) {
		ns, err := realNotifiers(c)
		if err != nil {
			return nil, err
		}
		ns["rec"] = rec // the log notifier's name: recorded instead
		return ns, nil
	}})
	h.waitRuns("notes", 3)
	if n := as.Grants("refresh_token"); n < 3 {
		t.Errorf("%d refreshes over 3 polls, want one per poll", n)
	}
	if got := rec.Alerts(); len(got) != 0 {
		t.Fatalf("alerts while the grant works: %s (%v)", describe(got), got[0].Reason)
	}
	if v := h.metric("mcpdrift_auth_required", "server", "notes"); v != 0 {
		t.Errorf("mcpdrift_auth_required = %v while the grant works", v)
	}

	// The secrets of the run, for the canary check at the end.
	secrets := []string{first.Token.AccessToken, first.Token.RefreshToken}
	secrets = append(secrets, as.Codes()...)
	if cur, err := (&oauth.Vault{Store: db, KeyFile: keyFile}).Load("notes"); err != nil || cur == nil {
		t.Fatalf("stored grant: %v", err)
	} else {
		secrets = append(secrets, cur.Token.AccessToken, cur.Token.RefreshToken)
	}

	as.RevokeAll()
	got := rec.WaitAlerts(t, 1)
	a := got[0]
	if a.Kind != notifiers.KindUnreachable || !a.Report.AuthRequired || !strings.Contains(a.Reason, "mcpdrift auth login notes") {
		t.Fatalf("alert = %s %q (auth required %v)", a.Kind, a.Reason, a.Report.AuthRequired)
	}
	runs := h.runs("notes")
	h.waitRuns("notes", runs+3)
	if got := rec.Alerts(); len(got) != 1 {
		t.Errorf("alerts after 3 more polls: %s, want exactly one", describe(got))
	}
	if n := as.RefreshFailures(); n != 1 {
		t.Errorf("refused refreshes = %d, want 1 (no retry loop)", n)
	}
	if v := h.metric("mcpdrift_auth_required", "server", "notes"); v != 1 {
		t.Errorf("mcpdrift_auth_required = %v, want 1", v)
	}
	// No token or code in the daemon's log, the alert, or the webhook
	// notification as delivered.
	eventually(t, "the webhook notification", func() bool { return len(hook.accepted()) > 0 })
	body := hook.accepted()[0].body
	if !strings.Contains(body, "mcpdrift auth login notes") {
		t.Errorf("the webhook notification does not name the command:\n%s", body)
	}
	for _, sec := range secrets {
		if strings.Contains(body, sec) {
			t.Errorf("the webhook notification holds a secret (%.6s...)", sec)
		}
		if strings.Contains(h.logs.String(), sec) {
			t.Errorf("the daemon log holds a secret (%.6s...)", sec)
		}
		if strings.Contains(a.Reason+a.Report.Error, sec) {
			t.Errorf("the alert holds a secret (%.6s...)", sec)
		}
	}
}

// TestWatchSessionCarriesOAuth: a watched OAuth server's long-lived watch
// session sends the stored grant's token too (without it, the protected
// server answers 401 to every session).
func TestWatchSessionCarriesOAuth(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{})
	keyFile := writeKeyFile(t)
	as.AddClient("svc", "watch-secret", nil, "client_credentials")
	cfg := parseConfig(t, fmt.Sprintf(`
storage: {path: /unused}
auth: {key_file: %q}
servers:
  - name: svc
    url: %q
    schedule: "@every 1h"
    timeout: 10s
    watch: true
    auth: {mode: client_credentials, client_id: svc, client_secret: watch-secret, scopes: [tools:read]}
notifiers:
  - {name: rec, type: log}
`, keyFile, as.MCPURL))
	db := openDB(t, dbPath(t))
	t.Cleanup(func() { db.Close() })
	h := start(t, db, Options{Config: cfg, WatchMinInterval: 100 * time.Millisecond, Notifiers: func(*config.Config) (map[string]notifiers.Notifier, error) {
		return map[string]notifiers.Notifier{"rec": &recNotifier{ID: "rec"}}, nil
	}})
	h.waitRuns("svc", 1)
	eventually(t, "the watch session", func() bool {
		return h.metric("mcpdrift_watch_connected", "server", "svc") == 1
	})
	if strings.Contains(h.logs.String(), "Unauthorized") {
		t.Errorf("a request went without the token:\n%s", h.logs.String())
	}
}

// TestDaemonStepUpIsOneHighAuthAlert: a client-credentials server whose
// resource starts demanding a scope beyond the configured ones
// (insufficient_scope step-up) raises exactly one high alert naming the
// scope and what to do (the configuration, not a login: there is nothing to
// log in to), holding no secret; the daemon keeps requesting exactly the
// configured scope and never the demanded one.
func TestDaemonStepUpIsOneHighAuthAlert(t *testing.T) {
	const secret = "svc-secret-CANARY-5e1b"
	as := oauthtest.Start(t, oauthtest.Options{AccessTokenLifespan: 2 * time.Second, ScopesSupported: []string{"tools:read", "admin"}})
	as.AddClient("svc", secret, nil, "client_credentials")
	keyFile := writeKeyFile(t)
	cfg := parseConfig(t, fmt.Sprintf(`
storage: {path: /unused}
auth: {key_file: %q}
alerts: {unreachable_after: 3}
servers:
  - name: svc
    url: %q
    schedule: "@every 1s"
    timeout: 10s
    trust_on_first_use: true
    auth: {mode: client_credentials, client_id: svc, client_secret: %q, scopes: [tools:read]}
notifiers:
  - {name: rec, type: log}
`, keyFile, as.MCPURL, secret))
	db := openDB(t, dbPath(t))
	t.Cleanup(func() { db.Close() })
	rec := &recNotifier{ID: "rec"}
	h := start(t, db, Options{Config: cfg, Notifiers: func(*config.Config) (map[string]notifiers.Notifier, error) {
		return map[string]notifiers.Notifier{"rec": rec}, nil
	}})
	h.waitRuns("svc", 2)
	if got := rec.Alerts(); len(got) != 0 {
		t.Fatalf("alerts while the grant works: %s", describe(got))
	}

	as.SetRequiredScopes("tools:read", "admin")
	a := rec.WaitAlerts(t, 1)[0]
	if a.Severity != severity.High || !a.Report.AuthRequired || !strings.Contains(a.Reason, "demands scope admin") ||
		!strings.Contains(a.Reason, "auth.scopes of server svc") || strings.Contains(a.Reason, "auth login") {
		t.Fatalf("alert = %s %s %q (auth required %v)", a.Severity, a.Kind, a.Reason, a.Report.AuthRequired)
	}
	h.waitRuns("svc", h.runs("svc")+2)
	if got := rec.Alerts(); len(got) != 1 {
		t.Errorf("alerts after 2 more polls: %s, want exactly one", describe(got))
	}
	for i, req := range as.Requested() {
		if strings.Join(req, " ") != "tools:read" {
			t.Errorf("token request %d asked for %v, want exactly [tools:read]", i, req)
		}
	}
	if strings.Contains(h.logs.String(), secret) || strings.Contains(a.Reason+a.Report.Error, secret) {
		t.Error("the client secret reached the daemon log or the alert")
	}
}

// writeKeyFile writes a sealing key (auth.key_file) into a temp dir.
func writeKeyFile(t *testing.T) string {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(base64.StdEncoding.EncodeToString(make([]byte, 32))), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile
}
