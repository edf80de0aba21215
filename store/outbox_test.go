package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

func alertJSON(n int) json.RawMessage { return json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)) }

func TestOutboxQueue(t *testing.T) {
	path := testPath(t)
	db := openAt(t, path, Options{})
	if _, err := db.NextDelivery("slack"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("NextDelivery on an empty queue: %v, want ErrNotFound", err)
	}
	var in []Delivery
	for i := range 3 {
		in = append(in, Delivery{Notifier: "slack", Alert: alertJSON(i), Created: t0})
	}
	in = append(in, Delivery{Notifier: "mail", Alert: alertJSON(9), Created: t0})
	ds, err := db.Enqueue(in)
	if err != nil {
		t.Fatal(err)
	}
	next, err := db.NextDelivery("slack")
	if err != nil || next.ID != ds[0].ID || string(next.Alert) != `{"n":0}` {
		t.Fatalf("NextDelivery = %+v, %v; want the first enqueued", next, err)
	}
	// A failed attempt is recorded and survives a reopen.
	next.Attempts, next.NextAttempt, next.LastError = 1, t0.Add(time.Minute), "503"
	if err := db.UpdateDelivery(next); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, path, Options{})
	got, err := db.NextDelivery("slack")
	if err != nil || got.Attempts != 1 || !got.NextAttempt.Equal(t0.Add(time.Minute)) || got.LastError != "503" {
		t.Fatalf("after reopen NextDelivery = %+v, %v", got, err)
	}
	counts, err := db.OutboxCounts()
	if err != nil || counts["slack"] != 3 || counts["mail"] != 1 {
		t.Errorf("OutboxCounts = %v, %v", counts, err)
	}
	if n, err := db.OutboxLen("slack"); err != nil || n != 3 {
		t.Errorf("OutboxLen = %d, %v; want 3", n, err)
	}
	if err := db.DeleteDelivery("slack", got.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDelivery("slack", got.ID); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if err := db.UpdateDelivery(got); !errors.Is(err, ErrNotFound) {
		t.Errorf("UpdateDelivery of a deleted delivery: %v, want ErrNotFound", err)
	}
	rest, err := db.Deliveries("slack")
	if err != nil || len(rest) != 2 || rest[0].ID >= rest[1].ID || string(rest[0].Alert) != `{"n":1}` {
		t.Errorf("Deliveries = %+v, %v; want n=1, n=2 in order", rest, err)
	}
	// Ids keep growing after deletions.
	more, err := db.Enqueue([]Delivery{{Notifier: "slack", Alert: alertJSON(3), Created: t0}})
	if err != nil || more[0].ID <= rest[1].ID {
		t.Errorf("new id %d not above %d (%v)", more[0].ID, rest[1].ID, err)
	}
}

func TestDropOutboxes(t *testing.T) {
	db := openTest(t)
	_, err := db.Enqueue([]Delivery{
		{Notifier: "gone", Alert: alertJSON(1), Created: t0},
		{Notifier: "gone", Alert: alertJSON(2), Created: t0},
		{Notifier: "kept", Alert: alertJSON(3), Created: t0},
	})
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := db.DropOutboxes([]string{"kept"})
	if err != nil || dropped["gone"] != 2 || len(dropped) != 1 {
		t.Fatalf("DropOutboxes = %v, %v", dropped, err)
	}
	if ds, _ := db.Deliveries("kept"); len(ds) != 1 {
		t.Errorf("kept notifier lost deliveries: %v", ds)
	}
	if ds, _ := db.Deliveries("gone"); len(ds) != 0 {
		t.Errorf("removed notifier still has deliveries: %v", ds)
	}
}

func TestEnqueueRejects(t *testing.T) {
	tests := []struct {
		name string
		d    Delivery
	}{
		{"no notifier", Delivery{Alert: alertJSON(1)}},
		{"empty alert", Delivery{Notifier: "n"}},
		{"alert not JSON", Delivery{Notifier: "n", Alert: json.RawMessage(`{`)}},
	}
	db := openTest(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Enqueue([]Delivery{tt.d}); err == nil {
				t.Error("Enqueue accepted it")
			}
		})
	}
}
