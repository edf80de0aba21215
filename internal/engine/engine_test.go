package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/approval"
	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/probe"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/syncbuf"
	"github.com/mcpdrift/mcpdrift/store"
)

func TestMain(m *testing.M) {
	mcptest.MaybeRunChild()
	os.Exit(m.Run())
}

func openDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func parse(t *testing.T, y string) []*config.Server {
	t.Helper()
	cfg, err := config.Parse("t.yaml", []byte(y), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*config.Server, len(cfg.Servers))
	for i := range cfg.Servers {
		out[i] = &cfg.Servers[i]
	}
	return out
}

// TestHostileServersDoNotHurtOthers runs one check over a healthy server and
// one hostile server of each kind: each hostile one is a clear per-server
// error, the ones that never answer within their deadline, the healthy one
// is baselined, no process is left behind, and nothing but listing was ever
// asked.
//
// Only the servers that never answer ("hang", "slow") have a short
// deadline. The others fail by their own misbehaviour, however long a
// loaded machine takes to start them, so their deadline is generous: a
// short one would turn "not JSON" into "timeout" under load.
func TestHostileServersDoNotHurtOthers(t *testing.T) {
	healthy := mcptest.NewServer(mcptest.Config{Name: "ok", Tools: []*mcp.Tool{{Name: "t", InputSchema: &jsonschema.Schema{Type: "object"}}}})
	url := healthy.ServeStreamable(t, mcptest.HTTPOptions{})
	tools := `{"tools":[{"name":"a","inputSchema":{"type":"object"}}]}`
	const (
		shortDeadline    = 2 * time.Second
		generousDeadline = 2 * time.Minute
	)
	raw := func(b mcptest.Behavior) mcptest.Raw {
		// Slow waits longer than its deadline before every answer.
		return mcptest.Raw{Behavior: b, Delay: 2 * shortDeadline, Pages: map[string][]json.RawMessage{"tools/list": {json.RawMessage(tools), json.RawMessage(tools)}}}
	}
	hostile := []struct {
		name     string
		b        mcptest.Behavior
		wants    string
		deadline time.Duration
	}{
		{"hang", mcptest.Hang, "timeout", shortDeadline},
		{"garbage", mcptest.Garbage, "not JSON", generousDeadline},
		{"huge", mcptest.Huge, "max_response_bytes", generousDeadline},
		{"endless", mcptest.EndlessCursor, "max_pages", generousDeadline},
		{"repeat", mcptest.RepeatCursor, "cursor", generousDeadline},
		{"crash", mcptest.CrashMidList, "exit", generousDeadline},
		{"slow", mcptest.Slow, "timeout", shortDeadline},
	}
	y := "servers:\n  - {name: healthy, url: " + url + "}\n"
	children := map[string]*mcptest.Child{}
	for _, h := range hostile {
		c := mcptest.StdioRaw(t, raw(h.b), mcptest.ChildOptions{Grandchild: true})
		children[h.name] = c
		// sandbox: off, because the test follows the children's host pids
		// and call logs (internal/sandbox tests the sandboxed teardown).
		y += c.ConfigEntry(h.name, fmt.Sprintf("    timeout: %s\n    sandbox: off\n", h.deadline))
	}
	// Small limits keep the endless-cursor case short.
	y = strings.Replace(y, "servers:", "defaults: {limits: {max_pages: 20, max_response_bytes: 4MiB}}\nservers:", 1)
	srvs := parse(t, y)
	db := openDB(t)
	eng := engine.New(db, slog.New(slog.DiscardHandler))

	eng.Limit = engine.NewLimiter(len(srvs))
	rep := eng.Check(context.Background(), srvs, engine.Options{})
	if rep.Servers[0].Status != report.StatusBaselined {
		t.Fatalf("healthy server: %+v", rep.Servers[0])
	}
	// A server past its deadline is cut off: its probe returns after the
	// deadline plus teardown (the process group killed, stderr drained).
	// Teardown is bounded, but a loaded machine stretches it, so the bound
	// scales with what a healthy probe took in the same run.
	healthyObs, err := db.LatestObservation("healthy")
	if err != nil {
		t.Fatal(err)
	}
	teardown := max(5*time.Second, 20*healthyObs.Duration)
	for i, h := range hostile {
		rs := rep.Servers[i+1]
		if rs.Status != report.StatusError || !strings.Contains(rs.Error, h.name) && !strings.Contains(rs.Error, fmt.Sprintf("%q", h.name)) {
			t.Errorf("%s: status %s error %q", h.name, rs.Status, rs.Error)
			continue
		}
		if !strings.Contains(strings.ToLower(rs.Error), strings.ToLower(h.wants)) {
			t.Errorf("%s: error %q does not say %q", h.name, rs.Error, h.wants)
		}
		t.Logf("%s: %s", h.name, rs.Error)
		if h.deadline == shortDeadline {
			obs, err := db.LastError(h.name)
			if err != nil {
				t.Fatal(err)
			}
			if obs.Duration > h.deadline+teardown {
				t.Errorf("%s: probe took %v, beyond its %v deadline plus %v for teardown", h.name, obs.Duration, h.deadline, teardown)
			}
		}
		c := children[h.name]
		// Killed processes vanish promptly; the bound only stops a
		// failing run from hanging.
		if left := mcptest.WaitGone(c.PIDs(t), time.Minute); len(left) > 0 {
			t.Errorf("%s: processes left behind: %v", h.name, left)
		}
		if n := c.Calls(t).Forbidden(); n != 0 {
			t.Errorf("%s: %d forbidden calls", h.name, n)
		}
	}
	if n := healthy.Calls().Forbidden(); n != 0 {
		t.Errorf("healthy server got %d forbidden calls", n)
	}
}

func TestNoTrustOnFirstUse(t *testing.T) {
	healthy := mcptest.NewServer(mcptest.Config{Name: "ok"})
	url := healthy.ServeStreamable(t, mcptest.HTTPOptions{})
	srvs := parse(t, "servers:\n  - {name: s, url: "+url+", trust_on_first_use: false}\n")
	db := openDB(t)
	eng := engine.New(db, slog.New(slog.DiscardHandler))
	for range 2 {
		rs := eng.Check(context.Background(), srvs, engine.Options{}).Servers[0]
		if rs.Status != report.StatusUnapproved || rs.Baseline != nil || !strings.Contains(rs.Note, "mcpdrift approve s --snapshot "+rs.Snapshot.ID) {
			t.Fatalf("want unapproved with the approve command: %+v", rs)
		}
	}
	if _, err := db.Baseline("s"); err == nil {
		t.Fatal("a baseline was recorded without trust on first use")
	}
	if _, err := eng.Approve(approval.Request{Server: "s", Approver: "alice"}); err != nil {
		t.Fatal(err)
	}
	if rs := eng.Check(context.Background(), srvs, engine.Options{}).Servers[0]; rs.Status != report.StatusOK || rs.Baseline.ApprovedBy != "alice" {
		t.Fatalf("after approval: %+v", rs)
	}
}

func TestProbePanicIsAnError(t *testing.T) {
	srvs := parse(t, "servers:\n  - {name: p, url: http://127.0.0.1:1/mcp}\n  - {name: q, url: http://127.0.0.1:1/mcp}\n")
	eng := engine.New(openDB(t), slog.New(slog.DiscardHandler))
	eng.Probe = func(ctx context.Context, tg probe.Target) (*probe.Result, error) {
		if tg.Name == "p" {
			panic("boom")
		}
		return nil, errors.New("refused")
	}
	eng.Limit = engine.NewLimiter(2)
	rep := eng.Check(context.Background(), srvs, engine.Options{})
	if rep.Servers[0].Status != report.StatusError || !strings.Contains(rep.Servers[0].Error, "boom") {
		t.Errorf("panic: %+v", rep.Servers[0])
	}
	if rep.Servers[1].Status != report.StatusError || !strings.Contains(rep.Servers[1].Error, "refused") {
		t.Errorf("other server: %+v", rep.Servers[1])
	}
}

// TestCallerLogsChecks: an engine whose caller logs one line per check
// (the daemon) logs no "snapshot" or "snapshot failed" line of its own,
// while what the probes log and a panic still reach the log; without it,
// the engine logs both lines.
func TestCallerLogsChecks(t *testing.T) {
	srvs := parse(t, "servers:\n  - {name: ok, url: http://127.0.0.1:1/mcp}\n  - {name: down, url: http://127.0.0.1:1/mcp}\n  - {name: panics, url: http://127.0.0.1:1/mcp}\n")
	for _, quiet := range []bool{true, false} {
		var buf syncbuf.Buffer
		eng := engine.New(openDB(t), slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
		eng.CallerLogsChecks = quiet
		eng.Probe = func(ctx context.Context, tg probe.Target) (*probe.Result, error) {
			tg.Logger.Info("probe line", "component", "probe")
			switch tg.Name {
			case "down":
				return nil, errors.New("refused")
			case "panics":
				panic("boom")
			}
			return fakeProbe(map[string][]string{"ok": {toolCreate}})(ctx, tg)
		}
		eng.Check(context.Background(), srvs, engine.Options{})
		out := buf.String()
		own := strings.Contains(out, "msg=snapshot ") || strings.Contains(out, `msg="snapshot failed"`)
		if own == quiet || !strings.Contains(out, "check panicked") || strings.Count(out, "probe line") != 3 {
			t.Errorf("CallerLogsChecks %v, log:\n%s", quiet, out)
		}
	}
}
