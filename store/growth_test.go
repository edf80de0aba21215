package store

import (
	bolt "go.etcd.io/bbolt"
	"os"
	"testing"
	"time"
)

// growth is what polls cost: file is the file size, which bbolt grows to
// its mmap size (doubling up to 16 MiB, then 16 MiB steps), so it moves in
// jumps; data is the high-water mark of pages in use, the steady cost.
type growth struct{ file, data float64 }

// unchangedPollGrowth polls the same ~50 KB manifest for one server polls
// times after a first poll, and returns the growth per poll in bytes.
func unchangedPollGrowth(tb testing.TB, polls int) growth {
	tb.Helper()
	path := testPath(tb)
	db := openAt(tb, path, Options{})
	doc := testDoc(tb, 42, 50_000)
	mustPut(tb, db, "github", doc, t0)
	file0, data0 := fileSize(tb, path), dataSize(tb, db)
	for i := 1; i <= polls; i++ {
		mustPut(tb, db, "github", doc, t0.Add(time.Duration(i)*5*time.Minute))
	}
	return growth{
		file: float64(fileSize(tb, path)-file0) / float64(polls),
		data: float64(dataSize(tb, db)-data0) / float64(polls),
	}
}

func dataSize(tb testing.TB, db *DB) int64 {
	tb.Helper()
	var n int64
	if err := db.view(func(tx *bolt.Tx) error { n = tx.Size(); return nil }); err != nil {
		tb.Fatal(err)
	}
	return n
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// TestUnchangedPollGrowth bounds what an unchanged poll costs on disk. It
// is a size assertion, so it is a test, not a benchmark.
func TestUnchangedPollGrowth(t *testing.T) {
	g := unchangedPollGrowth(t, 1000)
	t.Logf("unchanged poll over 1000 polls: file %.1f bytes/poll, pages in use %.1f bytes/poll", g.file, g.data)
	if g.file >= 1024 || g.data >= 1024 {
		t.Errorf("an unchanged poll grows the database by %.1f bytes (file) / %.1f (data), want < 1024", g.file, g.data)
	}
}

// BenchmarkUnchangedPollGrowth reports bytes/poll: run it with
// go test -run '^$' -bench UnchangedPollGrowth -benchtime 1x ./store
func BenchmarkUnchangedPollGrowth(b *testing.B) {
	var g growth
	for b.Loop() {
		g = unchangedPollGrowth(b, 1000)
	}
	b.ReportMetric(g.file, "bytes/poll")
	b.ReportMetric(g.data, "data-bytes/poll")
}
