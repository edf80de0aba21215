package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// bigPages returns pages tools/list pages of about pageBytes each: tools
// with long descriptions and documented parameters, every one different.
func bigPages(pages, pageBytes int) ([]json.RawMessage, int) {
	var out []json.RawMessage
	total := 0
	for p := range pages {
		var b strings.Builder
		b.WriteString(`{"tools":[`)
		for i := 0; b.Len() < pageBytes; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"tool_%d_%d","description":"%s","inputSchema":{"type":"object","properties":{`, p, i,
				strings.Repeat(fmt.Sprintf("Reads ledger %d/%d records and returns them as rows. ", p, i), 45))
			for k := range 8 {
				if k > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `"field_%d":{"type":"string","description":"Column %d of ledger %d/%d, as text."}`, k, k, p, i)
			}
			b.WriteString(`}}}`)
		}
		b.WriteString(`]}`)
		total += b.Len()
		out = append(out, json.RawMessage(b.String()))
	}
	return out, total
}

// memSampler records the peak of the Go runtime's mapped, unreleased
// memory (what the process's RSS holds for the heap and runtime),
// sampled from runtime/metrics until stopped.
type memSampler struct {
	stop, done chan struct{}
	peak       uint64
}

func inUse() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}

func startSampler() *memSampler {
	m := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			m.peak = max(m.peak, inUse())
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

func (m *memSampler) Stop() uint64 {
	close(m.stop)
	<-m.done
	return max(m.peak, inUse())
}

// memFactor bounds the memory one check adds: memFactor × its manifest
// bytes, plus the report it returns, plus a slack (64 MiB), issue 15's
// target (4 × + 64 MiB) with the output counted apart. The manifest is
// canonicalized without copying its pages, held once in canonical form
// (the per-server cache shares it), and its document is written once at
// its final size. The report is the output, not overhead: a drift that
// rewrites every tool's description holds the old and new text and a
// diff of each, about 3 × the manifest here.
const memFactor = 4

// reportBytes is what a report's text weighs.
func reportBytes(rs report.Server) int {
	n := 0
	for _, c := range rs.Changes {
		n += len(c.Summary) + len(c.Before) + len(c.After) + len(c.Diff) + len(c.Name) + len(c.Path)
		for _, f := range c.Findings {
			n += len(f.Message) + len(f.Evidence)
		}
	}
	for _, f := range rs.Findings {
		n += len(f.Message) + len(f.Evidence)
	}
	return n
}

// One large paginated manifest (4 pages, tens of MiB, under the default
// limits) is snapshotted, then drifts to another as large (every tool's
// description changed): the memory the check adds stays under memFactor ×
// the manifest bytes + the report's bytes + memSlack, measured with
// runtime/metrics (mapped, unreleased memory: what RSS holds, garbage not
// yet collected included), not wall time. The server runs in this process
// and holds its pages before the measurement starts; what it allocates to
// answer is counted against the check, which only makes the test
// stricter.
//
// Under the race detector (CI's `make test`), which makes it several
// times slower, it runs at a quarter of the size with a quarter of the
// slack: the same bound, scaled.
func TestLargeManifestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tens of MiB of manifests")
	}
	pageBytes, memSlack := 6<<20, 64<<20
	if raceEnabled {
		pageBytes, memSlack = pageBytes/4, memSlack/4
	}
	pagesA, size := bigPages(4, pageBytes)
	pagesB, _ := bigPages(4, pageBytes)
	for i := range pagesB {
		pagesB[i] = json.RawMessage(strings.ReplaceAll(string(pagesB[i]), "as rows.", "as rows!"))
	}
	srvA := mcptest.ServeRawHTTP(t, mcptest.Raw{Pages: map[string][]json.RawMessage{"tools/list": pagesA}})
	srvB := mcptest.ServeRawHTTP(t, mcptest.Raw{Pages: map[string][]json.RawMessage{"tools/list": pagesB}})
	eng := engine.New(openDB(t), slog.New(slog.DiscardHandler))

	measure := func(name, url string) report.Server {
		srvs := parse(t, fmt.Sprintf("servers:\n  - {name: big, url: %q, trust_on_first_use: true, timeout: 5m}\n", url))
		runtime.GC()
		base := inUse()
		s := startSampler()
		rs := eng.CheckServer(context.Background(), srvs[0])
		peak := s.Stop()
		out := reportBytes(rs)
		bound := uint64(memFactor*size + out + memSlack)
		t.Logf("%s: manifest %.1f MiB, report %.1f MiB, check added %.1f MiB at peak (bound %.1f MiB)", name,
			float64(size)/(1<<20), float64(out)/(1<<20), float64(peak-base)/(1<<20), float64(bound)/(1<<20))
		if peak-base > bound {
			t.Errorf("%s: check added %d bytes at peak, over %d × %d + %d (report) + %d", name, peak-base, memFactor, size, out, memSlack)
		}
		return rs
	}
	if rs := measure("first snapshot", srvA.URL); rs.Status != report.StatusBaselined {
		t.Fatalf("first snapshot: %s %s %s", rs.Status, rs.Error, rs.Note)
	}

	if rs := measure("drift", srvB.URL); rs.Status != report.StatusDrift || len(rs.Changes) == 0 {
		t.Fatalf("drift: %s %s, %d changes", rs.Status, rs.Error, len(rs.Changes))
	}
}

// A manifest larger than its reservation (a server of unknown size gets
// engine's minimum, 4 MiB) is probed again under its full limit and
// snapshotted; the next check reserves its known size and probes once.
func TestOutgrownReservationProbesAgain(t *testing.T) {
	pages, size := bigPages(2, 3<<20)
	srv := mcptest.ServeRawHTTP(t, mcptest.Raw{Pages: map[string][]json.RawMessage{"tools/list": pages}})
	eng := engine.New(openDB(t), slog.New(slog.DiscardHandler))
	srvs := parse(t, fmt.Sprintf("servers:\n  - {name: big, url: %q, trust_on_first_use: true, timeout: 5m}\n", srv.URL))
	if rs := eng.CheckServer(context.Background(), srvs[0]); rs.Status != report.StatusBaselined {
		t.Fatalf("%d-byte manifest: %s %s", size, rs.Status, rs.Error)
	}
	if n := srv.Calls()["initialize"]; n != 2 {
		t.Fatalf("%d probes of a manifest over its first reservation, want 2", n)
	}
	if rs := eng.CheckServer(context.Background(), srvs[0]); rs.Status != report.StatusOK {
		t.Fatalf("second check: %s %s", rs.Status, rs.Error)
	}
	if n := srv.Calls()["initialize"]; n != 3 {
		t.Fatalf("%d probes after the second check, want 3: the known size was not reserved", n)
	}
}
