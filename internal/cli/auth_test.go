package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/oauth"
	"github.com/mcpdrift/mcpdrift/internal/oauth/oauthtest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/store"
)

const authCanary = "client-secret-CANARY-91d2"

// TestAuthLoginCheckStatusLogout drives the whole CLI against a real
// authorization server (fosite) and a go-sdk server behind
// RequireBearerToken: auth login (the test's browser follows the printed
// URL to the loopback listener), check lists the protected tools of both
// the logged-in server and a client-credentials one, auth status shows
// the grants, logout revokes; and no token, client secret or code appears
// in any output or in the database file.
func TestAuthLoginCheckStatusLogout(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{Tools: []string{"search", "fetch"}, ScopesSupported: []string{"tools:read", "tools:write"}})
	as.AddClient("svc", authCanary, nil, "client_credentials")
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	writeFile(t, key, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	secretFile := filepath.Join(dir, "svc-secret")
	writeFile(t, secretFile, authCanary+"\n")
	db := filepath.Join(dir, "db")
	cfg := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, cfg, fmt.Sprintf(`storage: {path: %s}
auth: {key_file: %s}
defaults: {timeout: 10s}
servers:
  - name: notes
    url: %s
    auth: {mode: authorization_code, scopes: [tools:read]}
  - name: svc
    url: %s
    auth: {mode: client_credentials, client_id: svc, client_secret_file: %s, scopes: [tools:read]}
`, db, key, as.MCPURL, as.MCPURL, secretFile))
	h := testHost(t, map[string]string{"MCPDRIFT_CONFIG": cfg})
	var outputs []string

	// check before login: notes is auth-required, naming the command.
	r := runOn(t, h, "check", "notes")
	outputs = append(outputs, r.stdout, r.stderr)
	if r.code != ExitUnreachable || !strings.Contains(r.stdout+r.stderr, "mcpdrift auth login notes") || !strings.Contains(r.stdout, "notes auth-required") {
		t.Fatalf("check before login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// status, from what is stored, shows it too.
	r = runOn(t, h, "status", "notes")
	outputs = append(outputs, r.stdout, r.stderr)
	if !strings.Contains(r.stdout, "auth-required") {
		t.Errorf("status after a check without a grant:\n%s%s", r.stdout, r.stderr)
	}

	b := oauthtest.NewBrowser(t.Context(), as.URL)
	var errb bytes.Buffer
	code := RunHost(t.Context(), []string{"auth", "login", "notes"}, b, &errb, h)
	if err := b.Wait(); err != nil {
		t.Fatalf("browser: %v\n%s", err, b.String())
	}
	outputs = append(outputs, b.String(), errb.String())
	if code != ExitOK || !strings.Contains(b.String(), "granted scopes: tools:read") || !strings.Contains(b.String(), "127.0.0.1") {
		t.Fatalf("auth login: exit %d\n%s%s", code, b.String(), errb.String())
	}

	r = runOn(t, h, "--log-level", "debug", "check", "--format", "json")
	outputs = append(outputs, r.stdout, r.stderr)
	if r.code != ExitOK {
		t.Fatalf("check after login: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runOn(t, h, "inventory")
	outputs = append(outputs, r.stdout, r.stderr)
	for _, want := range []string{"search", "fetch"} {
		if strings.Count(r.stdout, want) < 2 {
			t.Errorf("inventory does not list %s for both servers:\n%s", want, r.stdout)
		}
	}

	if !strings.Contains(r.stdout, "granted scopes: tools:read") {
		t.Errorf("inventory does not show the granted scopes:\n%s", r.stdout)
	}

	r = runOn(t, h, "auth", "status")
	outputs = append(outputs, r.stdout, r.stderr)
	expect(t, r, ExitOK, "authorization_code")
	for _, want := range []string{"MODE", "ISSUER", "CLIENT", "GRANTED SCOPES", "EXPIRES", "LAST REFRESH", "LAST ERROR",
		"client_credentials", "tools:read", as.URL, "svc"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("auth status lacks %q:\n%s", want, r.stdout)
		}
	}
	// Expiry and last refresh are times, for both grants.
	if n := len(regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).FindAllString(r.stdout, -1)); n != 2 {
		t.Errorf("auth status shows %d expiry and last refresh pairs, want 2:\n%s", n, r.stdout)
	}

	// A backup holds the grants sealed, like the database.
	bak := filepath.Join(dir, "backup.db")
	r = runOn(t, h, "backup", bak)
	outputs = append(outputs, r.stdout, r.stderr)
	expect(t, r, ExitOK, "")

	// The secrets the run handled, read back through the vault.
	st, err := store.Open(db, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, s := range []string{"notes", "svc"} {
		rec, err := (&oauth.Vault{Store: st, KeyFile: key}).Load(s)
		if err != nil || rec == nil || rec.Token == nil {
			t.Fatalf("grant of %s: %v %v", s, rec, err)
		}
		secrets = append(secrets, rec.Token.AccessToken)
		if rec.Token.RefreshToken != "" {
			secrets = append(secrets, rec.Token.RefreshToken)
		}
	}
	_ = st.Close()
	secrets = append(secrets, authCanary)
	secrets = append(secrets, as.Codes()...)
	var dumps [][]byte
	for _, f := range []string{db, bak} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dumps = append(dumps, b)
	}
	for _, sec := range secrets {
		for i, dump := range dumps {
			if bytes.Contains(dump, []byte(sec)) {
				t.Errorf("the %s file holds a secret in clear (%.6s...)", []string{"database", "backup"}[i], sec)
			}
		}
		for _, o := range outputs {
			if strings.Contains(o, sec) {
				t.Errorf("an output holds a secret (%.6s...):\n%s", sec, o)
			}
		}
	}

	r = runOn(t, h, "auth", "logout", "notes")
	expect(t, r, ExitOK, "Revoked the tokens of notes")
	r = runOn(t, h, "auth", "status", "notes")
	expect(t, r, ExitOK, "not logged in")
	r = runOn(t, h, "check", "notes")
	if r.code == ExitOK || !strings.Contains(r.stdout+r.stderr, "mcpdrift auth login notes") {
		t.Errorf("check after logout: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestAuthScopeGrowthIsHigh: a client-credentials server (2-second tokens,
// so every check gets a new one) whose authorization server starts
// granting more than requested is a high auth.scopes change; one that
// publishes a wider scopes_supported is one too; one that demands a wider
// scope by step-up is auth-required naming the scope, and never gets it.
// Every token request asked for exactly the configured scope.
func TestAuthScopeGrowthIsHigh(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{AccessTokenLifespan: 2 * time.Second, ScopesSupported: []string{"tools:read"}})
	h, _ := clientCredentialsHost(t, as)
	expect(t, runOn(t, h, "check"), ExitOK, "")

	change := func(path string) report.Change { t.Helper(); return authChange(t, h, "auth.scopes", path) }
	as.GrantExtra("tools:write")
	if c := change("identity.auth.granted_scopes"); c.Severity != severity.High || !strings.Contains(c.Summary, "tools:write") {
		t.Errorf("granted scope growth: %+v", c)
	}
	as.SetScopesSupported("tools:read", "admin")
	if c := change("identity.auth.unrequested_scopes"); c.Severity != severity.High || !strings.Contains(c.Summary, "admin") {
		t.Errorf("scopes_supported beyond the configured ones: %+v", c)
	}
	as.SetRequiredScopes("tools:read", "admin")
	r := runOn(t, h, "check")
	if r.code == ExitOK || !strings.Contains(r.stdout+r.stderr, "demands scope admin beyond the configured scopes") {
		t.Errorf("step-up: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for i, req := range as.Requested() {
		if strings.Join(req, " ") != "tools:read" {
			t.Errorf("token request %d asked for %v, want exactly [tools:read]", i, req)
		}
	}
}

// TestAuthRekey: after rekey, the grants open with the new key only, and a
// check with auth.key_file pointing at it uses them without a new login.
func TestAuthRekey(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{})
	dir := t.TempDir()
	oldKey, newKey := filepath.Join(dir, "old"), filepath.Join(dir, "new")
	writeFile(t, oldKey, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32)))
	writeFile(t, newKey, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{2}, 32)))
	cfgText := `storage: {path: %s}
auth: {key_file: %s}
defaults: {timeout: 10s}
servers:
  - name: notes
    url: %s
    auth: {mode: authorization_code, scopes: [tools:read]}
`
	cfg := filepath.Join(dir, "mcpdrift.yaml")
	db := filepath.Join(dir, "db")
	writeFile(t, cfg, fmt.Sprintf(cfgText, db, oldKey, as.MCPURL))
	h := testHost(t, map[string]string{"MCPDRIFT_CONFIG": cfg})
	b := oauthtest.NewBrowser(t.Context(), as.URL)
	var errb bytes.Buffer
	if code := RunHost(t.Context(), []string{"auth", "login", "notes"}, b, &errb, h); code != ExitOK || b.Wait() != nil {
		t.Fatalf("login: exit %d\n%s%s", code, b.String(), errb.String())
	}
	expect(t, runOn(t, h, "auth", "rekey", newKey), ExitOK, "Re-sealed 1 grant(s)")
	r := runOn(t, h, "auth", "status")
	expect(t, r, ExitOK, "another key")
	writeFile(t, cfg, fmt.Sprintf(cfgText, db, newKey, as.MCPURL))
	expect(t, runOn(t, h, "check"), ExitOK, "")
	expect(t, runOn(t, h, "auth", "status"), ExitOK, "tools:read")
}

// TestAuthCheckLockClientCredentials: check --lock, without a database,
// gets a client credentials token in memory and compares the protected
// server with the lockfile.
func TestAuthCheckLockClientCredentials(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{Tools: []string{"search"}})
	h, dir := clientCredentialsHost(t, as)
	expect(t, runOn(t, h, "check"), ExitOK, "")
	lock := filepath.Join(dir, "mcp.lock.json")
	r := runOn(t, h, "lock", "export")
	expect(t, r, ExitOK, "")
	writeFile(t, lock, r.stdout)
	// The inline client secret is in neither the lockfile nor the printed
	// effective config.
	p := runOn(t, h, "config", "check", "--print")
	expect(t, p, ExitOK, "client_id: svc")
	if strings.Contains(r.stdout+p.stdout+p.stderr, authCanary) {
		t.Error("lock export or config check --print holds the client secret")
	}
	r = runOn(t, h, "check", "--lock", lock)
	if r.code != ExitOK || strings.Contains(r.stdout+r.stderr, authCanary) {
		t.Fatalf("check --lock: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := as.Grants("client_credentials"); n != 2 {
		t.Errorf("%d token requests, want 2 (check, then check --lock in memory)", n)
	}
}

// clientCredentialsHost registers the client svc (secret authCanary) at
// as and returns a host whose config has one client-credentials server,
// svc, on as's MCP endpoint with scopes [tools:read] (and the extra
// top-level config lines), and the config's directory (the database is db
// there).
func clientCredentialsHost(t *testing.T, as *oauthtest.Server, extra ...string) (Host, string) {
	t.Helper()
	as.AddClient("svc", authCanary, nil, "client_credentials")
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	writeFile(t, key, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	cfg := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, cfg, fmt.Sprintf(`storage: {path: %s}
auth: {key_file: %s}
defaults: {timeout: 10s}
%sservers:
  - name: svc
    url: %s
    auth: {mode: client_credentials, client_id: svc, client_secret: %s, scopes: [tools:read]}
`, filepath.Join(dir, "db"), key, strings.Join(extra, ""), as.MCPURL, authCanary))
	return testHost(t, map[string]string{"MCPDRIFT_CONFIG": cfg}), dir
}

// authChange runs check --format json on h's one server and returns its
// change of kind at path; the output must not hold the client secret.
func authChange(t *testing.T, h Host, kind, path string) report.Change {
	t.Helper()
	r := runOn(t, h, "check", "--format", "json")
	if strings.Contains(r.stdout+r.stderr, authCanary) {
		t.Fatal("check output holds the client secret")
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Servers) != 1 {
		t.Fatalf("check: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	for _, c := range rep.Servers[0].Changes {
		if c.Path == path && c.Kind == kind {
			return c
		}
	}
	t.Fatalf("no %s change at %s in %+v", kind, path, rep.Servers[0].Changes)
	return report.Change{}
}

// TestAuthIssuerChangeIsHigh: the protected server moves to another
// authorization server (its metadata names it, and it accepts its
// tokens): the next check gets a token there and reports a high
// auth.issuer change naming both; auth status shows the new issuer.
func TestAuthIssuerChangeIsHigh(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{AccessTokenLifespan: 2 * time.Second})
	other := oauthtest.Start(t, oauthtest.Options{AccessTokenLifespan: 2 * time.Second})
	other.AddClient("svc", authCanary, nil, "client_credentials")
	h, _ := clientCredentialsHost(t, as)
	expect(t, runOn(t, h, "check"), ExitOK, "")
	expect(t, runOn(t, h, "auth", "status"), ExitOK, as.URL)

	as.MoveTo(other)
	c := authChange(t, h, "auth.issuer", "identity.auth.issuer")
	if c.Severity != severity.High || !strings.Contains(c.Summary, as.URL) || !strings.Contains(c.Summary, other.URL) {
		t.Errorf("issuer change: %+v", c)
	}
	if n := other.Grants("client_credentials"); n != 1 {
		t.Errorf("%d token requests at the new authorization server, want 1", n)
	}
	expect(t, runOn(t, h, "auth", "status", "svc"), ExitOK, other.URL)
}

// TestAuthCommandsWithTheDaemonRunning: while a daemon holds the
// database, auth status goes through its admin socket; auth login runs the
// browser flow in the CLI and hands the grant to the daemon, whose next
// check uses it; logout revokes and deletes through the daemon; rekey,
// which needs the database to itself, fails at once naming the daemon and
// what to do. No output holds the client secret.
func TestAuthCommandsWithTheDaemonRunning(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{})
	as.AddClient("svc", authCanary, nil, "client_credentials")
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "admin.sock")
	key := filepath.Join(dir, "key")
	writeFile(t, key, base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{4}, 32)))
	cfg := filepath.Join(dir, "mcpdrift.yaml")
	writeFile(t, cfg, fmt.Sprintf(`storage: {path: %s}
auth: {key_file: %s}
admin: {socket: %s}
http: {listen: ""}
defaults: {timeout: 10s, schedule: "@every 1h"}
servers:
  - name: notes
    url: %s
    auth: {mode: authorization_code, scopes: [tools:read]}
  - name: svc
    url: %s
    auth: {mode: client_credentials, client_id: svc, client_secret: %s, scopes: [tools:read]}
`, filepath.Join(dir, "db"), key, sock, as.MCPURL, as.MCPURL, authCanary))
	h := testHost(t, map[string]string{"MCPDRIFT_CONFIG": cfg})
	expect(t, runOn(t, h, "check", "svc"), ExitOK, "")
	startDaemonOn(t, h, sock)
	var outputs []string

	r := runOn(t, h, "--log-level", "info", "auth", "status")
	outputs = append(outputs, r.stdout, r.stderr)
	expect(t, r, ExitOK, as.URL, "using the daemon that holds the database")
	if !strings.Contains(r.stdout, "not logged in (run: mcpdrift auth login notes)") {
		t.Errorf("auth status through the daemon:\n%s", r.stdout)
	}
	expect(t, runOn(t, h, "auth", "status", "nope"), ExitUsage, "", "no server named nope has an auth block")

	b := oauthtest.NewBrowser(t.Context(), as.URL)
	var errb bytes.Buffer
	code := RunHost(t.Context(), []string{"--log-level", "info", "auth", "login", "notes"}, b, &errb, h)
	if err := b.Wait(); err != nil || code != ExitOK || !strings.Contains(errb.String(), "using the daemon that holds the database") {
		t.Fatalf("auth login through the daemon: exit %d, browser %v\n%s%s", code, err, b.String(), errb.String())
	}
	outputs = append(outputs, b.String(), errb.String())
	r = runOn(t, h, "check", "notes")
	outputs = append(outputs, r.stdout, r.stderr)
	expect(t, r, ExitOK, "")
	r = runOn(t, h, "auth", "status", "notes")
	outputs = append(outputs, r.stdout, r.stderr)
	if !strings.Contains(r.stdout, "tools:read") || !strings.Contains(r.stdout, " ok ") {
		t.Errorf("auth status after login through the daemon:\n%s", r.stdout)
	}

	r = runOn(t, h, "auth", "rekey", key)
	outputs = append(outputs, r.stdout, r.stderr)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "the daemon (pid") || !strings.Contains(r.stderr, "systemctl stop mcpdrift") {
		t.Errorf("rekey with the daemon running: %+v", r)
	}

	r = runOn(t, h, "auth", "logout", "notes")
	outputs = append(outputs, r.stdout, r.stderr)
	expect(t, r, ExitOK, "Revoked the tokens of notes")
	r = runOn(t, h, "check", "notes")
	if r.code != ExitUnreachable || !strings.Contains(r.stdout+r.stderr, "mcpdrift auth login notes") {
		t.Errorf("check after logout through the daemon: %+v", r)
	}
	secrets := append([]string{authCanary}, as.Codes()...)
	for _, o := range outputs {
		for _, sec := range secrets {
			if strings.Contains(o, sec) {
				t.Errorf("an output holds a secret (%.6s...):\n%s", sec, o)
			}
		}
	}
}

// TestAuthRekeyWithTheDatabaseLocked: another process or handle holding
// the database (no daemon socket to name) makes rekey fail with exit 4,
// saying the command needs the database to itself.
func TestAuthRekeyWithTheDatabaseLocked(t *testing.T) {
	as := oauthtest.Start(t, oauthtest.Options{})
	h, dir := clientCredentialsHost(t, as)
	expect(t, runOn(t, h, "check"), ExitOK, "")
	cfg := filepath.Join(dir, "mcpdrift.yaml")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg, strings.Replace(string(b), "/db}", "/db, lock_timeout: 100ms}", 1))
	held, err := store.Open(filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	r := runOn(t, h, "auth", "rekey", filepath.Join(dir, "key"))
	if r.code != ExitFailure || !strings.Contains(r.stderr, "database locked") || !strings.Contains(r.stderr, "needs the database to itself") {
		t.Errorf("rekey with the database locked: %+v", r)
	}
}
