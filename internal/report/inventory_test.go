package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
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
	inv := Inventory{Servers: []InventoryServer{BuildInventory("s", "sha256:0123456789abcdef", m, []Finding{
		{Entity: "tool", Name: "get", Rule: "r"}, {Entity: "tool", Name: "get", Rule: "q", Suppressed: "fine"},
	})}}
	if got := inv.Servers[0].Tools; len(got) != 2 || got[0].Risk.String() != "destructive" || got[1].Name != "get" || got[1].Findings != 1 {
		t.Fatalf("tools %+v", got)
	}
	raw := regexp.MustCompile("[\u202e\x1b]")
	for _, format := range []string{"text", "json", "markdown"} {
		var b bytes.Buffer
		if err := RenderInventory(&b, &inv, format); err != nil {
			t.Fatal(err)
		}
		if raw.Match(b.Bytes()) {
			t.Errorf("%s: raw control characters:\n%s", format, b.String())
		}
		if format == "markdown" && (strings.Contains(b.String(), "<b>") || strings.Contains(b.String(), "drop\\u202e|")) {
			t.Errorf("markdown: unescaped markup:\n%s", b.String())
		}
	}
	if err := RenderInventory(&bytes.Buffer{}, &inv, "yaml"); err == nil {
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
