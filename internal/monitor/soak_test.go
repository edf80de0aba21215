package monitor

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
)

// TestSoakUnchangedPolls runs 50 unchanged servers polled every minute on
// the fake clock of a synctest bubble and checks that the daemon's heap
// and goroutines do not grow with the number of polls: only the store's
// observation records do.
// By default it simulates 2 hours; MCPDRIFT_SOAK_HOURS=24 gives the full
// day (72,000 checks, a few minutes).
func TestSoakUnchangedPolls(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	synctest.Test(t, testSoakUnchangedPolls)
}

func testSoakUnchangedPolls(t *testing.T) {
	hours := 2
	if v := os.Getenv("MCPDRIFT_SOAK_HOURS"); v != "" {
		fmt.Sscan(v, &hours)
	}
	const servers = 50
	fleet := newFakeFleet(clock.Real{})
	var y strings.Builder
	y.WriteString("storage: {path: /unused}\nservers:\n")
	for i := range servers {
		name := fmt.Sprintf("s%02d", i)
		fleet.set(name, toolsV1)
		fmt.Fprintf(&y, "  - {name: %s, url: \"http://fake.invalid/%d\", schedule: \"@every 1m\"}\n", name, i)
	}
	path := dbPath(t)
	db := openDB(t, path)
	defer db.Close()
	// Logs go nowhere: an in-memory log would be the growth measured.
	h := startSync(t, db, Options{Config: parseConfig(t, y.String()), Probe: fleet.Probe, ReminderCheck: time.Hour,
		Logger: slogDiscard()})
	total := func() int { return int(h.metric("mcpdrift_checks_total")) }
	h.wait("the start-up cycle", func() bool { return total() >= servers })

	type sample struct {
		heap       uint64
		goroutines int
		dbBytes    int64
	}
	// settled is the fewest goroutines seen over half a second: the
	// checks of the last tick finish returning meanwhile.
	settled := func() int {
		low := runtime.NumGoroutine()
		for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
			low = min(low, runtime.NumGoroutine())
		}
		return low
	}
	measure := func() sample {
		g := settled()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return sample{ms.HeapInuse, g, fi.Size()}
	}
	var first sample
	minutes := hours * 60
	for m := 1; m <= minutes; m++ {
		h.advance(time.Minute)
		want := servers * (m + 1)
		h.wait(fmt.Sprintf("%d checks", want), func() bool { return total() >= want })
		if m == 60 {
			first = measure()
		}
	}
	last := measure()
	polls := servers * (minutes - 60)
	t.Logf("after 1h: heap %d KiB, %d goroutines, db %d KiB; after %dh: heap %d KiB, %d goroutines, db %d KiB (%d more polls, %.0f bytes of database per poll)",
		first.heap>>10, first.goroutines, first.dbBytes>>10, hours, last.heap>>10, last.goroutines, last.dbBytes>>10,
		polls, float64(last.dbBytes-first.dbBytes)/float64(polls))
	if last.goroutines > first.goroutines+5 {
		t.Errorf("goroutines grew from %d to %d", first.goroutines, last.goroutines)
	}
	// The heap may wobble with GC timing, but must not grow with polls:
	// allow 2 MiB against the thousands of polls made.
	if last.heap > first.heap+2<<20 {
		t.Errorf("heap grew from %d KiB to %d KiB over %d polls", first.heap>>10, last.heap>>10, polls)
	}
}
