package store

// Schema version 2 adds three top-level buckets for the daemon's alerting,
// next to the layout in doc.go:
//
//	alerts/
//	  <server name>           JSON AlertState: open incidents, failure streak
//	outbox/
//	  <notifier name>/
//	    <uint64 BE id>        JSON delivery: one alert for one notifier
//	threads/
//	  <notifier name>/
//	    <incident>            JSON {value, at}: a channel's threading handle
//
// An alert state change and the deliveries it causes are written in one
// transaction (CommitAlerts), so a crash never leaves an incident recorded
// but unsent, or sent twice because its state was lost.

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

var (
	bucketAlerts  = []byte("alerts")
	bucketOutbox  = []byte("outbox")
	bucketThreads = []byte("threads")
)

// AlertState is the alert lifecycle's record of one server: its open
// incidents and its current run of failed probes. The zero value (nothing
// open, no failures) is not stored.
type AlertState struct {
	Server string `json:"-"`
	// Failures counts consecutive failed probes; FailingSince is the first
	// of them and LastError the newest error.
	Failures     int       `json:"failures,omitempty"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	// Drift is the open drift incident, if any.
	Drift *Incident `json:"drift,omitempty"`
	// Unreachable is the open unreachable incident, if any.
	Unreachable *Incident `json:"unreachable,omitempty"`
	// Flapping is the open flapping incident, if any: the server's
	// manifest went back and forth within alerts.flap_window. While it is
	// open, drift alerts of the server are not sent.
	Flapping *Incident `json:"flapping,omitempty"`
	// FlapSeen are the manifests (snapshot ids) the open flapping
	// incident saw, in the order first seen.
	FlapSeen []string `json:"flap_seen,omitempty"`
	// Changes are the server's snapshot changes within the flap window,
	// oldest first.
	Changes []SnapshotChange `json:"changes,omitempty"`
	// Held are the alerts (notifiers.Alert JSON) the rate limit
	// (alerts.group_interval) holds back, oldest first, until the
	// server's budget allows them.
	Held []json.RawMessage `json:"held,omitempty"`
}

// SnapshotChange is a server moving from one snapshot to another.
type SnapshotChange struct {
	At   time.Time `json:"at"`
	From string    `json:"from"`
	To   string    `json:"to"`
	// Severity is the highest severity of To compared with the baseline
	// (none when To is the baseline).
	Severity severity.Level `json:"severity"`
}

// IsZero reports whether the state holds nothing worth storing.
func (s AlertState) IsZero() bool {
	return s.Failures == 0 && s.Drift == nil && s.Unreachable == nil && s.Flapping == nil &&
		len(s.FlapSeen) == 0 && len(s.Changes) == 0 && len(s.Held) == 0
}

// Incident is one open alert: a drift of a server from its baseline to a
// snapshot, or a run of failed probes.
type Incident struct {
	// ID is the notifiers.Alert.Incident value, stable for the incident's
	// life so that every reminder and the resolution thread together.
	ID string `json:"id"`
	// BaselineID and SnapshotID key a drift incident.
	BaselineID string         `json:"baseline,omitempty"`
	SnapshotID string         `json:"snapshot,omitempty"`
	Severity   severity.Level `json:"severity"`
	FirstSeen  time.Time      `json:"first_seen"`
	// LastSent is when the incident was last notified (first alert or
	// reminder); Reminders counts the reminders sent.
	LastSent  time.Time `json:"last_sent"`
	Reminders int       `json:"reminders,omitempty"`
	// Updates counts the partial approvals the incident went through.
	Updates int `json:"updates,omitempty"`
	// Unsent marks a drift incident raised while its server was flapping:
	// it is alerted when the server settles, if still open.
	Unsent bool `json:"unsent,omitempty"`
}

// AlertState returns the server's alert state; the zero state (with Server
// set) if none is stored. Read-only.
func (db *DB) AlertState(server string) (AlertState, error) {
	st := AlertState{Server: server}
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAlerts).Get([]byte(server))
		if v == nil {
			return nil
		}
		return decodeAlertState(server, v, &st)
	})
	if err != nil {
		return AlertState{}, fmt.Errorf("read alert state of %s: %w", server, err)
	}
	return st, nil
}

// AlertStates returns every stored alert state by server. Read-only.
func (db *DB) AlertStates() (map[string]AlertState, error) {
	out := map[string]AlertState{}
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAlerts).ForEach(func(k, v []byte) error {
			st := AlertState{Server: string(k)}
			if err := decodeAlertState(st.Server, v, &st); err != nil {
				return err
			}
			out[st.Server] = st
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read alert states: %w", err)
	}
	return out, nil
}

func decodeAlertState(server string, v []byte, st *AlertState) error {
	if err := json.Unmarshal(v, st); err != nil {
		return fmt.Errorf("%w: alert state of %s: %w", ErrCorrupt, server, err)
	}
	st.Server = server
	return nil
}

// CommitAlerts stores st as its server's alert state (deleting it when it
// is zero) and appends ds to the outbox, in one transaction: either the
// state change and all its deliveries are durable, or none is. It returns
// ds with their ids assigned.
func (db *DB) CommitAlerts(st AlertState, ds []Delivery) ([]Delivery, error) {
	if st.Server == "" {
		return nil, errors.New("commit alert state: empty server name")
	}
	st.LastError = truncate(st.LastError, maxErrorLen)
	v, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("commit alert state of %s: encode: %w", st.Server, err)
	}
	out := make([]Delivery, len(ds))
	copy(out, ds)
	err = db.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		if st.IsZero() {
			if err := b.Delete([]byte(st.Server)); err != nil {
				return fmt.Errorf("delete alert state: %w", err)
			}
		} else if err := b.Put([]byte(st.Server), v); err != nil {
			return fmt.Errorf("store alert state: %w", err)
		}
		return enqueue(tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("commit alert state of %s: %w", st.Server, err)
	}
	return out, nil
}
