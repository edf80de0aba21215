package monitor

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/probe"
)

// TestPanicAndHangStayIsolated runs, through a concurrency of one, a
// server whose probe panics and one whose probe hangs ignoring its
// context, next to a healthy one: the healthy server keeps being checked.
func TestPanicAndHangStayIsolated(t *testing.T) { synctest.Test(t, testPanicAndHangStayIsolated) }

func testPanicAndHangStayIsolated(t *testing.T) {
	fleet := newFakeFleet(clock.Real{})
	fleet.set("ok", toolsV1)
	release := make(chan struct{})
	defer close(release)
	probeFn := func(ctx context.Context, tg probe.Target) (*probe.Result, error) {
		switch tg.Name {
		case "panics":
			panic("server sent something we choke on")
		case "hangs":
			<-release // ignores ctx: a bug, not a slow server
		}
		return fleet.Probe(ctx, tg)
	}
	db := openDB(t, dbPath(t))
	defer db.Close()
	h := startSync(t, db, Options{
		Config: parseConfig(t, `
storage: {path: /unused}
concurrency: 1
servers:
  - {name: hangs, url: "http://h/mcp", schedule: "@every 1s", timeout: 100ms}
  - {name: panics, url: "http://p/mcp", schedule: "@every 1s", timeout: 1s}
  - {name: ok, url: "http://o/mcp", schedule: "@every 1s", timeout: 1s}
`),
		Probe:      probeFn,
		CheckGrace: 100 * time.Millisecond,
	})
	h.waitRuns("ok", 3)
	h.waitRuns("panics", 2)
	if got := h.runs("hangs"); got != 0 {
		t.Errorf("the hung server completed %d checks", got)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "check overran its deadline") || !strings.Contains(logs, "panicked") {
		t.Errorf("hang or panic not logged:\n%s", logs)
	}
}
