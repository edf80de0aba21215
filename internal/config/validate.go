package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/drift"
	"github.com/mcpdrift/mcpdrift/internal/lint"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/internal/suggest"
)

var (
	nameRE     = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	protocolRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// Allowed values, in the order messages list them.
var (
	capabilities = []string{CapabilityRoots, CapabilitySampling, CapabilityElicitation}
	entities     = []string{"server", "tool", "prompt", "resource", "resource_template"}
	alertKinds   = []string{KindDrift, KindUnreachable, KindResolved}
	smtpPolicies = []string{SMTPStartTLS, SMTPTLS, SMTPNone}
	transports   = []Transport{TransportStreamable, TransportSSE, TransportStdio}
	sandboxModes = []string{SandboxAuto, SandboxStrict, SandboxOff}
	relistModes  = []string{RelistNotified, RelistAlways, RelistNever}
)

// notifierKeys lists the keys each notifier type accepts besides the common
// name, type, min_severity, servers and kinds.
var notifierKeys = map[string][]string{
	NotifierSlack:   {"webhook_url", "webhook_url_file", "token", "token_file", "channel"},
	NotifierEmail:   {"smtp", "from", "to"},
	NotifierWebhook: {"url", "url_file", "secret", "secret_file", "headers", "header_files"},
	NotifierLog:     {},
	NotifierAlertmanager: {"url", "url_file", "username", "password", "password_file", "bearer_token", "bearer_token_file",
		"labels", "instance", "resolve_timeout", "generator_url"},
	NotifierTeams: {"webhook_url", "webhook_url_file"},
}

// notifierTypes is every notifier type, sorted, for messages.
var notifierTypes = sortedKeys(notifierKeys)

// typedNotifierKeys is every key some notifier type accepts and others do
// not, in the order they are checked.
var typedNotifierKeys = func() []string {
	var keys []string
	for _, t := range notifierTypes {
		for _, k := range notifierKeys[t] {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}()

// alertmanagerLabels are the labels an alertmanager notifier sets itself.
var alertmanagerLabels = []string{"alertname", "instance", "kind", "server", "severity"}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// resolve applies the defaults that depend on other settings: inferred
// transports, client identity, SMTP ports.
func resolve(c *Config) {
	fillClient(&c.Defaults.Client)
	for i := range c.Servers {
		s := &c.Servers[i]
		fillClient(&s.Client)
		if s.Transport == "" {
			switch {
			case s.URL != "":
				s.Transport = TransportStreamable
			case s.Command != "":
				s.Transport = TransportStdio
			}
		}
		if s.Transport != TransportStdio {
			s.Sandbox = "" // no process to sandbox
			// Nor a package to install.
			s.FirstRunTimeout = 0
		}
	}
	for i := range c.Notifiers {
		if n := &c.Notifiers[i]; n.Type == NotifierAlertmanager && n.ResolveTimeout == 0 {
			n.ResolveTimeout = DefaultResolveTimeout(c.Alerts.RepeatInterval)
		}
		if m := c.Notifiers[i].SMTP; m != nil {
			if m.TLS == "" {
				m.TLS = DefaultSMTPTLS
			}
			if m.Port == 0 {
				m.Port = smtpPort(m.TLS)
			}
		}
	}
}

// failedAt reports whether path or an ancestor already has a problem, in
// which case its value is not what the file meant and checking it would only
// add noise.
func (d *decoder) failedAt(path string) bool {
	for p := path; p != ""; p = parentPath(p) {
		if d.failed[p] {
			return true
		}
	}
	return false
}

func (d *decoder) report(path, msg string) {
	if d.failedAt(path) {
		return
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: d.line(path), Path: path, Msg: msg})
}

func (d *decoder) reportf(path, format string, args ...any) {
	d.report(path, fmt.Sprintf(format, args...))
}

// quoteAt quotes the value at path for a message, or says it came from the
// environment.
func (d *decoder) quoteAt(path, value string) string {
	if d.pos[path].fromEnv {
		return "(value from the environment)"
	}
	return quoteText(value)
}

func (d *decoder) validate(c *Config) {
	d.checkStorage(c.Storage)
	if c.Concurrency < 1 {
		d.report("concurrency", "must be at least 1")
	}
	d.checkDefaults(c.Defaults)
	if len(c.Servers) == 0 {
		d.report("servers", "at least one server is required")
	}
	names := map[string]string{}
	for i := range c.Servers {
		d.checkServer(&c.Servers[i], fmt.Sprintf("servers[%d]", i), names)
		d.checkAuth(fmt.Sprintf("servers[%d]", i), &c.Servers[i], c.Auth.KeyFile)
	}
	notifiers := map[string]string{}
	for i := range c.Notifiers {
		d.checkNotifier(&c.Notifiers[i], fmt.Sprintf("notifiers[%d]", i), notifiers, names)
		d.checkResolveTimeout(&c.Notifiers[i], fmt.Sprintf("notifiers[%d]", i), c.Alerts.RepeatInterval)
	}
	d.checkAlerts(c.Alerts)
	if l := c.HTTP.Listen; l != "" {
		d.checkListen("http.listen", l)
	}
	if c.HTTP.WebConfigFile != "" && c.HTTP.Listen == "" {
		d.report("http.web_config_file", "set, but http.listen is empty: there is no listener to protect")
	}
	d.checkOperators(c.Admin.Operators)
}

func (d *decoder) checkStorage(s Storage) {
	if s.Path == "" {
		d.report("storage.path", "must not be empty")
	}
	if s.LockTimeout <= 0 {
		d.report("storage.lock_timeout", "must be positive")
	}
	if s.MaxObservations < 0 {
		d.report("storage.max_observations", "must not be negative (0 keeps all)")
	}
	if s.ObservationMaxAge < 0 {
		d.report("storage.observation_max_age", "must not be negative (0 keeps all)")
	}
}

func (d *decoder) checkDefaults(s Defaults) {
	d.checkSchedule("defaults.schedule", s.Schedule)
	if s.Timeout <= 0 {
		d.report("defaults.timeout", "must be positive")
	}
	if s.FirstRunTimeout <= 0 {
		d.report("defaults.first_run_timeout", "must be positive")
	}
	d.checkClient("defaults.client", s.Client)
	d.checkLimits("defaults.limits", s.Limits, true)
	d.checkSandbox("defaults.sandbox", s.Sandbox)
	d.checkRelist("defaults.relist", s.Relist)
}

func (d *decoder) checkRelist(path, mode string) {
	if !slices.Contains(relistModes, mode) {
		d.reportf(path, "unknown relist mode %s (use %s)", d.quoteAt(path, mode), strings.Join(relistModes, ", "))
	}
}

func (d *decoder) checkSandbox(path, mode string) {
	if !slices.Contains(sandboxModes, mode) {
		d.reportf(path, "unknown sandbox mode %s (use %s)", d.quoteAt(path, mode), strings.Join(sandboxModes, ", "))
	}
}

func (d *decoder) checkSchedule(path, spec string) {
	if _, err := ParseSchedule(spec); err != nil {
		if d.pos[path].fromEnv {
			d.reportf(path, "invalid schedule (value from the environment)")
			return
		}
		d.reportf(path, "invalid schedule %s: %v", quoteText(spec), err)
	}
}

func (d *decoder) checkClient(path string, c Client) {
	seen := map[string]bool{}
	for i, capability := range c.Capabilities {
		p := fmt.Sprintf("%s.capabilities[%d]", path, i)
		switch {
		case !slices.Contains(capabilities, capability):
			d.reportf(p, "unknown capability %s (use %s)", d.quoteAt(p, capability), strings.Join(capabilities, ", "))
		case seen[capability]:
			d.reportf(p, "%q is listed twice", capability)
		}
		seen[capability] = true
	}
	if c.UserAgent != "" && !validUserAgent(c.UserAgent) {
		p := path + ".user_agent"
		d.reportf(p, "%s is not a valid User-Agent (use at most %d printable ASCII characters, no leading or trailing space)",
			d.quoteAt(p, c.UserAgent), maxUserAgent)
	}
}

// maxUserAgent bounds client.user_agent; real clients send far less.
const maxUserAgent = 256

// validUserAgent reports whether s can be sent as a User-Agent header as
// is: printable ASCII, trimmed, bounded.
func validUserAgent(s string) bool {
	if len(s) > maxUserAgent || strings.TrimSpace(s) != s {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkLimits checks the limits the file set under path; all checks every
// limit, for the defaults, which may come from Default().
func (d *decoder) checkLimits(path string, l Limits, all bool) {
	ints := []struct {
		key string
		v   int64
	}{
		{"max_pages", int64(l.MaxPages)},
		{"max_items", int64(l.MaxItems)},
		{"max_response_bytes", int64(l.MaxResponseBytes)},
		{"max_manifest_bytes", int64(l.MaxManifestBytes)},
		{"max_stderr_bytes", int64(l.MaxStderrBytes)},
	}
	for _, x := range ints {
		p := path + "." + x.key
		if (all || d.present(p)) && x.v < 1 {
			d.report(p, "must be at least 1")
		}
	}
}

func (d *decoder) checkName(path, what, name string, seen map[string]string) {
	switch {
	case name == "":
		d.report(path, "required")
	case !nameRE.MatchString(name):
		d.reportf(path, "%s is not a valid name (use 1 to 64 of A-Z a-z 0-9 . _ -)", d.quoteAt(path, name))
	default:
		if first, dup := seen[name]; dup {
			d.reportf(path, "duplicate %s name %q (first used on line %d)", what, name, d.line(first))
			return
		}
		seen[name] = path
	}
}

func (d *decoder) checkServer(s *Server, path string, names map[string]string) {
	at := func(key string) string { return path + "." + key }
	d.checkName(at("name"), "server", s.Name, names)

	hasURL, hasCmd := s.URL != "", s.Command != ""
	switch {
	case hasURL && hasCmd:
		d.report(at("command"), "cannot be used together with url")
	case !hasURL && !hasCmd && !d.failedAt(at("url")) && !d.failedAt(at("command")):
		d.report(path, "url or command is required")
	}
	switch s.Transport {
	case TransportStdio:
		if hasURL && !hasCmd {
			d.report(at("transport"), `"stdio" needs command, not url`)
		}
	case TransportStreamable, TransportSSE:
		if hasCmd && !hasURL {
			d.reportf(at("transport"), "%q needs url, not command", s.Transport)
		}
	case "":
	default:
		d.reportf(at("transport"), "unknown transport %s (use %s)", d.quoteAt(at("transport"), string(s.Transport)), joinTransports())
	}
	if hasURL {
		d.checkURL(at("url"), s.URL, false)
	}

	httpOnly := hasURL || (s.Transport != TransportStdio && s.Transport != "")
	stdioOnly := !httpOnly && hasCmd
	for _, key := range []string{"headers", "header_files", "tls"} {
		if stdioOnly && d.present(at(key)) {
			d.report(at(key), "only valid for HTTP servers")
		}
	}
	for _, key := range []string{"args", "env", "env_files", "cwd", "sandbox", "first_run_timeout"} {
		if httpOnly && !hasCmd && d.present(at(key)) {
			d.report(at(key), "only valid for stdio servers")
		}
	}
	d.checkHeaders(path, s.Headers)
	for _, k := range sortedKeys(s.Env) {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			d.reportf(envPath(d, path, k), "%s is not a valid variable name", quoteText(k))
		}
	}
	if t := s.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		if t.CertFile == "" {
			d.report(at("tls.key_file"), "needs cert_file as well")
		} else {
			d.report(at("tls.cert_file"), "needs key_file as well")
		}
	}

	if stdioOnly && d.present(at("sandbox")) {
		d.checkSandbox(at("sandbox"), s.Sandbox)
	}
	if d.present(at("relist")) {
		d.checkRelist(at("relist"), s.Relist)
	}
	if d.present(at("timeout")) && s.Timeout <= 0 {
		d.report(at("timeout"), "must be positive")
	}
	if stdioOnly && d.present(at("first_run_timeout")) && s.FirstRunTimeout <= 0 {
		d.report(at("first_run_timeout"), "must be positive")
	}
	if d.present(at("schedule")) {
		d.checkSchedule(at("schedule"), s.Schedule)
	}
	if v := s.ProtocolVersion; v != "" && !protocolRE.MatchString(v) {
		d.reportf(at("protocol_version"), "%s is not a protocol version (use a date such as 2025-06-18)", d.quoteAt(at("protocol_version"), v))
	}
	if d.present(at("client")) {
		d.checkClient(at("client"), s.Client)
	}
	d.checkLimits(at("limits"), s.Limits, false)

	kinds := drift.Kinds()
	for _, kind := range sortedKeys(s.Severity) {
		if !slices.Contains(kinds, kind) {
			d.reportf(at("severity."+kind), "%s is not a change kind%s", quoteText(kind), suggestion(kind, kinds, "such as tool.removed; docs/changes.md lists them all"))
		}
	}
	for i, ig := range s.Ignore {
		p := fmt.Sprintf("%s.ignore[%d]", path, i)
		if ig.Path == "" {
			d.report(p+".path", "required")
		} else if err := (drift.Ignore{Path: ig.Path}).Validate(); err != nil {
			d.reportf(p+".path", "%s (for example tools/echo/description, or server/instructions)", printable(err.Error()))
		}
		if ig.Pattern != "" {
			if _, err := regexp.Compile(ig.Pattern); err != nil {
				d.reportf(p+".pattern", "invalid pattern: %s", printable(err.Error()))
			}
		}
	}
	if s.Trust != nil {
		d.checkTrust(at("trust"), s.Trust, stdioOnly)
	}
	for i, su := range s.Suppress {
		p := fmt.Sprintf("%s.suppress[%d]", path, i)
		if su.Rule == "" {
			d.report(p+".rule", "required")
		} else if ids := lintRuleIDs(); !slices.Contains(ids, su.Rule) {
			d.reportf(p+".rule", "%s is not a lint rule%s", d.quoteAt(p+".rule", su.Rule), suggestion(su.Rule, ids, "docs/lint.md lists them all"))
		}
		if strings.TrimSpace(su.Reason) == "" {
			d.report(p+".reason", "required (say why the finding is acceptable)")
		}
		if su.Entity != "" && !slices.Contains(entities, su.Entity) {
			d.reportf(p+".entity", "unknown entity %s (use %s)", d.quoteAt(p+".entity", su.Entity), strings.Join(entities, ", "))
		}
		if su.Name != "" && su.Entity == "" {
			d.report(p+".name", "needs entity as well")
		}
	}
}

// suggestion is " (did you mean X?)" for a mistyped name, else
// " (otherwise)".
func suggestion(word string, names []string, otherwise string) string {
	if h := suggest.Hint(word, names); h != "" {
		return h
	}
	return " (" + otherwise + ")"
}

func lintRuleIDs() []string {
	var ids []string
	for _, r := range lint.Rules() {
		ids = append(ids, r.ID)
	}
	return ids
}

var (
	spkiRE  = regexp.MustCompile(`^sha256:[0-9a-fA-F]{64}$`)
	hostRE  = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$`)
	scopeRE = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]+$`)
)

// checkTrust checks a server's trust policy. Identity rules need an HTTP
// server; max_risk applies to any.
func (d *decoder) checkTrust(path string, t *Trust, stdio bool) {
	at := func(key string) string { return path + "." + key }
	if stdio {
		for _, key := range []string{"hosts", "tls_issuer", "tls_spki", "authorization_servers", "scopes"} {
			if d.present(at(key)) {
				d.report(at(key), "only valid for HTTP servers")
			}
		}
	}
	for i, h := range t.Hosts {
		p := fmt.Sprintf("%s[%d]", at("hosts"), i)
		if !validTrustHost(h) {
			d.reportf(p, "%s is not a host (use example.com, example.com:8443 or *.example.com)", d.quoteAt(p, h))
		}
	}
	if d.present(at("tls_issuer")) && strings.TrimSpace(t.TLSIssuer) == "" {
		d.report(at("tls_issuer"), "must not be empty (use the issuer as 'mcpdrift show' records it, e.g. \"CN=R11,O=Let's Encrypt,C=US\")")
	}
	for i, pin := range t.TLSSPKI {
		p := fmt.Sprintf("%s[%d]", at("tls_spki"), i)
		if !spkiRE.MatchString(pin) {
			d.reportf(p, "%s is not a key pin (use sha256: and 64 hex digits, as identity.tls.spki records it)", d.quoteAt(p, pin))
		}
	}
	for i, as := range t.AuthorizationServers {
		p := fmt.Sprintf("%s[%d]", at("authorization_servers"), i)
		u, err := url.Parse(as)
		switch {
		case err == nil && (u.User != nil || u.RawQuery != ""):
			// Not quoted: whatever sits there may be a secret.
			d.report(p, "an issuer URL must not hold credentials or a query")
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "":
			d.reportf(p, "%s is not an issuer URL (use https://host[/path])", d.quoteAt(p, as))
		}
	}
	for i, sc := range t.Scopes {
		p := fmt.Sprintf("%s[%d]", at("scopes"), i)
		if !scopeRE.MatchString(sc) {
			d.reportf(p, "%s is not an OAuth scope (printable ASCII without spaces, quotes or backslashes)", d.quoteAt(p, sc))
		}
	}
	if d.present(at("max_risk")) && !slices.Contains(RiskGroups, t.MaxRisk) {
		d.reportf(at("max_risk"), "unknown risk %s (use %s)", d.quoteAt(at("max_risk"), t.MaxRisk), strings.Join(RiskGroups, ", "))
	}
}

func validTrustHost(h string) bool {
	host := h
	if hh, port, err := net.SplitHostPort(h); err == nil {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
		host = hh
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil {
		return true
	}
	return len(host) <= 253 && hostRE.MatchString(host)
}

// envPath is the key path of an env entry, from env or env_files.
func envPath(d *decoder, path, k string) string {
	if p := path + ".env_files." + k; d.present(p) {
		return p
	}
	return path + ".env." + k
}

func joinTransports() string {
	s := make([]string, len(transports))
	for i, t := range transports {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// checkURL checks an HTTP URL without ever quoting it: it may carry a token.
// Even the scheme is quoted only when the URL is not secret, since a secret
// "user:password" parses as scheme "user".
func (d *decoder) checkURL(path, raw string, secret bool) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		d.report(path, "not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Scheme == "" {
			d.report(path, "has no scheme (use http or https)")
			return
		}
		if secret || d.pos[path].fromEnv {
			d.report(path, "scheme is not supported (use http or https)")
			return
		}
		d.reportf(path, "scheme %s is not supported (use http or https)", quoteText(u.Scheme))
	case u.Host == "":
		d.report(path, "has no host")
	case !secret && u.User != nil:
		// A server URL is printed and logged; credentials belong in headers.
		d.report(path, "must not hold credentials (use headers or header_files)")
	}
}

// checkHeaders checks header names under path.headers and path.header_files.
func (d *decoder) checkHeaders(path string, h map[string]Secret) {
	seen := map[string]string{}
	for _, k := range sortedKeys(h) {
		p := path + ".headers." + k
		if fp := path + ".header_files." + k; d.present(fp) {
			p = fp
		}
		canon := textproto.CanonicalMIMEHeaderKey(k)
		switch {
		case !validHeaderName(k):
			d.reportf(p, "%s is not a valid header name", quoteText(k))
		case seen[canon] != "":
			d.reportf(p, "header %q is set twice (names are case-insensitive)", canon)
		}
		seen[canon] = p
	}
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func (d *decoder) checkNotifier(n *Notifier, path string, names, servers map[string]string) {
	at := func(key string) string { return path + "." + key }
	d.checkName(at("name"), "notifier", n.Name, names)
	keys, known := notifierKeys[n.Type]
	use := "use " + strings.Join(notifierTypes[:len(notifierTypes)-1], ", ") + " or " + notifierTypes[len(notifierTypes)-1]
	switch {
	case n.Type == "":
		d.reportf(at("type"), "required (%s)", use)
	case !known:
		d.reportf(at("type"), "unknown notifier type %s (%s)", d.quoteAt(at("type"), n.Type), use)
	default:
		for _, k := range typedNotifierKeys {
			if d.present(at(k)) && !slices.Contains(keys, k) {
				d.reportf(at(k), "not used by %s notifiers", n.Type)
			}
		}
	}
	if d.present(at("min_severity")) && n.MinSeverity == severity.None {
		d.reportf(at("min_severity"), "must be one of %s", strings.Join(severity.Names(), ", "))
	}
	for i, s := range n.Servers {
		if _, ok := servers[s]; !ok {
			d.reportf(fmt.Sprintf("%s.servers[%d]", path, i), "unknown server %s", d.quoteAt(fmt.Sprintf("%s.servers[%d]", path, i), s))
		}
	}
	for i, k := range n.Kinds {
		if !slices.Contains(alertKinds, k) {
			d.reportf(fmt.Sprintf("%s.kinds[%d]", path, i), "unknown alert kind %s (use %s)", d.quoteAt(fmt.Sprintf("%s.kinds[%d]", path, i), k), strings.Join(alertKinds, ", "))
		}
	}

	switch n.Type {
	case NotifierSlack:
		switch {
		case !n.WebhookURL.IsSet() && !n.Token.IsSet():
			d.report(path, "needs webhook_url, webhook_url_file, token or token_file")
		case n.WebhookURL.IsSet() && n.Token.IsSet():
			d.report(secretPath(d, path, "token"), "cannot be used together with webhook_url")
		case n.Token.IsSet() && n.Channel == "":
			d.report(at("channel"), "required with token")
		}
		d.checkSecretURL(secretPath(d, path, "webhook_url"), n.WebhookURL)
	case NotifierEmail:
		d.checkSMTP(at("smtp"), n.SMTP)
		if n.From == "" {
			d.report(at("from"), "required")
		} else if _, err := mail.ParseAddress(n.From); err != nil {
			d.reportf(at("from"), "%s is not a valid address", d.quoteAt(at("from"), n.From))
		}
		if len(n.To) == 0 {
			d.report(at("to"), "at least one address is required")
		}
		for i, a := range n.To {
			p := fmt.Sprintf("%s.to[%d]", path, i)
			if _, err := mail.ParseAddress(a); err != nil {
				d.reportf(p, "%s is not a valid address", d.quoteAt(p, a))
			}
		}
	case NotifierWebhook:
		if !n.URL.IsSet() {
			d.report(at("url"), "required (or url_file)")
		}
		d.checkSecretURL(secretPath(d, path, "url"), n.URL)
		d.checkHeaders(path, n.Headers)
	case NotifierAlertmanager:
		d.checkAlertmanager(n, path)
	case NotifierTeams:
		if !n.WebhookURL.IsSet() {
			d.report(at("webhook_url"), "required (or webhook_url_file)")
		}
		d.checkSecretURL(secretPath(d, path, "webhook_url"), n.WebhookURL)
	}
}

func (d *decoder) checkAlertmanager(n *Notifier, path string) {
	at := func(key string) string { return path + "." + key }
	if !n.URL.IsSet() {
		d.report(at("url"), "required (or url_file): the Alertmanager base URL, such as http://alertmanager:9093")
	} else if n.URL.File() == "" {
		p := secretPath(d, path, "url")
		v, _ := n.URL.Reveal()
		urls := strings.Fields(v)
		if len(urls) == 0 {
			d.report(p, "must not be empty")
		}
		for _, u := range urls {
			d.checkURL(p, u, true)
		}
	}
	switch {
	case n.BearerToken.IsSet() && (n.Username != "" || n.Password.IsSet()):
		d.report(secretPath(d, path, "bearer_token"), "cannot be used together with username and password")
	case n.Username != "" && !n.Password.IsSet():
		d.report(at("username"), "needs password or password_file as well")
	case n.Password.IsSet() && n.Username == "":
		d.report(secretPath(d, path, "password"), "needs username as well")
	}
	for _, k := range sortedKeys(n.Labels) {
		p := at("labels." + k)
		switch {
		case !labelNameRE.MatchString(k) || strings.HasPrefix(k, "__"):
			d.reportf(p, "%s is not a valid label name (letters, digits and _, not starting with a digit or __)", quoteText(k))
		case slices.Contains(alertmanagerLabels, k):
			d.reportf(p, "label %s is set by mcpdrift and cannot be configured", k)
		case n.Labels[k] == "":
			d.report(p, "must not be empty")
		}
	}
	if n.GeneratorURL != "" {
		d.checkURL(at("generator_url"), n.GeneratorURL, false)
	}
	if len(n.Kinds) > 0 && !slices.Contains(n.Kinds, KindResolved) {
		d.report(at("kinds"), "must include resolved for alertmanager notifiers: without it an alert stays firing until resolve_timeout")
	}
}

// checkResolveTimeout checks an alertmanager notifier's resolve_timeout
// against the repeat interval that keeps its alerts alive.
func (d *decoder) checkResolveTimeout(n *Notifier, path string, repeat time.Duration) {
	p := path + ".resolve_timeout"
	if n.Type == NotifierAlertmanager && d.present(p) && n.ResolveTimeout <= repeat {
		d.reportf(p, "must be longer than alerts.repeat_interval (%s): a firing alert would expire between two reminders", formatDuration(repeat))
	}
}

// secretPath is the key path a secret was set at: key, or its key_file twin.
func secretPath(d *decoder, path, key string) string {
	if p := path + "." + key + "_file"; d.present(p) {
		return p
	}
	return path + "." + key
}

// checkSecretURL checks an inline secret URL; a file is only read at use time.
func (d *decoder) checkSecretURL(path string, s Secret) {
	if s.IsSet() && s.File() == "" {
		v, _ := s.Reveal()
		d.checkURL(path, v, true)
	}
}

func (d *decoder) checkSMTP(path string, m *SMTP) {
	if m == nil {
		d.report(path, "required")
		return
	}
	if m.Host == "" {
		d.report(path+".host", "required")
	}
	if m.Port < 1 || m.Port > 65535 {
		d.report(path+".port", "must be between 1 and 65535")
	}
	if !slices.Contains(smtpPolicies, m.TLS) {
		d.reportf(path+".tls", "unknown TLS policy %s (use %s)", d.quoteAt(path+".tls", m.TLS), strings.Join(smtpPolicies, ", "))
	}
	if m.Password.IsSet() && m.Username == "" {
		d.report(secretPath(d, path, "password"), "needs username as well")
	}
}

func (d *decoder) checkAlerts(a Alerts) {
	if a.RepeatInterval < MinRepeatInterval {
		d.reportf("alerts.repeat_interval", "must be at least %s", formatDuration(MinRepeatInterval))
	}
	if a.UnreachableAfter < 1 {
		d.report("alerts.unreachable_after", "must be at least 1")
	}
	if a.MaxDeliveryAge <= 0 {
		d.report("alerts.max_delivery_age", "must be positive")
	}
	if a.GroupInterval < 0 {
		d.report("alerts.group_interval", "must not be negative (0 sends every notification at once)")
	}
	if a.GroupMax < 1 {
		d.report("alerts.group_max", "must be at least 1")
	}
	if a.FlapChanges != 0 && a.FlapChanges < 2 {
		d.report("alerts.flap_changes", "must be 0 (off) or at least 2: flapping is a change and a change back")
	}
	if a.FlapChanges != 0 && a.FlapWindow <= 0 {
		d.report("alerts.flap_window", "must be positive while alerts.flap_changes is set")
	}
}

func (d *decoder) checkListen(path, addr string) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		d.reportf(path, "%s is not a host:port address", d.quoteAt(path, addr))
		return
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		d.reportf(path, "port %s is not a number from 0 to 65535", d.quoteAt(path, port))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// operatorRE is a POSIX-portable user name (letters, digits, '.', '_',
// '-', not starting with '-'), a trailing '$' allowed (Samba machine
// accounts), or "uid:N".
var operatorRE = regexp.MustCompile(`^(?:[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?|uid:[0-9]+)$`)

func (d *decoder) checkOperators(ops []string) {
	seen := map[string]bool{}
	for i, op := range ops {
		p := fmt.Sprintf("admin.operators[%d]", i)
		switch {
		case !operatorRE.MatchString(op):
			d.reportf(p, "%s is not a user name or uid:N", d.quoteAt(p, op))
		case seen[op]:
			d.reportf(p, "%s is listed twice", d.quoteAt(p, op))
		}
		seen[op] = true
	}
}
