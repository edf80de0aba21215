package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// t0 is an arbitrary fixed instant; tests never read the wall clock.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testPath returns a database path in a fresh temporary directory.
func testPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "mcpdrift.db")
}

// openTest opens a new database in a temporary directory and closes it when
// the test ends.
func openTest(tb testing.TB) *DB {
	tb.Helper()
	return openAt(tb, testPath(tb), Options{})
}

func openAt(tb testing.TB, path string, opts Options) *DB {
	tb.Helper()
	db, err := Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// obs returns a typical successful observation taken at t.
func obs(t time.Time) Observation {
	return Observation{
		TakenAt: t, Duration: 840 * time.Millisecond,
		Client: "mcpdrift/1.0.0", ClientCaps: "caps:3f9a1c2e", Protocol: "2025-06-18", Transport: "streamable-http",
	}
}

// testDoc returns a canonical manifest document of about size bytes, built
// through the real manifest package from tools with prose-like text (so
// compression behaves as on a real server). seed varies the content.
func testDoc(tb testing.TB, seed uint64, size int) []byte {
	tb.Helper()
	words := strings.Fields(`search list create update delete the a an issues pull requests repository
		branch commit file files directory path query returns matching results for given user owner
		optional required limit page state open closed label labels comment comments review merge
		when with from into by of to and or only string number must be should`)
	r := rand.New(rand.NewPCG(seed, 1))
	sentence := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = words[r.IntN(len(words))]
		}
		return strings.Join(w, " ") + "."
	}
	var tools []map[string]any
	var doc []byte
	for i := 0; len(doc) < size; i++ {
		tools = append(tools, map[string]any{
			"name":        fmt.Sprintf("tool_%d_%03d", seed, i),
			"description": sentence(30 + r.IntN(30)),
			"annotations": map[string]any{"readOnlyHint": i%2 == 0},
			"inputSchema": map[string]any{
				"type":     "object",
				"required": []string{"query"},
				"properties": map[string]any{
					"query": map[string]any{"type": "string", "description": sentence(8)},
					"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": 100, "description": sentence(6)},
				},
			},
		})
		if i%10 != 9 {
			continue
		}
		page, err := json.Marshal(map[string]any{"tools": tools})
		if err != nil {
			tb.Fatal(err)
		}
		m, err := manifest.Build(manifest.Capture{
			Init:  json.RawMessage(`{"protocolVersion":"2025-06-18","serverInfo":{"name":"demo","version":"1"},"capabilities":{"tools":{}}}`),
			Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {page}},
		})
		if err != nil {
			tb.Fatal(err)
		}
		doc = m.Document()
	}
	return doc
}

// smallDoc returns a tiny distinct document.
func smallDoc(n int) []byte { return fmt.Appendf(nil, `{"format":1,"n":%d}`, n) }

func mustPut(tb testing.TB, db *DB, server string, doc []byte, at time.Time) string {
	tb.Helper()
	id, _, err := db.PutSnapshot(server, doc, obs(at))
	if err != nil {
		tb.Fatalf("PutSnapshot(%s): %v", server, err)
	}
	return id
}

// manifestCount counts stored manifest documents.
func manifestCount(tb testing.TB, db *DB) int {
	tb.Helper()
	n := 0
	err := db.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketManifests).Stats().KeyN
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func fingerprint(doc []byte) string { return manifest.Fingerprint(doc) }
