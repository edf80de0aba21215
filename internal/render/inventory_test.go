package render

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/inventory"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// TestInventoryIsInert: a hostile tool name reaches no format raw, and
// findings are counted per tool, suppressed ones left out.
func TestInventoryIsInert(t *testing.T) {
	evil := "drop\u202e|`<b>`\x1b[31m_all"
	m, err := manifest.Build(manifest.Capture{Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {
		json.RawMessage(`{"tools":[{"name":` + mustJSON(t, evil) + `,"annotations":{"openWorldHint":false}},{"name":"get","annotations":{"readOnlyHint":true}}]}`),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	inv := inventory.Inventory{Servers: []inventory.Server{inventory.Build("s", "sha256:0123456789abcdef", m, []report.Finding{
		{Entity: "tool", Name: "get", Rule: "r"}, {Entity: "tool", Name: "get", Rule: "q", Suppressed: "fine"},
	})}}
	if got := inv.Servers[0].Tools; len(got) != 2 || got[0].Risk.String() != "destructive" || got[1].Name != "get" || got[1].Findings != 1 {
		t.Fatalf("tools %+v", got)
	}
	raw := regexp.MustCompile("[\u202e\x1b]")
	for _, format := range []string{"text", "json", "markdown"} {
		var b bytes.Buffer
		if err := Inventory(&b, &inv, format); err != nil {
			t.Fatal(err)
		}
		if raw.Match(b.Bytes()) {
			t.Errorf("%s: raw control characters:\n%s", format, b.String())
		}
		if format == "markdown" && (strings.Contains(b.String(), "<b>") || strings.Contains(b.String(), "drop\\u202e|")) {
			t.Errorf("markdown: unescaped markup:\n%s", b.String())
		}
	}
	if err := Inventory(&bytes.Buffer{}, &inv, "yaml"); err == nil {
		t.Error("unknown format accepted")
	}
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInventoryLabels: a tool is grouped by what it may do, with open
// world as a separate flag, so destructive tools with the default
// openWorldHint show as destructive.
func TestInventoryLabels(t *testing.T) {
	tests := []struct {
		annotations string
		risk        string
		openWorld   bool
		line        string
	}{
		{`"annotations":{"destructiveHint":true}`, "destructive", true, "open world"},
		{`"annotations":{}`, "destructive", true, "open world"},
		{`"annotations":{"openWorldHint":false}`, "destructive", false, ""},
		{`"annotations":{"destructiveHint":false}`, "writes", true, "open world"},
		{`"annotations":{"destructiveHint":false,"openWorldHint":false}`, "writes", false, ""},
		{`"annotations":{"readOnlyHint":true}`, "read-only", true, "open world"},
		{`"annotations":{"readOnlyHint":true,"openWorldHint":false}`, "read-only", false, ""},
		{`"description":"x"`, "unannotated", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.annotations, func(t *testing.T) {
			m, err := manifest.Build(manifest.Capture{Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {
				json.RawMessage(`{"tools":[{"name":"t",` + tt.annotations + `}]}`),
			}}})
			if err != nil {
				t.Fatal(err)
			}
			inv := inventory.Inventory{Servers: []inventory.Server{inventory.Build("s", "sha256:0123456789abcdef", m, nil)}}
			got := inv.Servers[0].Tools[0]
			if got.Risk.String() != tt.risk || got.OpenWorld != tt.openWorld {
				t.Fatalf("risk %s open world %v, want %s %v", got.Risk, got.OpenWorld, tt.risk, tt.openWorld)
			}
			var b bytes.Buffer
			if err := Inventory(&b, &inv, "text"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "\n  "+tt.risk+" (") {
				t.Errorf("no %s group:\n%s", tt.risk, b.String())
			}
			if has := strings.Contains(b.String(), "    t  open world"); has != (tt.line != "") {
				t.Errorf("open world note shown: %v, want %v:\n%s", has, tt.line != "", b.String())
			}
		})
	}
}
