package logonce

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/syncbuf"
)

func TestErrorLogOnceThenRecovery(t *testing.T) {
	var buf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var el Log
	for range 3 {
		el.Fail(log, "snapshot failed", "connection refused")
	}
	el.Fail(log, "snapshot failed", "timeout")
	el.Recover(log, "server recovered")
	el.Recover(log, "server recovered")
	out := buf.String()
	if strings.Count(out, "connection refused") != 1 || strings.Count(out, "timeout") != 1 ||
		strings.Count(out, "server recovered") != 1 || !strings.Contains(out, "failures=4") {
		t.Errorf("log:\n%s", out)
	}
}
