// Package notifiers defines what an alert is and the Notifier interface the
// delivery layer calls; each channel (slack, teams, email, webhook,
// alertmanager, log) lives in its own subpackage. A notifier renders and
// sends one alert; it does not queue, retry or route: the outbox does that.
package notifiers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Alert kinds, which notifiers can select (config `kinds`).
const (
	KindDrift       = "drift"       // a server's manifest differs from its baseline
	KindUnreachable = "unreachable" // unreachable_after consecutive probes failed
	KindResolved    = "resolved"    // a drift was approved or reverted, or a server recovered
	KindTest        = "test"        // `mcpdrift notify test`
)

// Alert is one notification about one incident of one server.
type Alert struct {
	// Incident is stable for the life of an incident: every reminder and
	// the resolution carry the same value, so channels can thread them.
	// Drift: "drift/<server>/<baseline id>/<snapshot id>";
	// unreachable: "unreachable/<server>/<first failure unix time>".
	Incident string `json:"incident"`
	Kind     string `json:"kind"`
	// Resolves is the kind of incident a resolved alert closes.
	Resolves string `json:"resolves,omitempty"`
	// Reminder counts repeats of a still-pending incident (0 = first).
	Reminder int `json:"reminder,omitempty"`
	// Update counts the updates of an open drift incident: a partial
	// approval left some changes pending (0 = not an update). Channels
	// that thread put it in the incident's thread.
	Update int    `json:"update,omitempty"`
	Server string `json:"server"`
	// Severity is the highest severity of the incident (drift), high for
	// unreachable, and the closed incident's severity for resolved.
	Severity severity.Level `json:"severity"`
	// Report is the server's report when the alert was raised: changes,
	// findings, baseline and snapshot ids. Untrusted text inside it is
	// already escaped for terminals; each notifier escapes again for its
	// own channel (Slack mrkdwn, HTML).
	Report report.Server `json:"report"`
	// Reason explains a resolution ("approved by alice", "server reverted
	// to its baseline", "server recovered") or an unreachable error.
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
	FirstSeen time.Time `json:"first_seen"`
}

// Notifier sends alerts to one configured destination.
type Notifier interface {
	// Name is the configured notifier name.
	Name() string
	// Notify delivers a. On failure, retry reports whether the same
	// delivery may succeed later (network errors, 5xx, 429), as opposed to
	// a permanent failure (other 4xx, bad configuration).
	Notify(ctx context.Context, a *Alert) (retry bool, err error)
}

// RetryAfterError is returned by a notifier whose destination asked to be
// retried no sooner than After (Slack 429 Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter returns the delay a notifier error asks for, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra.After, true
	}
	return 0, false
}

// ThreadStore keeps per-notifier threading state of an incident, such as
// the Slack channel and ts of its first message, across restarts.
type ThreadStore interface {
	Thread(notifier, incident string) (string, bool, error)
	SetThread(notifier, incident, value string) error
}
