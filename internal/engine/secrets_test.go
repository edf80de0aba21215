package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/internal/engine"
	"github.com/mcpdrift/mcpdrift/internal/mcptest"
	"github.com/mcpdrift/mcpdrift/internal/redact"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/store"
)

// TestFailuresAreRedactedBeforeStored checks servers that leak their own
// secrets, another server's and a notifier's: the report, the stored
// failure record (what status and notifications show), the engine's log
// and the raw bytes of the database file hold none of them, and the report
// names the key each came from.
func TestFailuresAreRedactedBeforeStored(t *testing.T) {
	leak := mcptest.LeakyFleet(t)
	dbPath := filepath.Join(t.TempDir(), "mcpdrift.db")
	cfg, err := config.Parse("leaky.yaml", []byte("servers:\n"+leak.Servers+
		"notifiers:\n  - {name: siem, type: webhook, url: \"https://siem.example/hook\", secret: "+leak.NotifierSecret+"}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	eng := engine.New(db, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	eng.Secrets = redact.NewLive(cfg.Redactor())
	eng.Limit = engine.NewLimiter(2)
	rep := eng.Check(context.Background(), []*config.Server{&cfg.Servers[0], &cfg.Servers[1]}, engine.Options{})

	wantShown := map[string][]string{
		"leaky": {"[REDACTED:env.API_KEY]", "[REDACTED:env.FILE_KEY]", "[REDACTED:servers.other.env.TOKEN]", "[REDACTED:notifiers.siem.secret]"},
		"echo":  {"[REDACTED:headers.Authorization]", "[REDACTED:url.query]"},
	}
	var stored strings.Builder
	for _, rs := range rep.Servers {
		if rs.Status != report.StatusError {
			t.Fatalf("%s: status %s, want error", rs.Server, rs.Status)
		}
		leak.Check(t, rs.Server+"'s report", rs.Error)
		for _, w := range wantShown[rs.Server] {
			if !strings.Contains(rs.Error, w) {
				t.Errorf("%s: the error does not show %s, so the leak never reached it: %s", rs.Server, w, rs.Error)
			}
		}
		obs, err := db.LastError(rs.Server)
		if err != nil {
			t.Fatal(err)
		}
		if obs.Error != rs.Error {
			t.Errorf("%s: stored %q, reported %q", rs.Server, obs.Error, rs.Error)
		}
		stored.WriteString(obs.Error)
	}
	leak.Check(t, "the stored failures", stored.String())
	leak.Check(t, "the engine log", logs.String())
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("[REDACTED:env.API_KEY]")) {
		t.Fatal("the failure record is not in the file as plain bytes; this check would prove nothing")
	}
	leak.Check(t, "the database file", string(raw))
}
