package monitor

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/monitor/clock"
	"github.com/mcpdrift/mcpdrift/internal/monitor/outbox"
	"github.com/mcpdrift/mcpdrift/notifiers"
)

// These tests run the daemon end to end: a real MCP server (mcptest) over
// loopback HTTP, the real prober, the persisted outbox, and the real
// notifiers from notifiers/build posting to local receivers. Retries run
// on the fake clock.

const baseDesc = "Search issues."

// driftServer serves one tool, "search", whose description the test
// changes to make drift.
func driftServer(t *testing.T) (*mcptest.Server, string) {
	t.Helper()
	srv := mcptest.NewServer(mcptest.Config{Tools: []*mcp.Tool{tool("search", baseDesc)}})
	return srv, srv.ServeStreamable(t, mcptest.HTTPOptions{})
}

// revise changes the tool's description to one that names rev.
func revise(srv *mcptest.Server, rev int) string {
	desc := fmt.Sprintf("Search issues, rev-%d.", rev)
	srv.SetTools(tool("search", desc))
	return desc
}

func slackConfig(serverURL, hook, extra string) string {
	return fmt.Sprintf(`
storage: {path: /unused}
servers:
  - {name: live, url: %q, schedule: "@every 24h", timeout: 5s}
notifiers:
  - {name: slack, type: slack, webhook_url: %q}
%s`, serverURL, hook, extra)
}

// driftPosted checks that a Slack post is the drift alert of server live
// for the description change to desc.
func driftPosted(t *testing.T, body, desc string) {
	t.Helper()
	for _, want := range []string{"drift on live", "on `live`", "tool.description", "`search`", desc} {
		if !strings.Contains(body, want) {
			t.Errorf("Slack post does not contain %q:\n%s", want, body)
		}
	}
}

func TestE2ESlackRetriesServerErrorsThenDeliversOnce(t *testing.T) {
	clock := newFakeClock(t0)
	srv, url := driftServer(t)
	hook := newHookReceiver(t, clock, statuses(500, 500, 200))
	db := openDB(t, dbPath(t))
	defer db.Close()
	h := startReal(t, db, clock, slackConfig(url, hook.url, ""))
	h.waitRuns("live", 1)

	desc := revise(srv, 1)
	h.checkDrift("live")
	for attempt := 1; attempt <= 2; attempt++ {
		if d := h.advanceToRetry("slack"); d.Attempts != attempt || !strings.Contains(d.LastError, "HTTP 500") {
			t.Fatalf("before retry %d: attempts %d, last error %q", attempt, d.Attempts, d.LastError)
		}
	}
	h.outboxEmpty()
	if _, queued := h.settle("slack"); queued {
		t.Fatal("a delivery is still queued")
	}
	reqs := hook.requests()
	if len(reqs) != 3 || len(hook.accepted()) != 1 || reqs[2].status != http.StatusOK {
		t.Fatalf("requests %s, want 500, 500, then one accepted 200", hook.timeline(t0))
	}
	for _, q := range reqs[1:] {
		if q.body != reqs[0].body {
			t.Errorf("a retry posted another message:\n%s\n---\n%s", q.body, reqs[0].body)
		}
	}
	driftPosted(t, reqs[2].body, desc)
	if n := h.metric("mcpdrift_notifications_total", "notifier", "slack", "outcome", outbox.OutcomeRetried); n != 2 {
		t.Errorf("retried metric = %v, want 2", n)
	}
}

func TestE2ESlackHonoursRetryAfter(t *testing.T) {
	clock := newFakeClock(t0)
	srv, url := driftServer(t)
	hook := newHookReceiver(t, clock, func(n int, _ time.Time) (int, string) {
		if n == 1 {
			return http.StatusTooManyRequests, "7"
		}
		return http.StatusOK, ""
	})
	db := openDB(t, dbPath(t))
	defer db.Close()
	h := startReal(t, db, clock, slackConfig(url, hook.url, ""))
	h.waitRuns("live", 1)

	desc := revise(srv, 1)
	h.checkDrift("live")
	d, _ := h.settle("slack")
	first := hook.requests()[0].at
	if want := first.Add(7 * time.Second); !d.NextAttempt.Equal(want) {
		t.Fatalf("next attempt %s after the 429, want exactly Retry-After (7s): %s", d.NextAttempt.Sub(first), want)
	}
	// A second short of Retry-After nothing fires.
	clock.Advance(6 * time.Second)
	if d2, _ := h.settle("slack"); len(hook.requests()) != 1 || d2.Attempts != 1 {
		t.Fatalf("retried before Retry-After: %s", hook.timeline(t0))
	}
	clock.Advance(time.Second)
	h.outboxEmpty()
	h.settle("slack")
	reqs := hook.requests()
	if len(reqs) != 2 || reqs[1].status != http.StatusOK {
		t.Fatalf("requests %s, want 429 then 200", hook.timeline(t0))
	}
	if wait := reqs[1].at.Sub(reqs[0].at); wait < 7*time.Second {
		t.Errorf("retried %s after the 429, want at least Retry-After 7s", wait)
	}
	driftPosted(t, reqs[1].body, desc)
}

func TestE2EClientErrorIsNotRetried(t *testing.T) {
	tests := []struct {
		name     string
		notifier string // YAML of the notifier; %q is the receiver URL
	}{
		{"slack", `{name: out, type: slack, webhook_url: %q}`},
		{"webhook", `{name: out, type: webhook, url: %q}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(t0)
			srv, url := driftServer(t)
			hook := newHookReceiver(t, clock, statuses(http.StatusBadRequest))
			db := openDB(t, dbPath(t))
			defer db.Close()
			h := startReal(t, db, clock, fmt.Sprintf(`
storage: {path: /unused}
servers:
  - {name: live, url: %q, schedule: "@every 24h", timeout: 5s}
notifiers:
  - `+tt.notifier+"\n", url, hook.url))
			h.waitRuns("live", 1)
			revise(srv, 1)
			h.checkDrift("live")
			h.outboxEmpty()
			if _, queued := h.settle("out"); queued {
				t.Fatal("the rejected delivery is still queued")
			}
			// Well past any backoff: still exactly one attempt.
			clock.Advance(time.Hour)
			h.settle("out")
			if reqs := hook.requests(); len(reqs) != 1 {
				t.Fatalf("requests %s, want exactly one", hook.timeline(t0))
			}
			if n := h.metric("mcpdrift_notifications_total", "notifier", "out", "outcome", outbox.OutcomeFailed); n != 1 {
				t.Errorf("failed metric = %v, want 1", n)
			}
			logs := h.logs.String()
			var line string
			for l := range strings.Lines(logs) {
				if strings.Contains(l, "notifier failed permanently") {
					line = l
				}
			}
			if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "HTTP 400") || !strings.Contains(line, "server=live") {
				t.Errorf("no error log of the dropped delivery:\n%s", logs)
			}
			if strings.Contains(logs, "secretpath") {
				t.Error("the log shows the secret part of the receiver URL")
			}
		})
	}
}

func TestE2EEmailRetriesUntilSMTPServerIsUp(t *testing.T) {
	clock := newFakeClock(t0)
	srv, url := driftServer(t)
	port := freePort(t)
	db := openDB(t, dbPath(t))
	defer db.Close()
	h := startReal(t, db, clock, fmt.Sprintf(`
storage: {path: /unused}
servers:
  - {name: live, url: %q, schedule: "@every 24h", timeout: 5s}
notifiers:
  - name: mail
    type: email
    smtp: {host: 127.0.0.1, port: %d, tls: none}
    from: mcpdrift@example.com
    to: [secops@example.com]
`, url, port))
	h.waitRuns("live", 1)
	revise(srv, 1)
	h.checkDrift("live")

	d, queued := h.settle("mail")
	if !queued || d.Attempts != 1 || !strings.Contains(d.LastError, "connection refused") {
		t.Fatalf("with no SMTP server: queued %v, attempts %d, last error %q; want one retryable failure", queued, d.Attempts, d.LastError)
	}
	box := serveMailbox(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	h.advanceToRetry("mail")
	h.outboxEmpty()
	// Well past any backoff: nothing more is sent.
	clock.Advance(time.Hour)
	h.settle("mail")
	msgs := box.all()
	if len(msgs) != 1 {
		t.Fatalf("mailbox holds %d messages, want exactly 1", len(msgs))
	}
	for _, want := range []string{"Subject: [mcpdrift] live: drift\r\n", "To: <secops@example.com>", "rev-1", "X-Mcpdrift-Incident:\r\n drift/live/sha256:"} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("message does not contain %q:\n%s", want, msgs[0])
		}
	}
}

func TestE2ERestartDuringRetriesDeliversOnce(t *testing.T) {
	clock := newFakeClock(t0)
	srv, url := driftServer(t)
	hook := newHookReceiver(t, clock, statuses(http.StatusInternalServerError))
	path := dbPath(t)
	cfg := slackConfig(url, hook.url, "")

	db := openDB(t, path)
	h := startReal(t, db, clock, cfg)
	h.waitRuns("live", 1)
	desc := revise(srv, 1)
	h.checkDrift("live")
	h.advanceToRetry("slack")
	d, _ := h.settle("slack")
	if d.Attempts != 2 {
		t.Fatalf("attempts before the restart = %d, want 2", d.Attempts)
	}
	h.stop()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	hook.setAnswer(statuses(http.StatusOK))
	db = openDB(t, path)
	defer db.Close()
	h = startReal(t, db, clock, cfg)
	h.waitRuns("live", 1) // the start-up check finds the same drift
	if d2 := h.advanceToRetry("slack"); d2.ID != d.ID || d2.Attempts != 2 {
		t.Fatalf("after the restart the head delivery is %d (attempts %d), want %d (attempts 2)", d2.ID, d2.Attempts, d.ID)
	}
	h.outboxEmpty()
	clock.Advance(time.Hour)
	h.settle("slack")
	acc := hook.accepted()
	if len(acc) != 1 || len(hook.requests()) != 3 {
		t.Fatalf("requests %s, want 500, 500, restart, then exactly one 200", hook.timeline(t0))
	}
	driftPosted(t, acc[0].body, desc)
}

// TestE2ESlackOutage keeps Slack down (503) for the first 10 minutes of
// fake time, introduces three drifts of the same server during it (at 1,
// 4 and 7 minutes), runs on to 30 minutes, and logs what arrived and when.
// Every drift alert is delivered once, in order, after the outage;
// reminders, when due, are of the latest incident only.
func TestE2ESlackOutage(t *testing.T) {
	tests := []struct {
		name      string
		alerts    string // extra config
		reminders bool
	}{
		{"default repeat_interval", "", false},
		{"repeat_interval 5m", "alerts: {repeat_interval: 5m}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { slackOutage(t, tt.alerts, tt.reminders) })
	}
}

func slackOutage(t *testing.T, extra string, wantReminders bool) {
	const outage = 10 * time.Minute
	clock := newFakeClock(t0)
	srv, url := driftServer(t)
	hook := newHookReceiver(t, clock, func(_ int, now time.Time) (int, string) {
		if now.Before(t0.Add(outage)) {
			return http.StatusServiceUnavailable, ""
		}
		return http.StatusOK, ""
	})
	db := openDB(t, dbPath(t))
	defer db.Close()
	// Production backoff (5s doubling to 10m) and reminder check (30s).
	h := start(t, db, Options{
		Config:    parseConfig(t, slackConfig(url, hook.url, extra)),
		Clock:     clock,
		Notifiers: realNotifiers,
	})
	h.waitRuns("live", 1)

	var descs []string
	for i, at := range []time.Duration{time.Minute, 4 * time.Minute, 7 * time.Minute} {
		h.driveTo("slack", t0.Add(at))
		descs = append(descs, revise(srv, i+1))
		h.checkDrift("live")
	}
	// Through the outage, until the outbox drains, then to 30 minutes.
	h.driveTo("slack", t0.Add(outage))
	for i := 0; ; i++ {
		d, queued := h.settle("slack")
		if !queued {
			break
		}
		if i == 50 {
			t.Fatalf("outbox not drained: %s", hook.timeline(t0))
		}
		h.driveTo("slack", d.NextAttempt)
	}
	h.driveTo("slack", t0.Add(30*time.Minute))

	t.Logf("requests (fake-clock offset:status): %s", hook.timeline(t0))
	acc := hook.accepted()
	var drifts, reminders []hookRequest
	for i, q := range acc {
		t.Logf("accepted %d at +%s: %s", i+1, q.at.Sub(t0), textOf(q.body))
		if strings.Contains(textOf(q.body), "(reminder ") {
			reminders = append(reminders, q)
		} else {
			drifts = append(drifts, q)
		}
	}
	t.Logf("%d failed attempts during the outage; after it %d drift posts and %d reminders",
		len(hook.requests())-len(acc), len(drifts), len(reminders))
	if len(drifts) != len(descs) {
		t.Fatalf("%d drift posts accepted, want one per drift (%d)", len(drifts), len(descs))
	}
	for i, q := range drifts {
		if q.at.Before(t0.Add(outage)) {
			t.Errorf("post %d accepted during the outage", i+1)
		}
		driftPosted(t, q.body, descs[i])
		for j, other := range descs {
			if j != i && strings.Contains(q.body, other) {
				t.Errorf("post %d also names drift %d", i+1, j+1)
			}
		}
	}
	// Superseded drifts do not collapse: each is its own incident.
	kinds := alertKinds(t, h)
	if n := strings.Count(strings.Join(kinds, ","), "drift"); n != 3 || slices.Contains(kinds, notifiers.KindResolved) {
		t.Errorf("alerts raised: %v, want three drifts and no resolution", kinds)
	}
	if got := len(reminders) > 0; got != wantReminders {
		t.Errorf("reminders sent: %d, want some: %v", len(reminders), wantReminders)
	}
	for _, q := range reminders {
		if !strings.Contains(q.body, descs[2]) || q.at.Before(drifts[2].at) {
			t.Errorf("reminder at +%s is not of the latest drift, after its alert:\n%s", q.at.Sub(t0), q.body)
		}
	}
}

// textOf returns the fallback text of a Slack post.
func textOf(body string) string {
	_, rest, ok := strings.Cut(body, `"text":"`)
	if !ok {
		return body
	}
	text, _, _ := strings.Cut(rest, `"`)
	return text
}

// alertKinds returns the alerts the lifecycle raised, from its metric.
func alertKinds(t *testing.T, h *harness) []string {
	t.Helper()
	var out []string
	for _, k := range []string{notifiers.KindDrift, notifiers.KindResolved, notifiers.KindUnreachable, "reminder"} {
		for range int(h.metric("mcpdrift_alerts_total", "kind", k)) {
			out = append(out, k)
		}
	}
	return out
}

// TestE2EListChangedToSlackLatency measures, with the real clock, the time
// from a tool change on a watched server (list_changed) to the Slack post
// arriving at the local receiver, over loopback: default debounce
// (200ms), no watch rate limit and no notification rate limit
// (alerts.group_interval: 0s), so that back-to-back changes each count.
// It logs p50 and p99; it asserts only that every change is posted once.
func TestE2EListChangedToSlackLatency(t *testing.T) {
	const changes = 20
	srv, url := driftServer(t)
	hook := newHookReceiver(t, clock.Real{}, statuses(http.StatusOK))
	db := openDB(t, dbPath(t))
	defer db.Close()
	h := start(t, db, Options{
		Config: parseConfig(t, fmt.Sprintf(`
storage: {path: /unused}
servers:
  - {name: live, url: %q, schedule: "@every 1h", timeout: 5s, watch: true}
notifiers:
  - {name: slack, type: slack, webhook_url: %q}
alerts: {group_interval: 0s}
`, url, hook.url)),
		Notifiers:        realNotifiers,
		WatchMinInterval: -1,
	})
	h.waitRuns("live", 1)
	eventually(t, "the watch session", func() bool {
		return h.metric("mcpdrift_watch_connected", "server", "live") == 1
	})
	lat := make([]time.Duration, 0, changes)
	for i := 1; i <= changes; i++ {
		start := time.Now()
		desc := revise(srv, i)
		eventually(t, fmt.Sprintf("the Slack post of change %d", i), func() bool { return len(hook.accepted()) >= i })
		q := hook.accepted()[i-1]
		if !strings.Contains(q.body, desc) {
			t.Fatalf("post %d is not about change %d:\n%s", i, i, q.body)
		}
		lat = append(lat, q.wall.Sub(start))
	}
	h.outboxEmpty()
	if n := len(hook.requests()); n != changes {
		t.Errorf("%d posts for %d changes, want one each", n, changes)
	}
	slices.Sort(lat)
	t.Logf("list_changed -> Slack post over %d changes: min %s, p50 %s, p99 %s (max)",
		changes, lat[0].Round(time.Millisecond), lat[len(lat)/2].Round(time.Millisecond),
		lat[(len(lat)*99)/100].Round(time.Millisecond))
}
