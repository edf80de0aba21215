package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

func TestAlertStateRoundTrip(t *testing.T) {
	db := openTest(t)
	st, err := db.AlertState("github")
	if err != nil || !st.IsZero() || st.Server != "github" {
		t.Fatalf("AlertState of a new server = %+v, %v; want zero state", st, err)
	}
	want := AlertState{
		Server: "github", Failures: 2, FailingSince: t0, LastError: strings.Repeat("é", 3000),
		Drift: &Incident{ID: "drift/github/a/b", BaselineID: "sha256:a", SnapshotID: "sha256:b",
			Severity: severity.High, FirstSeen: t0, LastSent: t0.Add(time.Hour), Reminders: 1},
	}
	ds, err := db.CommitAlerts(want, []Delivery{
		{Notifier: "slack", Alert: json.RawMessage(`{"kind":"drift"}`), Created: t0},
		{Notifier: "mail", Alert: json.RawMessage(`{"kind":"drift"}`), Created: t0},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ds[0].ID == 0 || ds[1].ID == 0 {
		t.Errorf("delivery ids not assigned: %+v", ds)
	}
	got, err := db.AlertState("github")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.LastError) > maxErrorLen || !strings.HasPrefix(want.LastError, got.LastError) {
		t.Errorf("LastError not capped at %d bytes on a rune boundary: %d bytes", maxErrorLen, len(got.LastError))
	}
	if got.Drift == nil || *got.Drift != *want.Drift || got.Failures != 2 || !got.FailingSince.Equal(t0) {
		t.Errorf("AlertState = %+v, want %+v", got, want)
	}
	all, err := db.AlertStates()
	if err != nil || len(all) != 1 || all["github"].Drift == nil {
		t.Errorf("AlertStates = %+v, %v", all, err)
	}
	// A zero state deletes the record.
	if _, err := db.CommitAlerts(AlertState{Server: "github"}, nil); err != nil {
		t.Fatal(err)
	}
	if all, _ := db.AlertStates(); len(all) != 0 {
		t.Errorf("zero state still stored: %+v", all)
	}
}

func TestCommitAlertsIsAtomic(t *testing.T) {
	db := openTest(t)
	st := AlertState{Server: "s", Failures: 1}
	_, err := db.CommitAlerts(st, []Delivery{
		{Notifier: "ok", Alert: json.RawMessage(`{}`), Created: t0},
		{Notifier: "bad", Alert: json.RawMessage(`not json`), Created: t0},
	})
	if err == nil {
		t.Fatal("CommitAlerts accepted a delivery that is not JSON")
	}
	if got, _ := db.AlertState("s"); !got.IsZero() {
		t.Errorf("state written although its deliveries failed: %+v", got)
	}
	if ds, _ := db.Deliveries("ok"); len(ds) != 0 {
		t.Errorf("first delivery written although the commit failed: %+v", ds)
	}
}

func TestAlertStateReadOnly(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path, Options{})
	if _, err := db.CommitAlerts(AlertState{Server: "s", Failures: 3}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ro := openAt(t, path, Options{ReadOnly: true})
	if st, err := ro.AlertState("s"); err != nil || st.Failures != 3 {
		t.Errorf("read-only AlertState = %+v, %v", st, err)
	}
	if _, err := ro.CommitAlerts(AlertState{Server: "s"}, nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only CommitAlerts: %v, want ErrReadOnly", err)
	}
}
