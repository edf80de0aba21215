package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/notifytest"
)

type received struct {
	method string
	path   string
	header http.Header
	body   []byte
}

type receiver struct {
	mu    sync.Mutex
	got   []received
	reply func(w http.ResponseWriter)
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, received{r.Method, r.URL.RequestURI(), r.Header.Clone(), body})
	rc.mu.Unlock()
	if rc.reply != nil {
		rc.reply(w)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

const hookPath = "/hook/CANARYslackhookpath?token=" + notifytest.CanaryHeader

func serve(t *testing.T, reply func(http.ResponseWriter)) (*receiver, string) {
	t.Helper()
	rc := &receiver{reply: reply}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return rc, srv.URL + hookPath
}

func newNotifier(t *testing.T, url string, withSecret bool, logs io.Writer) *Notifier {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	cfg := config.Notifier{
		Name: "siem", Type: config.NotifierWebhook, URL: config.NewSecret(url),
		Headers: map[string]config.Secret{"X-Api-Key": config.NewSecret(notifytest.CanaryHeader)},
	}
	if withSecret {
		cfg.Secret = config.NewSecret(notifytest.CanaryHMAC)
	}
	n, err := New(cfg, Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    func() time.Time { return notifytest.Now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPostsSignedJSON(t *testing.T) {
	rc, url := serve(t, nil)
	n := newNotifier(t, url, true, nil)
	a := notifytest.RichDrift()
	if retry, err := n.Notify(context.Background(), a); err != nil || retry {
		t.Fatalf("Notify = %v, %v", retry, err)
	}
	got := rc.all()
	if len(got) != 1 {
		t.Fatalf("got %d requests, want 1", len(got))
	}
	r := got[0]
	if r.method != http.MethodPost || r.path != hookPath {
		t.Errorf("request = %s %s", r.method, r.path)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	if v := r.header.Get("X-Api-Key"); v != notifytest.CanaryHeader {
		t.Errorf("configured header X-Api-Key = %q", v)
	}
	if !strings.HasPrefix(r.header.Get("User-Agent"), "mcpdrift/") {
		t.Errorf("User-Agent = %q", r.header.Get("User-Agent"))
	}
	ts := r.header.Get(HeaderTimestamp)
	if ts != strconv.FormatInt(notifytest.Now.Unix(), 10) {
		t.Errorf("timestamp = %q", ts)
	}
	// Recompute the signature independently of Sign.
	mac := hmac.New(sha256.New, []byte(notifytest.CanaryHMAC))
	mac.Write([]byte(ts + "." + string(r.body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if sig := r.header.Get(HeaderSignature); sig != want {
		t.Errorf("signature = %q, want %q", sig, want)
	}
	if !Verify([]byte(notifytest.CanaryHMAC), ts, r.body, want) || Verify([]byte("other"), ts, r.body, want) ||
		Verify([]byte(notifytest.CanaryHMAC), ts, append(r.body, ' '), want) {
		t.Error("Verify does not tell good signatures from bad ones")
	}

	var p struct {
		Version int                        `json:"version"`
		Alert   map[string]json.RawMessage `json:"alert"`
		Report  map[string]json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 {
		t.Errorf("version = %d", p.Version)
	}
	wantAlert := map[string]string{
		"incident": `"` + notifytest.Incident + `"`, "kind": `"drift"`, "resolves": `""`, "reminder": `0`,
		"server": `"github"`, "severity": `"critical"`, "reason": `""`,
		"at": `"2026-11-23T09:00:00Z"`, "first_seen": `"2026-11-23T09:00:00Z"`,
	}
	for k, v := range wantAlert {
		if string(p.Alert[k]) != v {
			t.Errorf("alert.%s = %s, want %s", k, p.Alert[k], v)
		}
	}
	if len(p.Alert) != len(wantAlert) {
		t.Errorf("alert has keys %v", p.Alert)
	}
	for _, k := range []string{"server", "status", "severity", "baseline", "snapshot", "changes", "findings"} {
		if _, ok := p.Report[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, r.body, "", "  "); err != nil {
		t.Fatal(err)
	}
	notifytest.Golden(t, "drift.json.golden", pretty.Bytes())
}

func TestUnsignedWithoutSecret(t *testing.T) {
	rc, url := serve(t, nil)
	n := newNotifier(t, url, false, nil)
	if _, err := n.Notify(context.Background(), notifytest.Test()); err != nil {
		t.Fatal(err)
	}
	h := rc.all()[0].header
	if h.Get(HeaderSignature) != "" || h.Get(HeaderTimestamp) != "" {
		t.Errorf("unsigned request carries %q %q", h.Get(HeaderSignature), h.Get(HeaderTimestamp))
	}
}

func TestBodyKeepsEmptyArrays(t *testing.T) {
	body, err := Body(notifytest.Test())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"changes":[]`, `"findings":[]`, `"resolves":""`, `"reminder":0`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("body lacks %s: %s", want, body)
		}
	}
}

func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + hookPath
}

func TestFaultClassification(t *testing.T) {
	status := func(code int, retryAfter string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			if code/100 == 3 {
				w.Header().Set("Location", "https://elsewhere.example/")
			}
			w.WriteHeader(code)
			fmt.Fprintf(w, "status %d", code)
		}
	}
	tests := []struct {
		name      string
		reply     func(http.ResponseWriter) // nil: connection refused
		wantRetry bool
		wantAfter time.Duration
		wantInErr string
	}{
		{"500", status(500, ""), true, 0, "server error (HTTP 500): status 500"},
		{"503", status(503, ""), true, 0, "HTTP 503"},
		{"429", status(429, "7"), true, 7 * time.Second, "rate limited (HTTP 429)"},
		{"429 without Retry-After", status(429, ""), true, 0, "HTTP 429"},
		{"400", status(400, ""), false, 0, "rejected (HTTP 400)"},
		{"401", status(401, ""), false, 0, "rejected (HTTP 401)"},
		{"408", status(408, ""), true, 0, "HTTP 408"},
		{"307 not followed", status(307, ""), false, 0, "redirect (HTTP 307)"},
		{"connection refused", nil, true, 0, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var url string
			if tt.reply == nil {
				url = closedURL(t)
			} else {
				_, url = serve(t, tt.reply)
			}
			var logs bytes.Buffer
			n := newNotifier(t, url, true, &logs)
			retry, err := n.Notify(context.Background(), notifytest.RichDrift())
			notifytest.Failed(t, retry, err, tt.wantRetry, tt.wantAfter)
			if !strings.Contains(err.Error(), tt.wantInErr) || !strings.Contains(err.Error(), "/[REDACTED]") {
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

func TestCanceledIsRetryable(t *testing.T) {
	_, url := serve(t, nil)
	n := newNotifier(t, url, true, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	retry, err := n.Notify(ctx, notifytest.RichDrift())
	if !retry || !errors.Is(err, context.Canceled) {
		t.Errorf("Notify = %v, %v; want retryable context.Canceled", retry, err)
	}
	notifytest.NoCanary(t, "error", err.Error())
}

func TestInjectionInert(t *testing.T) {
	for _, kind := range []string{notifiers.KindDrift, notifiers.KindResolved, notifiers.KindUnreachable} {
		t.Run(kind, func(t *testing.T) {
			rc, url := serve(t, nil)
			n := newNotifier(t, url, true, nil)
			a := notifytest.InjectionAlert(kind)
			if _, err := n.Notify(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			body := rc.all()[0].body
			// The bytes are inert: no markup, no raw invisible or control
			// characters...
			for _, bad := range []string{"<", ">", "\x1b", "\u202e", "\u200b", "\u200d", "\U000E0041", "\x00", "\r"} {
				if bytes.Contains(body, []byte(bad)) {
					t.Errorf("body contains raw %q", bad)
				}
			}
			for _, want := range []string{`\u003c!channel\u003e`, `\u202e`, `\u200b`, `\u001b`} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("body lacks the escaped form %s", want)
				}
			}
			// ...and the data is exact.
			var p Payload
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Alert.Reason != a.Reason || p.Report.Changes[0].Diff != a.Report.Changes[0].Diff || p.Alert.Server != a.Server {
				t.Error("the payload does not carry the alert's text exactly")
			}
			notifytest.NoCanary(t, "body", string(body))
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  config.Notifier
		want string
	}{
		{"wrong type", config.Notifier{Name: "x", Type: "slack"}, "not webhook"},
		{"no url", config.Notifier{Name: "x", Type: "webhook"}, "url is required"},
		{"reserved header", config.Notifier{Name: "x", Type: "webhook", URL: config.NewSecret("https://h/"),
			Headers: map[string]config.Secret{"x-mcpdrift-signature": config.NewSecret("v")}}, "set by mcpdrift"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestBadURLIsPermanentAndRedacted(t *testing.T) {
	n := newNotifier(t, "http://exa mple.com/CANARYslackhookpath", true, nil)
	retry, err := n.Notify(context.Background(), notifytest.Test())
	if err == nil || retry {
		t.Fatalf("Notify = %v, %v; want a permanent error", retry, err)
	}
	notifytest.NoCanary(t, "error", fmt.Sprintf("%v %+v", err, err))
}

func TestBodyDoesNotMutateTheAlert(t *testing.T) {
	a := notifytest.RichDrift()
	a.Report.Changes[0].Findings = nil
	if _, err := Body(a); err != nil {
		t.Fatal(err)
	}
	if a.Report.Changes[0].Findings != nil {
		t.Error("Body changed the alert, which other notifiers may be reading")
	}
}

// TestUpgradeRugPullFirst: the body of a real 148-change upgrade lists the
// poisoned description first, even when the report it is given is not in
// risk order.
func TestUpgradeRugPullFirst(t *testing.T) {
	a := notifytest.Upgrade(t)
	slices.Reverse(a.Report.Changes)
	b, err := Body(a)
	if err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	notifytest.Golden(t, "upgrade.json.golden", pretty.Bytes())
	notifytest.RugPullFirst(t, string(b))
}
