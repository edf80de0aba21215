package alertmanager

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/notifytest"
)

func newNotifier(t *testing.T, cfg config.Notifier, threads notifiers.ThreadStore, logs io.Writer) *Notifier {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	cfg.Name, cfg.Type = "pager", config.NotifierAlertmanager
	n, err := New(cfg, Options{
		Threads:  threads,
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hostname: func() (string, error) { return "drift-host", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// --- against a real Alertmanager -------------------------------------------

// TestRealAlertmanagerLifecycle: a drift alert appears with its labels and
// annotations, a silence on its server suppresses it, and the resolution
// ends it.
func TestRealAlertmanagerLifecycle(t *testing.T) {
	am := startAlertmanager(t)
	n := newNotifier(t, config.Notifier{URL: config.NewSecret(am.url), Labels: map[string]string{"team": "secops"}}, &notifytest.Threads{}, nil)
	ctx := context.Background()

	a := notifytest.RichDrift()
	a.At, a.FirstSeen = time.Now().Add(-time.Minute), time.Now().Add(-time.Minute)
	if retry, err := n.Notify(ctx, a); err != nil {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	want := map[string]string{
		"alertname": "MCPDriftDrift", "server": "github", "kind": "drift", "severity": "critical",
		"instance": "drift-host", "team": "secops",
	}
	got := am.waitFor(t, "the drift alert", func(as []gettable) bool { return len(find(as, want)) == 1 })
	alert := find(got, want)[0]
	if len(alert.Labels) != len(want) {
		t.Errorf("labels = %v, want exactly %v", alert.Labels, want)
	}
	if alert.Status.State != "active" {
		t.Errorf("state = %q, want active", alert.Status.State)
	}
	for k, v := range map[string]string{
		"approve":  "mcpdrift approve github --snapshot " + notifytest.SnapshotID,
		"diff":     "mcpdrift diff github",
		"summary":  "Drift on github — CRITICAL: 4 changes (1 critical, 2 high, 1 low)",
		"snapshot": notifytest.SnapshotID,
		"incident": notifytest.Incident,
	} {
		if alert.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, alert.Annotations[k], v)
		}
	}
	if d := alert.Annotations["description"]; !strings.Contains(d, "[CRITICAL] tool.description tool search_issues") {
		t.Errorf("description lacks the critical change:\n%s", d)
	}
	// Firing until now + resolve_timeout (49h by default), so a daemon
	// that dies leaves an alert that expires by itself.
	wantEnd := time.Now().Add(config.DefaultResolveTimeout(config.DefaultRepeatInterval))
	if d := alert.EndsAt.Sub(wantEnd); d < -time.Minute || d > time.Minute {
		t.Errorf("endsAt = %s, want about %s", alert.EndsAt, wantEnd)
	}

	id := am.silence(t, "server", "github")
	am.waitFor(t, "the alert suppressed by the silence", func(as []gettable) bool {
		f := find(as, want)
		return len(f) == 1 && f[0].Status.State == "suppressed" && len(f[0].Status.SilencedBy) == 1 && f[0].Status.SilencedBy[0] == id
	})

	// A reminder updates the same alert (same labels), not a second one.
	r := notifytest.Reminder(1)
	r.FirstSeen = a.FirstSeen
	if _, err := n.Notify(ctx, r); err != nil {
		t.Fatal(err)
	}
	if f := find(am.alerts(t), map[string]string{"alertname": "MCPDriftDrift"}); len(f) != 1 {
		t.Errorf("after a reminder: %d drift alerts, want 1", len(f))
	}

	res := notifytest.Resolved()
	res.FirstSeen, res.At = a.FirstSeen, time.Now()
	if _, err := n.Notify(ctx, res); err != nil {
		t.Fatal(err)
	}
	am.waitFor(t, "the alert resolved", func(as []gettable) bool { return len(find(as, map[string]string{"server": "github"})) == 0 })
}

// TestRealAlertmanagerSeverityChange: the server changes again while the
// drift is open and its severity drops; the alert under the old severity
// label ends at once instead of lingering until it expires.
func TestRealAlertmanagerSeverityChange(t *testing.T) {
	am := startAlertmanager(t)
	threads := &notifytest.Threads{}
	n := newNotifier(t, config.Notifier{URL: config.NewSecret(am.url)}, threads, nil)
	ctx := context.Background()

	if _, err := n.Notify(ctx, notifytest.RichDrift()); err != nil {
		t.Fatal(err)
	}
	again := notifytest.ChangedAgain()
	again.Severity = severity.Medium
	if _, err := n.Notify(ctx, again); err != nil {
		t.Fatal(err)
	}
	drift := map[string]string{"alertname": "MCPDriftDrift", "server": "github"}
	got := am.waitFor(t, "one drift alert, of medium severity", func(as []gettable) bool {
		f := find(as, drift)
		return len(f) == 1 && f[0].Labels["severity"] == "medium"
	})
	if f := find(got, drift); f[0].Annotations["summary"] == "" {
		t.Error("no summary")
	}
	if v, _, _ := threads.Thread("pager", "severity/MCPDriftDrift/github"); v != "medium" {
		t.Errorf("stored severity = %q, want medium", v)
	}

	res := notifytest.Resolved()
	res.Severity = severity.Medium
	if _, err := n.Notify(ctx, res); err != nil {
		t.Fatal(err)
	}
	am.waitFor(t, "no drift alert", func(as []gettable) bool { return len(find(as, drift)) == 0 })
	if v, _, _ := threads.Thread("pager", "severity/MCPDriftDrift/github"); v != "" {
		t.Errorf("stored severity after the resolution = %q, want none", v)
	}
}

// TestRealAlertmanagerUnreachableInhibitsDrift: an unreachable alert has
// its own alertname; with the inhibit rule of docs/notifiers.md it mutes
// the same server's drift alert until the server recovers.
func TestRealAlertmanagerUnreachableInhibitsDrift(t *testing.T) {
	am := startAlertmanager(t)
	n := newNotifier(t, config.Notifier{URL: config.NewSecret(am.url)}, &notifytest.Threads{}, nil)
	ctx := context.Background()

	d := notifytest.RichDrift()
	d.Server, d.Report.Server = "files", "files"
	for _, a := range []*notifiers.Alert{d, notifytest.Unreachable()} {
		if _, err := n.Notify(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	unreachable := map[string]string{"alertname": "MCPDriftUnreachable", "server": "files", "kind": "unreachable", "severity": "high"}
	drift := map[string]string{"alertname": "MCPDriftDrift", "server": "files"}
	am.waitFor(t, "the drift alert inhibited by the unreachable one", func(as []gettable) bool {
		u, dr := find(as, unreachable), find(as, drift)
		return len(u) == 1 && u[0].Status.State == "active" &&
			len(dr) == 1 && dr[0].Status.State == "suppressed" && len(dr[0].Status.InhibitedBy) == 1 && dr[0].Status.InhibitedBy[0] == u[0].Fingerprint
	})

	recovered := notifytest.Unreachable()
	recovered.Kind, recovered.Resolves, recovered.Reason = notifiers.KindResolved, notifiers.KindUnreachable, "server recovered after 3 failed checks"
	recovered.At = time.Now()
	if _, err := n.Notify(ctx, recovered); err != nil {
		t.Fatal(err)
	}
	am.waitFor(t, "the drift alert active again", func(as []gettable) bool {
		dr := find(as, drift)
		return len(find(as, unreachable)) == 0 && len(dr) == 1 && dr[0].Status.State == "active"
	})
}

// TestRealAlertmanagerTestAlert: `mcpdrift notify test` posts an alert of
// its own name that ends by itself within TestTimeout.
func TestRealAlertmanagerTestAlert(t *testing.T) {
	am := startAlertmanager(t)
	n := newNotifier(t, config.Notifier{URL: config.NewSecret(am.url)}, nil, nil)
	a := notifytest.Test()
	a.At = time.Now()
	if _, err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	got := am.waitFor(t, "the test alert", func(as []gettable) bool {
		return len(find(as, map[string]string{"alertname": "MCPDriftTest", "kind": "test", "severity": "info"})) == 1
	})
	if end := got[0].EndsAt; end.After(time.Now().Add(TestTimeout)) || end.Before(time.Now()) {
		t.Errorf("test alert ends at %s, want within %s", end, TestTimeout)
	}
}

// TestRealAlertmanagerHAPair: with two URLs, one down, the alert still
// reaches the live instance and the failure is logged, not returned.
func TestRealAlertmanagerHAPair(t *testing.T) {
	am := startAlertmanager(t)
	var logs bytes.Buffer
	n := newNotifier(t, config.Notifier{URL: config.NewSecret(notifytest.ClosedURL(t) + notifytest.CanaryWebhookPath + " " + am.url + "/")}, nil, &logs)
	if retry, err := n.Notify(context.Background(), notifytest.RichDrift()); err != nil {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	am.waitFor(t, "the alert on the live instance", func(as []gettable) bool {
		return len(find(as, map[string]string{"server": "github"})) == 1
	})
	if !strings.Contains(logs.String(), "an Alertmanager instance failed") || !strings.Contains(logs.String(), "[REDACTED]") {
		t.Errorf("the failed instance is not logged:\n%s", logs.String())
	}
	notifytest.NoCanary(t, "logs", logs.String())
}

// --- the request, on a local receiver --------------------------------------

func newReceiver(t *testing.T, reply func(http.ResponseWriter)) (*notifytest.Receiver, string) {
	t.Helper()
	rc := notifytest.NewReceiver(t, reply)
	return rc, rc.URL
}

func decode(t *testing.T, body []byte) []PostableAlert {
	t.Helper()
	var out []PostableAlert
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("body is not a list of alerts: %v\n%s", err, body)
	}
	return out
}

// TestRequest checks the request itself with a fixed clock: the path, the
// auth header, startsAt/endsAt of firing and resolved alerts, generatorURL.
func TestRequest(t *testing.T) {
	rc, url := newReceiver(t, nil)
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/pw", []byte(notifytest.CanaryPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n := newNotifier(t, config.Notifier{
		URL: config.NewSecret(url + "/alertmanager/"), Username: "mcpdrift", Password: config.NewSecretFile(dir + "/pw"),
		Instance: "prod-1", ResolveTimeout: 30 * time.Hour, GeneratorURL: "https://grafana.example.com/d/mcpdrift",
	}, nil, nil)
	n.opts.Now = func() time.Time { return notifytest.Now.Add(time.Hour) }

	if _, err := n.Notify(context.Background(), notifytest.RichDrift()); err != nil {
		t.Fatal(err)
	}
	res := notifytest.Resolved() // At is 26h after Now: later than the clock
	if _, err := n.Notify(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	reqs := rc.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	for _, r := range reqs {
		if r.Path != "/alertmanager/api/v2/alerts" {
			t.Errorf("path = %q", r.Path)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte("mcpdrift:"+notifytest.CanaryPassword))
		if r.Header.Get("Authorization") != want || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers = %v", r.Header)
		}
	}
	firing, resolved := decode(t, reqs[0].Body), decode(t, reqs[1].Body)
	if len(firing) != 1 || len(resolved) != 1 {
		t.Fatalf("alerts per request: %d, %d; want 1, 1", len(firing), len(resolved))
	}
	f, r := firing[0], resolved[0]
	if !f.StartsAt.Equal(notifytest.Now) || !f.EndsAt.Equal(notifytest.Now.Add(31*time.Hour)) {
		t.Errorf("firing startsAt %s endsAt %s; want the first sighting and the clock + 30h", f.StartsAt, f.EndsAt)
	}
	if !r.StartsAt.Equal(notifytest.Now) || !r.EndsAt.Equal(notifytest.Now.Add(time.Hour)) {
		t.Errorf("resolved startsAt %s endsAt %s; want endsAt = now, never in the future", r.StartsAt, r.EndsAt)
	}
	if fmt.Sprint(f.Labels) != fmt.Sprint(r.Labels) {
		t.Errorf("resolved labels %v differ from firing %v", r.Labels, f.Labels)
	}
	if f.Labels["instance"] != "prod-1" || f.GeneratorURL != "https://grafana.example.com/d/mcpdrift" {
		t.Errorf("instance %q generatorURL %q", f.Labels["instance"], f.GeneratorURL)
	}
	if r.Annotations["summary"] != "Resolved: drift on github" || !strings.Contains(r.Annotations["description"], "approved by alice") {
		t.Errorf("resolved annotations = %v", r.Annotations)
	}
}

func TestBearerToken(t *testing.T) {
	rc, url := newReceiver(t, nil)
	n := newNotifier(t, config.Notifier{URL: config.NewSecret(url), BearerToken: config.NewSecret(notifytest.CanaryToken)}, nil, nil)
	if _, err := n.Notify(context.Background(), notifytest.Unreachable()); err != nil {
		t.Fatal(err)
	}
	if got := rc.Requests()[0].Header.Get("Authorization"); got != "Bearer "+notifytest.CanaryToken {
		t.Errorf("Authorization = %q", got)
	}
}

// TestHostileTextInert: server text reaches annotations through the
// plain-text neutralising every channel shares.
func TestHostileTextInert(t *testing.T) {
	for _, kind := range []string{notifiers.KindDrift, notifiers.KindResolved, notifiers.KindUnreachable} {
		t.Run(kind, func(t *testing.T) {
			rc, url := newReceiver(t, nil)
			n := newNotifier(t, config.Notifier{URL: config.NewSecret(url)}, nil, nil)
			a := notifytest.InjectionAlert(kind)
			a.Server = "github" // config-validated: a label value as it is
			if _, err := n.Notify(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			alerts := decode(t, rc.Requests()[0].Body)
			var all []string
			for _, v := range alerts[0].Annotations {
				all = append(all, v)
			}
			for _, problem := range notifytest.Forbidden(strings.Join(all, "\n"), false) {
				t.Error(problem)
			}
			if d := alerts[0].Annotations["description"]; len(d) > maxDescriptionBytes+2*maxLineBytes {
				t.Errorf("description of %d bytes", len(d))
			}
		})
	}
}

// TestDescriptionBudget: 2,000 changes fit in the description, most
// severe first, with a note of how many were left out.
func TestDescriptionBudget(t *testing.T) {
	d := description(notifytest.Huge(2000), "pager")
	if len(d) > maxDescriptionBytes {
		t.Errorf("description of %d bytes, over %d", len(d), maxDescriptionBytes)
	}
	lines := strings.Split(d, "\n")
	shown := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "[") {
			shown++
			if !strings.HasPrefix(l, "[CRITICAL]") {
				t.Errorf("a less severe change is shown while critical ones are left out: %q", l)
			}
		}
	}
	want := fmt.Sprintf("%d more changes: run mcpdrift diff github to see them all.", 2000-shown)
	if last := lines[len(lines)-1]; shown == 0 || last != want {
		t.Errorf("last line %q, want %q (%d shown)", last, want, shown)
	}
}

func TestRetryClassification(t *testing.T) {
	status := notifytest.Reply
	tests := []struct {
		name      string
		reply     func(http.ResponseWriter) // nil: connection refused
		wantRetry bool
		wantAfter time.Duration
		wantInErr string
	}{
		{"400 invalid alert", status(400, "", `"start time must be before end time"`), false, 0, "rejected (HTTP 400)"},
		{"401", status(401, "", "Unauthorized"), false, 0, "HTTP 401"},
		{"429", status(429, "Retry-After: 5", ""), true, 5 * time.Second, "HTTP 429"},
		{"500", status(500, "", ""), true, 0, "HTTP 500"},
		{"503 not ready", status(503, "", ""), true, 0, "HTTP 503"},
		{"refused", nil, true, 0, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := notifytest.ClosedURL(t)
			if tt.reply != nil {
				_, url = newReceiver(t, tt.reply)
			}
			var logs bytes.Buffer
			n := newNotifier(t, config.Notifier{URL: config.NewSecret(url + notifytest.CanaryWebhookPath), BearerToken: config.NewSecret(notifytest.CanaryToken)}, nil, &logs)
			n.opts.Now = func() time.Time { return notifytest.Now }
			retry, err := n.Notify(context.Background(), notifytest.RichDrift())
			notifytest.Failed(t, retry, err, tt.wantRetry, tt.wantAfter)
			if !strings.Contains(err.Error(), tt.wantInErr) || !strings.Contains(err.Error(), "alertmanager notifier pager: http://127.0.0.1:") {
				t.Errorf("error %q lacks %q or the redacted URL", err, tt.wantInErr)
			}
			notifytest.NoCanary(t, "error", fmt.Sprintf("%v %+v %#v", err, err, err))
			for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
				notifytest.NoCanary(t, "wrapped error", e.Error())
			}
			notifytest.NoCanary(t, "logs", logs.String())
		})
	}
}

// TestAllInstancesDown: with every instance down the delivery is
// retryable and the error names each, redacted.
func TestAllInstancesDown(t *testing.T) {
	n := newNotifier(t, config.Notifier{URL: config.NewSecret(notifytest.ClosedURL(t) + notifytest.CanaryWebhookPath + "\n" + notifytest.ClosedURL(t))}, nil, nil)
	retry, err := n.Notify(context.Background(), notifytest.RichDrift())
	notifytest.Failed(t, retry, err, true, 0)
	if c := strings.Count(err.Error(), "connection refused"); c != 2 {
		t.Errorf("error names %d failures, want 2: %v", c, err)
	}
	notifytest.NoCanary(t, "error", err.Error())
}

func TestSecretFileReadAtSend(t *testing.T) {
	rc, url := newReceiver(t, nil)
	path := t.TempDir() + "/url"
	n := newNotifier(t, config.Notifier{URL: config.NewSecretFile(path)}, nil, nil)
	notifytest.SecretFileReadAtSend(t, n, path, url, rc)
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Notifier
		host func() (string, error)
		want string
	}{
		{"wrong type", config.Notifier{Name: "x", Type: "teams"}, nil, "not alertmanager"},
		{"no url", config.Notifier{Name: "x", Type: "alertmanager"}, nil, "url is required"},
		{"token and password", config.Notifier{Name: "x", Type: "alertmanager", URL: config.NewSecret("http://am"),
			BearerToken: config.NewSecret("t"), Username: "u"}, nil, "bearer_token cannot be used"},
		{"no host name", config.Notifier{Name: "x", Type: "alertmanager", URL: config.NewSecret("http://am")},
			func() (string, error) { return "", errors.New("uts namespace") }, "set instance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, Options{Hostname: tt.host})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"http://am:9093":                    "http://am:9093/api/v2/alerts",
		"http://am:9093/":                   "http://am:9093/api/v2/alerts",
		"https://h/alertmanager":            "https://h/alertmanager/api/v2/alerts",
		"http://am:9093/api/v2/alerts":      "http://am:9093/api/v2/alerts",
		"http://am:9093/api/v2/alerts/?x=1": "http://am:9093/api/v2/alerts/?x=1",
	} {
		if got := endpoint(in); got != want {
			t.Errorf("endpoint(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUpgradeRugPullFirst: the description annotation of a real
// 148-change upgrade names the poisoned description first.
func TestUpgradeRugPullFirst(t *testing.T) {
	d := description(notifytest.Upgrade(t), "pager")
	notifytest.Golden(t, "upgrade.description.golden", []byte(d))
	notifytest.RugPullFirst(t, d)
}
