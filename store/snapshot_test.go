package store

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestPutSnapshotContentAddressed(t *testing.T) {
	db := openTest(t)
	docA, docB := testDoc(t, 1, 2000), testDoc(t, 2, 2000)

	id1, created1, err := db.PutSnapshot("s", docA, obs(t0))
	if err != nil || !created1 {
		t.Fatalf("first PutSnapshot = %s, %v, %v; want created", id1, created1, err)
	}
	id2, created2, err := db.PutSnapshot("s", docA, obs(t0.Add(time.Minute)))
	if err != nil || created2 || id2 != id1 {
		t.Fatalf("same document again = %s, %v, %v; want %s, not created", id2, created2, err, id1)
	}
	if n := manifestCount(t, db); n != 1 {
		t.Errorf("%d manifests stored after two identical polls, want 1", n)
	}
	if got, _ := db.Observations("s", 0); len(got) != 2 {
		t.Errorf("%d observations, want 2", len(got))
	}

	id3, created3, err := db.PutSnapshot("s", docB, obs(t0.Add(2*time.Minute)))
	if err != nil || !created3 || id3 == id1 {
		t.Fatalf("different document = %s, %v, %v; want a new id, created", id3, created3, err)
	}
	if n := manifestCount(t, db); n != 2 {
		t.Errorf("%d manifests stored for two documents, want 2", n)
	}
	// Another server polling the same manifest shares the document.
	if _, created, err := db.PutSnapshot("other", docB, obs(t0)); err != nil || created {
		t.Errorf("same document from another server: created %v, %v; want shared", created, err)
	}
	for id, want := range map[string][]byte{id1: docA, id3: docB} {
		got, err := db.Manifest(id)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Manifest(%s) = %d bytes, %v; want the stored document", id, len(got), err)
		}
		if n, err := db.ManifestSize(id); err != nil || n != int64(len(want)) {
			t.Errorf("ManifestSize(%s) = %d, %v; want %d", id, n, err, len(want))
		}
	}
	// A document too small to compress is stored as it is.
	small := smallDoc(1)
	if n, err := db.ManifestSize(mustPut(t, db, "small", small, t0)); err != nil || n != int64(len(small)) {
		t.Errorf("ManifestSize of a raw document = %d, %v; want %d", n, err, len(small))
	}
	if _, err := db.ManifestSize("sha256:" + strings.Repeat("0", 64)); !errors.Is(err, ErrNotFound) {
		t.Errorf("ManifestSize of a missing id: %v, want ErrNotFound", err)
	}
	latest, err := db.LatestSnapshot("s")
	if err != nil || latest.SnapshotID != id3 || !latest.TakenAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("LatestSnapshot = %+v, %v; want %s", latest, err, id3)
	}
}

func TestPutSnapshotRejects(t *testing.T) {
	db := openTest(t)
	doc := smallDoc(1)
	tests := []struct {
		name   string
		server string
		doc    []byte
		edit   func(*Observation)
	}{
		{"empty server", "", doc, nil},
		{"empty document", "s", nil, nil},
		{"error set", "s", doc, func(o *Observation) { o.Error = "boom" }},
		{"time unset", "s", doc, func(o *Observation) { o.TakenAt = time.Time{} }},
		{"time out of range", "s", doc, func(o *Observation) { o.TakenAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"snapshot id mismatch", "s", doc, func(o *Observation) { o.SnapshotID = "sha256:" + strings.Repeat("0", 64) }},
		{"server mismatch", "s", doc, func(o *Observation) { o.Server = "t" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obs(t0)
			if tt.edit != nil {
				tt.edit(&o)
			}
			if _, _, err := db.PutSnapshot(tt.server, tt.doc, o); err == nil {
				t.Error("PutSnapshot accepted it")
			}
		})
	}
	if servers, _ := db.Servers(); len(servers) != 0 {
		t.Errorf("rejected snapshots left servers behind: %v", servers)
	}
	if n := manifestCount(t, db); n != 0 {
		t.Errorf("rejected snapshots left %d manifests behind", n)
	}
}

func TestRecordFailure(t *testing.T) {
	db := openTest(t)
	if _, err := db.LatestObservation("s"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestObservation of an unknown server: %v, want ErrNotFound", err)
	}
	if _, err := db.LastError("s"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastError of an unknown server: %v, want ErrNotFound", err)
	}
	o := obs(t0)
	o.Error = "dial tcp: connection refused"
	if err := db.RecordFailure("s", o); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LatestSnapshot("s"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LatestSnapshot after only a failure: %v, want ErrNotFound", err)
	}
	id := mustPut(t, db, "s", smallDoc(1), t0.Add(time.Minute))
	o.TakenAt = t0.Add(2 * time.Minute)
	o.Error = "timeout"
	if err := db.RecordFailure("s", o); err != nil {
		t.Fatal(err)
	}

	if got, err := db.LatestSnapshot("s"); err != nil || got.SnapshotID != id {
		t.Errorf("a failure moved the latest snapshot: %+v, %v", got, err)
	}
	if got, err := db.LatestObservation("s"); err != nil || got.Error != "timeout" {
		t.Errorf("LatestObservation = %+v, %v; want the failure", got, err)
	}
	if got, err := db.LastError("s"); err != nil || got.Error != "timeout" || !got.TakenAt.Equal(o.TakenAt) {
		t.Errorf("LastError = %+v, %v; want the newest failure", got, err)
	}
	all, err := db.Observations("s", 0)
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, o := range all {
		errs = append(errs, o.Error)
	}
	if want := []string{"timeout", "", "dial tcp: connection refused"}; strings.Join(errs, "|") != strings.Join(want, "|") {
		t.Errorf("Observations errors newest first = %q, want %q", errs, want)
	}
	if two, _ := db.Observations("s", 2); len(two) != 2 || two[0].Error != "timeout" {
		t.Errorf("Observations(limit 2) = %+v", two)
	}

	bad := []Observation{{TakenAt: t0}, {TakenAt: t0, Error: "x", SnapshotID: id}}
	for _, o := range bad {
		if err := db.RecordFailure("s", o); err == nil {
			t.Errorf("RecordFailure accepted %+v", o)
		}
	}
}

func TestObservationRoundTrip(t *testing.T) {
	db := openTest(t)
	want := Observation{
		Server: "s", TakenAt: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("X", 3600)),
		Duration: 1234567 * time.Microsecond, Client: "mcpdrift/1.0.0", ClientCaps: "caps:ab12",
		Protocol: "2025-06-18", Transport: "stdio", Error: "ünïcode " + strings.Repeat("é", 3000),
	}
	if err := db.RecordFailure("s", want); err != nil {
		t.Fatal(err)
	}
	got, err := db.LatestObservation("s")
	if err != nil {
		t.Fatal(err)
	}
	if !got.TakenAt.Equal(want.TakenAt) || got.TakenAt.Location() != time.UTC {
		t.Errorf("TakenAt = %v, want %v in UTC", got.TakenAt, want.TakenAt)
	}
	if len(got.Error) > maxErrorLen || !strings.HasPrefix(want.Error, got.Error) || !utf8Valid(got.Error) {
		t.Errorf("Error stored as %d bytes, want a valid prefix of at most %d", len(got.Error), maxErrorLen)
	}
	got.TakenAt, want.Error = want.TakenAt, got.Error
	if got != want {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestServers(t *testing.T) {
	db := openTest(t)
	mustPut(t, db, "zeta", smallDoc(1), t0)
	mustPut(t, db, "alpha", smallDoc(1), t0)
	if _, err := db.Approve(report.Approval{Server: "mid", At: t0, Approver: "a"}, smallDoc(2)); err != nil {
		t.Fatal(err)
	}
	got, err := db.Servers()
	if err != nil || strings.Join(got, ",") != "alpha,mid,zeta" {
		t.Errorf("Servers() = %v, %v; want alpha,mid,zeta", got, err)
	}
}

func TestManifestErrors(t *testing.T) {
	db := openTest(t)
	tests := []struct {
		name string
		id   string
		want error
	}{
		{"unknown", "sha256:" + strings.Repeat("a", 64), ErrNotFound},
		{"prefix", "sha256:aaaaaaaa", ErrInvalidRef},
		{"upper case", "sha256:" + strings.Repeat("A", 64), ErrInvalidRef},
		{"no scheme", strings.Repeat("a", 64), ErrInvalidRef},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Manifest(tt.id); !errors.Is(err, tt.want) {
				t.Errorf("Manifest(%q): %v, want %v", tt.id, err, tt.want)
			}
		})
	}
}

// TestConcurrentRecords: records written at once share commits (bbolt's
// Batch) and still each land exactly once, and a new document is reported
// created exactly once even when two servers send it in the same batch.
func TestConcurrentRecords(t *testing.T) {
	db := openTest(t)
	docs := [][]byte{smallDoc(1), smallDoc(2)}
	const servers, polls = 8, 12
	var created atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, servers*polls)
	for s := range servers {
		for p := range polls {
			wg.Go(func() {
				name := fmt.Sprintf("s%d", s)
				if p%4 == 3 {
					errs <- db.RecordFailure(name, Observation{TakenAt: t0, Error: "connection refused"})
					return
				}
				_, c, err := db.PutSnapshot(name, docs[(s+p)%2], obs(t0.Add(time.Duration(p)*time.Second)))
				if c {
					created.Add(1)
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := created.Load(); got != 2 {
		t.Errorf("%d puts reported a new manifest, want 2 (one per document)", got)
	}
	if n := manifestCount(t, db); n != 2 {
		t.Errorf("%d manifests stored, want 2", n)
	}
	for s := range servers {
		got, err := db.Observations(fmt.Sprintf("s%d", s), 0)
		if err != nil || len(got) != polls {
			t.Errorf("s%d: %d observations, %v; want %d", s, len(got), err, polls)
		}
	}
}
