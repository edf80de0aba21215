package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestNotifyTest(t *testing.T) {
	const canary = "canary-hook-secret-9191"
	var mu sync.Mutex
	var bodies []string
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer ok.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer broken.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, "storage: {path: "+filepath.Join(dir, "db")+"}\nservers:\n  - {name: s, url: http://127.0.0.1:1/mcp}\nnotifiers:\n"+
		"  - {name: good, type: webhook, url: \""+ok.URL+"/hook\", secret: \"${SECRET}\"}\n"+
		"  - {name: bad, type: webhook, url: \""+broken.URL+"/hook?token="+canary+"\"}\n"+
		"  - {name: audit, type: log}\n")
	env := map[string]string{"MCPDRIFT_CONFIG": cfg, "SECRET": canary}

	r := run(t, env, "notify", "test")
	if r.code != ExitDrift {
		t.Fatalf("want exit 1 with a failing notifier: %+v", r)
	}
	for _, want := range []string{"ok    good (webhook)", "ok    audit (log)", "FAIL  bad (webhook): retryable error", "1 of 3 notifiers failed"} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("output lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	if strings.Contains(r.stdout+r.stderr, canary) {
		t.Fatalf("secret leaked: %s%s", r.stdout, r.stderr)
	}
	mu.Lock()
	got := strings.Join(bodies, "\n")
	mu.Unlock()
	if !strings.Contains(got, `"kind":"test"`) {
		t.Errorf("receiver did not get a test alert: %s", got)
	}

	if r := run(t, env, "notify", "test", "good"); r.code != 0 || strings.Contains(r.stdout, "bad") {
		t.Fatalf("one notifier: %+v", r)
	}
	if r := run(t, env, "notify", "test", "nope"); r.code != ExitUsage || !strings.Contains(r.stderr, `unknown notifier "nope"`) {
		t.Fatalf("unknown notifier: %+v", r)
	}
}
