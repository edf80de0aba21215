package config

import (
	"slices"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Defaults for every setting the file may leave out. Default() is built from
// these and nothing else.
const (
	DefaultStoragePath       = "/var/lib/mcpdrift/mcpdrift.db"
	DefaultLockTimeout       = time.Second
	DefaultMaxObservations   = 10000
	DefaultObservationMaxAge = 90 * 24 * time.Hour

	DefaultConcurrency = 16

	DefaultSchedule        = "@every 5m"
	DefaultTimeout         = 30 * time.Second
	DefaultFirstRunTimeout = 5 * time.Minute // npx took 80-120 s to install a server on 2 loaded cores
	DefaultTrustOnFirstUse = true
	DefaultClientName      = "mcpdrift"
	DefaultClientVersion   = "1.0.0"

	DefaultMaxPages         = 100
	DefaultMaxItems         = 10000
	DefaultMaxResponseBytes = 16 * MiB
	DefaultMaxManifestBytes = 64 * MiB
	DefaultMaxStderrBytes   = 64 * KiB

	DefaultSandbox = SandboxAuto
	DefaultRelist  = RelistNotified

	DefaultMinSeverity = severity.Low
	DefaultSMTPTLS     = SMTPStartTLS

	DefaultRepeatInterval   = 24 * time.Hour
	DefaultSendResolved     = true
	DefaultUnreachableAfter = 3
	DefaultMaxDeliveryAge   = 24 * time.Hour
	DefaultGroupInterval    = 5 * time.Minute
	DefaultGroupMax         = 5
	DefaultFlapWindow       = 10 * time.Minute
	DefaultFlapChanges      = 4

	DefaultListen = "127.0.0.1:9464"

	// MinRepeatInterval keeps a firing alert from flooding its channel.
	MinRepeatInterval = 5 * time.Minute
)

// Default returns the configuration an empty file would give, without
// servers (a real file must name at least one).
func Default() *Config {
	return &Config{
		Storage: Storage{
			Path:              DefaultStoragePath,
			LockTimeout:       DefaultLockTimeout,
			MaxObservations:   DefaultMaxObservations,
			ObservationMaxAge: DefaultObservationMaxAge,
		},
		Concurrency: DefaultConcurrency,
		Defaults: Defaults{
			Schedule:        DefaultSchedule,
			Timeout:         DefaultTimeout,
			FirstRunTimeout: DefaultFirstRunTimeout,
			TrustOnFirstUse: DefaultTrustOnFirstUse,
			Client:          Client{Name: DefaultClientName, Version: DefaultClientVersion, Capabilities: []string{}},
			Limits: Limits{
				MaxPages:         DefaultMaxPages,
				MaxItems:         DefaultMaxItems,
				MaxResponseBytes: DefaultMaxResponseBytes,
				MaxManifestBytes: DefaultMaxManifestBytes,
				MaxStderrBytes:   DefaultMaxStderrBytes,
			},
			Sandbox: DefaultSandbox,
			Relist:  DefaultRelist,
		},
		Alerts: Alerts{
			RepeatInterval:   DefaultRepeatInterval,
			SendResolved:     DefaultSendResolved,
			UnreachableAfter: DefaultUnreachableAfter,
			MaxDeliveryAge:   DefaultMaxDeliveryAge,
			GroupInterval:    DefaultGroupInterval,
			GroupMax:         DefaultGroupMax,
			FlapWindow:       DefaultFlapWindow,
			FlapChanges:      DefaultFlapChanges,
		},
		HTTP: HTTP{Listen: DefaultListen},
	}
}

// server returns a server that inherits these defaults, to decode the
// server's own keys over.
func (d Defaults) server() Server {
	c := d.Client
	c.Capabilities = slices.Clone(c.Capabilities)
	return Server{
		Timeout:         d.Timeout,
		FirstRunTimeout: d.FirstRunTimeout,
		Schedule:        d.Schedule,
		TrustOnFirstUse: d.TrustOnFirstUse,
		Client:          c,
		Limits:          d.Limits,
		Sandbox:         d.Sandbox,
		Relist:          d.Relist,
	}
}

func defaultNotifier() Notifier { return Notifier{MinSeverity: DefaultMinSeverity} }

// ResolveTimeoutMargin is what DefaultResolveTimeout adds to two repeat
// intervals, for a reminder that is late (a slow check, a retried delivery).
const ResolveTimeoutMargin = time.Hour

// DefaultResolveTimeout is an alertmanager notifier's resolve_timeout when
// the file sets none: a firing alert outlives one missed reminder, and
// expires by itself after two when the daemon that sent it is gone.
func DefaultResolveTimeout(repeatInterval time.Duration) time.Duration {
	return 2*repeatInterval + ResolveTimeoutMargin
}

// fillClient gives an empty client name or version the built-in default.
func fillClient(c *Client) {
	if c.Name == "" {
		c.Name = DefaultClientName
	}
	if c.Version == "" {
		c.Version = DefaultClientVersion
	}
	if c.Capabilities == nil {
		c.Capabilities = []string{}
	}
}

// smtpPort is the conventional port for each TLS policy.
func smtpPort(policy string) int {
	switch policy {
	case SMTPTLS:
		return 465
	case SMTPNone:
		return 25
	default:
		return 587
	}
}
