package cli

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A server, snapshot or tool that does not exist is a usage error (exit
// 2, not 4), with a suggestion when one is close.
func TestNotFoundIsUsageWithSuggestions(t *testing.T) {
	env, _, pending := drifted(t)
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"server", []string{"diff", "liv"}, []string{`unknown server "liv" (did you mean live?)`}},
		{"server in check", []string{"check", "lve"}, []string{"did you mean live?"}},
		{"snapshot id", []string{"show", "live", "--snapshot", "0123456789abcdef"}, []string{"no snapshot or baseline with that id", "mcpdrift history live"}},
		{"approve snapshot id", []string{"approve", "live", "--snapshot", "0123456789abcdef"}, []string{"no snapshot or baseline with that id"}},
		{"tool", []string{"approve", "live", "--snapshot", pending.Snapshot.ID, "--tool", "serch"}, []string{"serch (did you mean search?) in neither the snapshot nor the baseline"}},
		{"entity kind", []string{"approve", "live", "--snapshot", pending.Snapshot.ID, "--entity", "promt:x"}, []string{"want KIND:NAME", "did you mean prompt?"}},
		{"entity", []string{"approve", "live", "--snapshot", pending.Snapshot.ID, "--entity", "prompt:x"}, []string{"prompt:x in neither the snapshot nor the baseline"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, run(t, env, tt.args...), ExitUsage, "", tt.want...)
		})
	}
}

func TestSummaryFlags(t *testing.T) {
	env, _, _ := drifted(t)
	r := run(t, env, "diff", "live", "--summary")
	expect(t, r, ExitDrift, "riskiest:")
	expect(t, run(t, env, "diff", "live", "--summary", "--format", "json"), ExitUsage, "", "--format text only")
	expect(t, run(t, env, "check", "--summary", "--full"), ExitUsage, "", "exclude each other")
}

// history is strictly newest first, a run of identical snapshots is not
// folded across an approval, and snapshot lines name the server's own
// serverInfo, not mcpdrift's client identity.
func TestHistoryNewestFirstWithServerInfo(t *testing.T) {
	env, _, pending := drifted(t)
	run(t, env, "check") // the same drifted snapshot again: folded
	expect(t, run(t, env, "approve", "live", "--snapshot", pending.Snapshot.ID), 0, "")
	run(t, env, "check") // the same snapshot, now after the approval
	r := run(t, env, "history", "live", "--format", "json")
	var h struct {
		History []struct {
			Type       string    `json:"type"`
			At         time.Time `json:"at"`
			Until      time.Time `json:"until"`
			Count      int       `json:"count"`
			ServerName string    `json:"server_name"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &h); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	var types []string
	last := time.Time{}
	for i, e := range h.History {
		types = append(types, e.Type)
		placed := e.At
		if e.Until.After(placed) {
			placed = e.Until
		}
		if i > 0 && placed.After(last) {
			t.Errorf("entry %d (%s at %s) is newer than the one before it (%s)", i, e.Type, placed, last)
		}
		last = e.At
		if e.Type == "snapshot" && e.ServerName != "live" {
			t.Errorf("snapshot entry %d: server_name %q, want the server's serverInfo name", i, e.ServerName)
		}
	}
	// Newest first: the check after the approval, the approval, the two
	// drifted checks folded, trust on first use, the first snapshot.
	if want := "snapshot approval snapshot approval snapshot"; strings.Join(types, " ") != want {
		t.Fatalf("history types %q, want %q", strings.Join(types, " "), want)
	}
	if h.History[0].Count != 1 || h.History[2].Count != 2 {
		t.Errorf("runs: %d after the approval, %d before it; want 1 and 2", h.History[0].Count, h.History[2].Count)
	}
	text := run(t, env, "history", "live")
	if !strings.Contains(text.stdout, "(live ") || strings.Contains(text.stdout, "mcpdrift/") {
		t.Errorf("text history does not name the server's serverInfo:\n%s", text.stdout)
	}
}
