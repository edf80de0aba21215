// Package config owns mcpdrift's YAML configuration: strict decoding, ${VAR}
// expansion, validation that reports every problem as file:line: key: problem,
// defaults, per-server effective settings, and secrets that stay redacted.
//
// config reads the config file and nothing else: *_file secrets are read only
// when revealed, and it never dials, starts processes or opens the database.
package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Config is a validated configuration. Every field holds its effective value:
// defaults are applied, and each Server carries its own resolved settings.
type Config struct {
	Storage     Storage    `yaml:"storage"`
	Concurrency int        `yaml:"concurrency"`
	Defaults    Defaults   `yaml:"defaults"`
	Servers     []Server   `yaml:"servers" config:"late"` // decoded after defaults, which they inherit
	Notifiers   []Notifier `yaml:"notifiers,omitempty"`
	Alerts      Alerts     `yaml:"alerts"`
	HTTP        HTTP       `yaml:"http"`
	Admin       Admin      `yaml:"admin"`
	// Auth holds the key that seals stored OAuth grants (docs/auth.md).
	Auth AuthSettings `yaml:"auth,omitempty"`

	// Private is what the stdio servers mcpdrift starts must not see, and
	// where their HOMEs live (see Private); never read from the file.
	Private Private `yaml:"-"`

	hash  string         // sha256 of the file bytes; never the bytes, which may hold secrets
	lines map[string]int // server name -> line of its entry in the file
}

// Storage configures the bbolt database.
type Storage struct {
	Path        string        `yaml:"path"`
	LockTimeout time.Duration `yaml:"lock_timeout"`
	// MaxObservations bounds the snapshots kept per server; 0 keeps all.
	MaxObservations int `yaml:"max_observations"`
	// ObservationMaxAge drops older observations; 0 keeps them forever.
	ObservationMaxAge time.Duration `yaml:"observation_max_age"`
}

// Defaults are the settings a server inherits unless it sets its own.
type Defaults struct {
	Schedule        string        `yaml:"schedule"`
	Timeout         time.Duration `yaml:"timeout"`
	TrustOnFirstUse bool          `yaml:"trust_on_first_use"`
	Client          Client        `yaml:"client"`
	Limits          Limits        `yaml:"limits"`
	// FirstRunTimeout replaces Timeout for the first probe of a stdio
	// server started through a package launcher (npx, uvx, pipx), which
	// may be installing the package.
	FirstRunTimeout time.Duration `yaml:"first_run_timeout"`
	// Sandbox is how stdio servers are isolated: auto, strict or off.
	Sandbox string `yaml:"sandbox"`
	// Relist is when a list is asked for twice in one session: always,
	// notified or never.
	Relist string `yaml:"relist"`
}

// Client is the identity and capabilities mcpdrift advertises to a server.
// Some servers expose different tools depending on them, so they are fixed
// per server.
type Client struct {
	Name         string   `yaml:"name"`
	Version      string   `yaml:"version"`
	Capabilities []string `yaml:"capabilities"`
	// UserAgent is the User-Agent of every HTTP request to the server
	// (MCP traffic and OAuth discovery); empty sends "name/version".
	UserAgent string `yaml:"user_agent,omitempty"`
}

// Client capabilities mcpdrift can advertise.
const (
	CapabilityRoots       = "roots"
	CapabilitySampling    = "sampling"
	CapabilityElicitation = "elicitation"
)

// Limits bound what a capture accepts from a (hostile) server.
type Limits struct {
	MaxPages         int      `yaml:"max_pages"`
	MaxItems         int      `yaml:"max_items"`
	MaxResponseBytes ByteSize `yaml:"max_response_bytes"`
	MaxManifestBytes ByteSize `yaml:"max_manifest_bytes"`
	MaxStderrBytes   ByteSize `yaml:"max_stderr_bytes"`
}

// Transport is how mcpdrift talks to a server.
type Transport string

// The transports. A server's Transport is always one of these after Parse.
const (
	TransportStdio      Transport = "stdio"
	TransportStreamable Transport = "streamable"
	TransportSSE        Transport = "sse"
)

// Server is one monitored MCP server. After Parse, Transport is resolved and
// Timeout, Schedule, TrustOnFirstUse, Client and Limits hold the effective
// values: the server's own, else the defaults.
type Server struct {
	Name      string    `yaml:"name"`
	Transport Transport `yaml:"transport"`

	// HTTP transports.
	URL     string            `yaml:"url,omitempty"`
	Headers map[string]Secret `yaml:"headers,omitempty" twin:"header_files"`
	TLS     *TLS              `yaml:"tls,omitempty"`
	// Auth is the server's OAuth mode; nil sends only Headers.
	Auth *ServerAuth `yaml:"auth,omitempty"`

	// stdio transport.
	Command string            `yaml:"command,omitempty"`
	Args    []string          `yaml:"args,omitempty"`
	Env     map[string]Secret `yaml:"env,omitempty" twin:"env_files"`
	Cwd     string            `yaml:"cwd,omitempty"`
	// Sandbox is how the server is isolated (SandboxAuto, SandboxStrict
	// or SandboxOff); after Parse, the effective value for a stdio server
	// and empty for an HTTP one.
	Sandbox string `yaml:"sandbox,omitempty"`
	// Private is the Config's Private, shared by every server.
	Private *Private `yaml:"-"`

	Timeout         time.Duration `yaml:"timeout"`
	FirstRunTimeout time.Duration `yaml:"first_run_timeout,omitempty"` // zero for HTTP after Parse
	Schedule        string        `yaml:"schedule"`
	Watch           bool          `yaml:"watch,omitempty"`
	TrustOnFirstUse bool          `yaml:"trust_on_first_use"`
	ProtocolVersion string        `yaml:"protocol_version,omitempty"`
	// Relist is when a list is asked for a second time in the probe's
	// session (RelistAlways, RelistNotified or RelistNever).
	Relist string `yaml:"relist,omitempty"`
	// Client replaces defaults.client as a whole; fields it leaves empty
	// take the built-in defaults, not defaults.client.
	Client Client `yaml:"client" config:"reset"`
	Limits Limits `yaml:"limits"`

	// Severity overrides the default severity per change kind.
	Severity map[string]severity.Level `yaml:"severity,omitempty"`
	Ignore   []Ignore                  `yaml:"ignore,omitempty"`
	Suppress []Suppress                `yaml:"suppress,omitempty"`
	// Trust is the server's trust policy; nil checks nothing.
	Trust    *Trust `yaml:"trust,omitempty"`
	Disabled bool   `yaml:"disabled,omitempty"`
}

// IsHTTP reports whether the server is reached over HTTP (streamable or SSE).
func (s *Server) IsHTTP() bool { return s.Transport != TransportStdio }

// TLS configures the client side of HTTPS: private CAs and mutual TLS.
type TLS struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

// Trust is what a server's observed identity and tools must be. Every
// breach is a critical policy.violation, reported on every check until the
// server or the policy changes. Every field is optional.
type Trust struct {
	// Hosts the final URL (after redirects) may be on: "example.com",
	// "example.com:8443" or "*.example.com". HTTP servers only.
	Hosts []string `yaml:"hosts,omitempty"`
	// TLSIssuer is the required issuer of the leaf certificate, as
	// recorded in the identity (e.g. "CN=R11,O=Let's Encrypt,C=US").
	TLSIssuer string `yaml:"tls_issuer,omitempty"`
	// TLSSPKI pins the leaf key: "sha256:<64 hex digits>", one must match.
	TLSSPKI []string `yaml:"tls_spki,omitempty"`
	// AuthorizationServers the server's OAuth metadata may name.
	AuthorizationServers []string `yaml:"authorization_servers,omitempty"`
	// Scopes the server's OAuth metadata may support.
	Scopes []string `yaml:"scopes,omitempty"`
	// MaxRisk is the riskiest tool group allowed: read-only, writes,
	// destructive (writing tools in a closed world only) or open-world
	// (any annotated tool); unannotated tools always exceed it.
	MaxRisk string `yaml:"max_risk,omitempty"`
}

// RiskGroups are the values trust.max_risk accepts, least risky first
// (drift.RiskNames without "unannotated", which is no limit a policy can
// set).
var RiskGroups = []string{"read-only", "writes", "destructive", "open-world"}

// Ignore excludes a volatile part of a manifest from drift: the text at Path
// matching Pattern, or all of Path when Pattern is empty.
type Ignore struct {
	Path    string `yaml:"path"`
	Pattern string `yaml:"pattern,omitempty"`
	Reason  string `yaml:"reason,omitempty"`
}

// Suppress silences a lint rule, optionally for one entity only.
type Suppress struct {
	Rule   string `yaml:"rule"`
	Entity string `yaml:"entity,omitempty"`
	Name   string `yaml:"name,omitempty"`
	Reason string `yaml:"reason"`
}

// Notifier types.
const (
	NotifierSlack        = "slack"
	NotifierEmail        = "email"
	NotifierWebhook      = "webhook"
	NotifierLog          = "log"
	NotifierAlertmanager = "alertmanager"
	NotifierTeams        = "teams"
)

// Alert kinds a notifier can subscribe to.
const (
	KindDrift       = "drift"
	KindUnreachable = "unreachable"
	KindResolved    = "resolved"
)

// Notifier is one alert destination. Which fields apply depends on Type.
type Notifier struct {
	Name        string         `yaml:"name"`
	Type        string         `yaml:"type"`
	MinSeverity severity.Level `yaml:"min_severity"`
	// Servers restricts the notifier to these servers; empty means all.
	Servers []string `yaml:"servers,omitempty"`
	// Kinds restricts the notifier to these alert kinds; empty means all.
	Kinds []string `yaml:"kinds,omitempty"`

	// slack: WebhookURL, or Token and Channel. teams: WebhookURL.
	WebhookURL Secret `yaml:"webhook_url,omitempty" twin:"webhook_url_file"`
	Token      Secret `yaml:"token,omitempty" twin:"token_file"`
	Channel    string `yaml:"channel,omitempty"`

	// email.
	SMTP *SMTP    `yaml:"smtp,omitempty"`
	From string   `yaml:"from,omitempty"`
	To   []string `yaml:"to,omitempty"`

	// webhook; alertmanager: URL holds one or more base URLs separated
	// by white space (the instances of an HA cluster).
	URL     Secret            `yaml:"url,omitempty" twin:"url_file"`
	Secret  Secret            `yaml:"secret,omitempty" twin:"secret_file"`
	Headers map[string]Secret `yaml:"headers,omitempty" twin:"header_files"`

	// alertmanager.
	Username    string `yaml:"username,omitempty"`
	Password    Secret `yaml:"password,omitempty" twin:"password_file"`
	BearerToken Secret `yaml:"bearer_token,omitempty" twin:"bearer_token_file"`
	// Labels are static labels added to every alert.
	Labels map[string]string `yaml:"labels,omitempty"`
	// Instance is the instance label; empty means the host name.
	Instance string `yaml:"instance,omitempty"`
	// ResolveTimeout is how long a firing alert lasts in Alertmanager
	// unless re-sent; after Parse, DefaultResolveTimeout(alerts.
	// repeat_interval) when not set.
	ResolveTimeout time.Duration `yaml:"resolve_timeout,omitempty"`
	GeneratorURL   string        `yaml:"generator_url,omitempty"`
}

// SMTP TLS policies.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS, which is required
	SMTPTLS      = "tls"      // TLS from the first byte (SMTPS)
	SMTPNone     = "none"     // no TLS at all
)

// SMTP is an email notifier's mail server.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"` // after Parse, 587, 465 or 25 by TLS policy when not set
	TLS      string `yaml:"tls"`
	Username string `yaml:"username,omitempty"`
	Password Secret `yaml:"password,omitempty" twin:"password_file"`
}

// Alerts configures the alert lifecycle.
type Alerts struct {
	// RepeatInterval re-sends a still-firing alert; at least MinRepeatInterval.
	RepeatInterval time.Duration `yaml:"repeat_interval"`
	SendResolved   bool          `yaml:"send_resolved"`
	// UnreachableAfter is how many failed probes in a row raise an alert.
	UnreachableAfter int `yaml:"unreachable_after"`
	// MaxDeliveryAge drops an undelivered notification this old.
	MaxDeliveryAge time.Duration `yaml:"max_delivery_age"`
	// GroupInterval and GroupMax rate-limit notifications per server: at
	// most GroupMax within any GroupInterval; the rest are held and sent,
	// each incident in its latest state, when the budget allows. A zero
	// GroupInterval sends everything at once.
	GroupInterval time.Duration `yaml:"group_interval"`
	GroupMax      int           `yaml:"group_max"`
	// FlapWindow and FlapChanges define flapping: FlapChanges snapshot
	// changes within FlapWindow, back to a manifest seen before. A
	// flapping server is alerted once, and settles once its manifest has
	// not changed for FlapWindow. Zero FlapChanges turns it off.
	FlapWindow  time.Duration `yaml:"flap_window"`
	FlapChanges int           `yaml:"flap_changes"`
}

// HTTP configures the health and metrics listener.
type HTTP struct {
	// Listen is host:port; empty disables the listener.
	Listen string `yaml:"listen"`
	// WebConfigFile is a Prometheus exporter-toolkit web config (TLS and
	// basic auth for the whole listener); empty serves plain HTTP.
	WebConfigFile string `yaml:"web_config_file,omitempty"`
}

// Admin configures the admin unix socket.
type Admin struct {
	// Socket is the socket path; empty lets the daemon choose.
	Socket string `yaml:"socket"`
	// Operators, when set, are the OS users (names, or "uid:N") who may
	// approve and import through the socket; anyone else, the daemon's own
	// user included unless listed, is refused. Empty: whoever may connect.
	Operators []string `yaml:"operators,omitempty"`
}

// MaxFileSize is the largest config file LoadEnv accepts.
const MaxFileSize = 16 << 20

// LoadEnv reads and parses the config file at path, expanding ${VAR}
// with env.
func LoadEnv(path string, env func(string) (string, bool)) (*Config, error) {
	return load(path, env, nil)
}

// load is LoadEnv that first runs check, when set, on the opened file (see
// LoadImplicit).
func load(path string, env func(string) (string, bool), check func(*os.File) error) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read config: %w (pass --config, set $%s, or start from configs/example.yaml)", err, EnvConfig)
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	if check != nil {
		if err := check(f); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("read config %s: %w (over %d bytes)", path, ErrTooLarge, MaxFileSize)
	}
	return Parse(path, data, env)
}

// Hash returns "sha256:" and the hex sha256 of the file bytes the config was
// parsed from, so a reload can tell whether anything changed.
func (c *Config) Hash() string { return c.hash }

func hashBytes(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Line returns the line of the file where the named server's entry
// begins, or 0 when unknown (a config not parsed from a file).
func (c *Config) Line(server string) int { return c.lines[server] }

// Server returns the server with that name.
func (c *Config) Server(name string) (*Server, bool) {
	for i := range c.Servers {
		if c.Servers[i].Name == name {
			return &c.Servers[i], true
		}
	}
	return nil, false
}

// Notifier returns the notifier with that name.
func (c *Config) Notifier(name string) (*Notifier, bool) {
	for i := range c.Notifiers {
		if c.Notifiers[i].Name == name {
			return &c.Notifiers[i], true
		}
	}
	return nil, false
}

// InlineSecrets reports whether any secret is written in the config file
// itself, rather than in a *_file or the environment, so the daemon can warn
// when such a file is readable by others.
func (c *Config) InlineSecrets() bool {
	found := false
	walkSecrets(reflect.ValueOf(c).Elem(), func(s Secret) {
		found = found || s.Inline()
	})
	return found
}

var secretType = reflect.TypeFor[Secret]()

// walkSecrets calls fn for every Secret reachable from v.
func walkSecrets(v reflect.Value, fn func(Secret)) {
	if v.Type() == secretType {
		fn(v.Interface().(Secret))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walkSecrets(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkSecrets(v.Field(i), fn)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkSecrets(v.Index(i), fn)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkSecrets(it.Value(), fn)
		}
	}
}
