package log

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/config"
	"github.com/mcpdrift/mcpdrift/notifiers"
	"github.com/mcpdrift/mcpdrift/notifiers/internal/notifytest"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
)

func newJSON(t *testing.T) (*Notifier, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	n, err := New(config.Notifier{Name: "audit", Type: config.NotifierLog}, slog.New(slog.NewJSONHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return n, &buf
}

func TestOneLinePerAlert(t *testing.T) {
	tests := []struct {
		name  string
		alert *notifiers.Alert
		want  map[string]any
	}{
		{"drift", notifytest.RichDrift(), map[string]any{
			"level": "WARN", "msg": "mcpdrift alert", "component": "notifier", "notifier": "audit",
			"kind": "drift", "server": "github", "severity": "critical", "incident": notifytest.Incident,
			"changes": 4.0, "snapshot": notifytest.SnapshotID, "baseline": notifytest.BaselineID, "findings": 1.0,
		}},
		{"reminder", notifytest.Reminder(3), map[string]any{"reminder": 3.0, "level": "WARN"}},
		{"resolved", notifytest.Resolved(), map[string]any{"level": "INFO", "kind": "resolved", "resolves": "drift"}},
		{"unreachable", notifytest.Unreachable(), map[string]any{"level": "WARN", "kind": "unreachable", "server": "files", "changes": 0.0, "snapshot": ""}},
		{"test", notifytest.Test(), map[string]any{"level": "INFO", "msg": "mcpdrift test message — no action needed", "kind": "test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, buf := newJSON(t)
			retry, err := n.Notify(context.Background(), tt.alert)
			if err != nil || retry {
				t.Fatalf("Notify = %v, %v; the log notifier never fails", retry, err)
			}
			if lines := strings.Count(buf.String(), "\n"); lines != 1 {
				t.Fatalf("%d lines, want 1:\n%s", lines, buf)
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func TestCancelledContextStillLogs(t *testing.T) {
	n, buf := newJSON(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Notify(ctx, notifytest.RichDrift()); err != nil || buf.Len() == 0 {
		t.Errorf("err %v, logged %q", err, buf)
	}
}

func TestInjectionInert(t *testing.T) {
	var buf bytes.Buffer
	n, err := New(config.Notifier{Name: "audit", Type: config.NotifierLog}, slog.New(slog.NewTextHandler(&buf, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a := notifytest.InjectionAlert(notifiers.KindDrift)
	a.Server = notifytest.Hostile()
	a.Incident = notifytest.Hostile()
	a.Report.Changes[0].Diff = "DIFF-MARKER"
	a.Report.Changes[0].Summary = "SUMMARY-MARKER"
	if _, err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, p := range notifytest.Inert(out, false) {
		t.Error(p)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("hostile text broke the line:\n%s", out)
	}
	// Descriptions and diffs are never logged.
	if strings.Contains(out, "DIFF-MARKER") || strings.Contains(out, "SUMMARY-MARKER") {
		t.Error("a diff or summary reached the log")
	}
}

func TestNewRejectsOtherTypes(t *testing.T) {
	if _, err := New(config.Notifier{Name: "x", Type: "slack"}, nil); err == nil {
		t.Error("New accepted a slack config")
	}
}

// TestFallbackEscapesServerText: the daemon's stand-in for a notifier of
// any type is this notifier, so a server name carrying control characters
// or an ANSI sequence reaches its log line escaped (render.Line), as from a
// configured log notifier (the monitor's own fallback used to log it raw).
func TestFallbackEscapesServerText(t *testing.T) {
	var buf bytes.Buffer
	n := Fallback("slack", slog.New(slog.NewJSONHandler(&buf, nil)))
	a := notifytest.RichDrift()
	a.Server = "evil\x1b[31m\nforged=line\u202e"
	if _, err := n.Notify(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["server"] != render.Line(a.Server) || got["server"] == a.Server || got["notifier"] != "slack" {
		t.Fatalf("server %q notifier %v, want %q from slack", got["server"], got["notifier"], render.Line(a.Server))
	}
}
