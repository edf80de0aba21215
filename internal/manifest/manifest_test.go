package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func capture(init string, tools ...string) Capture {
	pages := make([]json.RawMessage, len(tools))
	for i, p := range tools {
		pages[i] = json.RawMessage(p)
	}
	return Capture{Init: json.RawMessage(init), Pages: map[Kind][]json.RawMessage{KindTool: pages}}
}

func mustBuild(t *testing.T, c Capture) *Manifest {
	t.Helper()
	m, err := Build(c)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return m
}

const initResult = `{"protocolVersion":"2025-06-18","serverInfo":{"name":"x","version":"1"},"capabilities":{"tools":{"listChanged":true}},"instructions":"hi"}`

func TestFingerprintStable(t *testing.T) {
	base := mustBuild(t, capture(initResult,
		`{"tools":[{"name":"a","description":"A","inputSchema":{"type":"object","required":["x","y"],"properties":{"x":{"type":"number","maximum":1}}}}],"nextCursor":"c1"}`,
		`{"tools":[{"name":"b","description":"B","inputSchema":{"type":"object"}}]}`))
	tests := []struct {
		name string
		c    Capture
	}{
		{"pages swapped and merged", capture(initResult,
			`{"tools":[{"name":"b","description":"B","inputSchema":{"type":"object"}},{"name":"a","description":"A","inputSchema":{"type":"object","required":["x","y"],"properties":{"x":{"type":"number","maximum":1}}}}]}`)},
		{"keys reordered", capture(`{"capabilities":{"tools":{"listChanged":true}},"instructions":"hi","serverInfo":{"version":"1","name":"x"},"protocolVersion":"2025-06-18"}`,
			`{"tools":[{"inputSchema":{"properties":{"x":{"maximum":1,"type":"number"}},"required":["x","y"],"type":"object"},"description":"A","name":"a"}]}`,
			`{"tools":[{"name":"b","inputSchema":{"type":"object"},"description":"B"}]}`)},
		{"number spelling", capture(initResult,
			`{"tools":[{"name":"a","description":"A","inputSchema":{"type":"object","required":["x","y"],"properties":{"x":{"type":"number","maximum":1.0}}}}]}`,
			`{"tools":[{"name":"b","description":"B","inputSchema":{"type":"object"}}]}`)},
		{"required reordered", capture(initResult,
			`{"tools":[{"name":"a","description":"A","inputSchema":{"type":"object","required":["y","x"],"properties":{"x":{"type":"number","maximum":1e0}}}}]}`,
			`{"tools":[{"name":"b","description":"B","inputSchema":{"type":"object"}}]}`)},
		{"volatile fields", capture(`{"protocolVersion":"2025-06-18","serverInfo":{"name":"x","version":"1"},"capabilities":{"tools":{"listChanged":true}},"instructions":"hi","_meta":{"t":1},"ttlMs":5}`,
			`{"tools":[{"name":"a","description":"A","inputSchema":{"type":"object","required":["x","y"],"properties":{"x":{"type":"number","maximum":1}}}}],"ttlMs":1000,"cacheScope":"user","_meta":{"x":1},"nextCursor":"zz"}`,
			`{"tools":[{"name":"b","description":"B","inputSchema":{"type":"object"}}]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustBuild(t, tt.c)
			if m.ID() != base.ID() {
				t.Errorf("id changed:\n got %s\nwant %s\n%s\n%s", m.ID(), base.ID(), m.Document(), base.Document())
			}
		})
	}
}

func TestFingerprintChanges(t *testing.T) {
	base := mustBuild(t, capture(initResult, `{"tools":[{"name":"a","description":"A","inputSchema":{"type":"object","enum":[1,2]}}]}`))
	tests := []struct {
		name string
		c    Capture
	}{
		{"description", capture(initResult, `{"tools":[{"name":"a","description":"A!","inputSchema":{"type":"object","enum":[1,2]}}]}`)},
		{"enum order is kept", capture(initResult, `{"tools":[{"name":"a","description":"A","inputSchema":{"type":"object","enum":[2,1]}}]}`)},
		{"unknown field kept", capture(initResult, `{"tools":[{"name":"a","description":"A","execution":{"taskSupport":"optional"},"inputSchema":{"type":"object","enum":[1,2]}}]}`)},
		{"hint spelled out", capture(initResult, `{"tools":[{"name":"a","description":"A","annotations":{"readOnlyHint":false},"inputSchema":{"type":"object","enum":[1,2]}}]}`)},
		{"instructions", capture(strings.Replace(initResult, `"hi"`, `"hi "`, 1), `{"tools":[{"name":"a","description":"A","inputSchema":{"type":"object","enum":[1,2]}}]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m := mustBuild(t, tt.c); m.ID() == base.ID() {
				t.Errorf("id did not change: %s", m.Document())
			}
		})
	}
}

func TestDocumentIsCanonicalAndParses(t *testing.T) {
	m := mustBuild(t, Capture{
		Init: json.RawMessage(initResult),
		Pages: map[Kind][]json.RawMessage{
			KindTool:             {json.RawMessage(`{"tools":[{"name":"z"},{"name":"a","x":1.50}]}`)},
			KindPrompt:           {json.RawMessage(`{"prompts":[{"name":"p","arguments":[{"name":"b"},{"name":"a"}]}]}`)},
			KindResource:         {json.RawMessage(`{"resources":[{"uri":"file:///b","name":"b"},{"uri":"file:///a","name":"a"}]}`)},
			KindResourceTemplate: {json.RawMessage(`{"resourceTemplates":[{"uriTemplate":"x://{id}","name":"t"}]}`)},
		},
	})
	doc := m.Document()
	canon, err := Canonicalize(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(canon) != string(doc) {
		t.Fatalf("document is not JCS:\n%s\n%s", doc, canon)
	}
	back, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != m.ID() {
		t.Fatalf("round trip changed id")
	}
	if got := m.Entities[KindResource][0].Key; got != "file:///a" {
		t.Errorf("resources not sorted by uri: first %q", got)
	}
	if got := m.Lookup(KindTool, "z"); len(got) != 1 || got[0].Key != "z" {
		t.Errorf("Lookup(z) = %v", got)
	}
	for _, k := range Kinds {
		if m.Count(k) == 0 {
			t.Errorf("no %s captured", k)
		}
	}
	if !strings.Contains(string(doc), `"x":1.5`) {
		t.Errorf("number not canonical in %s", doc)
	}
}

func TestBuildRejectsGarbage(t *testing.T) {
	tests := []struct {
		name string
		c    Capture
	}{
		{"init not json", Capture{Init: json.RawMessage(`{`)}},
		{"page not json", capture(initResult, `nope`)},
		{"tools not array", capture(initResult, `{"tools":{"name":"a"}}`)},
		{"tool not object", capture(initResult, `{"tools":["a"]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Build(tt.c); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestEffectiveHints(t *testing.T) {
	tests := []struct {
		name string
		tool string
		want Hints
	}{
		{"absent", `{"name":"a"}`, DefaultHints},
		{"spelled defaults", `{"annotations":{"readOnlyHint":false,"destructiveHint":true,"idempotentHint":false,"openWorldHint":true}}`, DefaultHints},
		{"read only", `{"annotations":{"readOnlyHint":true}}`, Hints{ReadOnly: true, Destructive: true, OpenWorld: true}},
		{"wrong type ignored", `{"annotations":{"destructiveHint":"no"}}`, DefaultHints},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EffectiveHints(json.RawMessage(tt.tool)); got != tt.want {
				t.Errorf("got %+v want %+v", got, tt.want)
			}
		})
	}
}

// synthTools returns a tools/list page with n realistic tools.
func synthTools(n int) json.RawMessage {
	tools := make([]map[string]any, n)
	for i := range tools {
		tools[i] = map[string]any{
			"name":        fmt.Sprintf("tool_%04d", i),
			"description": strings.Repeat("Searches the repository for issues matching a query. ", 4),
			"annotations": map[string]any{"readOnlyHint": i%2 == 0, "openWorldHint": true},
			"inputSchema": map[string]any{
				"type":     "object",
				"required": []string{"query", "repo"},
				"properties": map[string]any{
					"query": map[string]any{"type": "string", "description": "search terms", "maxLength": 256},
					"repo":  map[string]any{"type": "string", "pattern": "^[a-z]+/[a-z]+$"},
					"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
					"state": map[string]any{"type": "string", "enum": []string{"open", "closed", "all"}},
				},
				"additionalProperties": false,
			},
		}
	}
	b, _ := json.Marshal(map[string]any{"tools": tools})
	return b
}

func BenchmarkBuild500(b *testing.B) {
	c := Capture{Init: json.RawMessage(initResult), Pages: map[Kind][]json.RawMessage{KindTool: {synthTools(500)}}}
	b.ReportAllocs()
	b.SetBytes(int64(len(c.Pages[KindTool][0])))
	for b.Loop() {
		m, err := Build(c)
		if err != nil {
			b.Fatal(err)
		}
		_ = m.ID()
	}
}

func TestDiscoverAndInitializeAgree(t *testing.T) {
	tools := `{"tools":[{"name":"a"}]}`
	initialize := capture(`{"protocolVersion":"2025-11-25","serverInfo":{"name":"s","version":"1"},"capabilities":{"tools":{}},"instructions":"i"}`, tools)
	initialize.Protocol = "2025-11-25"
	discover := capture(`{"resultType":"complete","supportedVersions":["2026-07-28","2025-11-25"],"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"1"}},"capabilities":{"tools":{}},"instructions":"i","ttlMs":100}`, tools)
	discover.Protocol = "2025-11-25"
	a, b := mustBuild(t, initialize), mustBuild(t, discover)
	if a.ID() != b.ID() {
		t.Fatalf("handshakes differ:\n%s\n%s", a.Server, b.Server)
	}
	if !strings.Contains(string(b.Server), `"serverInfo":{"name":"s"`) {
		t.Errorf("serverInfo lost from discover: %s", b.Server)
	}
}

func TestBuildCachedMatchesBuild(t *testing.T) {
	var cache Cache
	caps := []Capture{
		capture(initResult, `{"tools":[{"name":"a","x":1.0},{"name":"b"}]}`),
		capture(initResult, `{"tools":[{"name":"a","x":1.0},{"name":"b","y":2}]}`),
		capture(initResult, `{"tools":[{"name":"b","y":2},{"name":"a","x":1.0}]}`),
		capture(initResult, `{"tools":[{"name":"a","x":1.0},{"name":"b"}]}`),
	}
	for i, c := range caps {
		want := mustBuild(t, c)
		got, err := BuildCached(c, CaptureKey(c), &cache)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID() != want.ID() {
			t.Fatalf("capture %d: cached build differs:\n%s\n%s", i, got.Document(), want.Document())
		}
		if want := min(i, 1) * 2; len(cache.last) != want {
			t.Errorf("capture %d: cache holds %d entities, want %d (none after the first build, then the last build's)", i, len(cache.last), want)
		}
	}
	bad := capture(initResult, `{"tools":["x"]}`)
	if _, err := BuildCached(bad, CaptureKey(bad), &cache); err == nil {
		t.Fatal("want error")
	}
	if len(cache.last) != 2 {
		t.Errorf("a failed build replaced the cache")
	}
}

// TestBuildCachedWholeCapture: an identical capture gives the previous
// manifest itself; anything Build reads that differs gives a new build.
func TestBuildCachedWholeCapture(t *testing.T) {
	base := capture(initResult, `{"tools":[{"name":"a"}]}`, `{"tools":[{"name":"b"}]}`)
	withProtocol := base
	withProtocol.Protocol = "2025-06-18"
	withIdentity := base
	withIdentity.Identity = &Identity{URL: "https://example.test/mcp"}
	moved := capture(initResult, `{"tools":[{"name":"a"}]}`)
	moved.Pages[KindPrompt] = []json.RawMessage{json.RawMessage(`{"prompts":[{"name":"b"}]}`)}
	otherInit := capture(`{"protocolVersion":"2025-06-18","serverInfo":{"name":"t","version":"1"},"capabilities":{"tools":{}}}`,
		`{"tools":[{"name":"a"}]}`, `{"tools":[{"name":"b"}]}`)
	tests := []struct {
		name string
		c    Capture
		same bool // the previous manifest is returned
	}{
		{"first", base, false},
		{"identical, not kept from the first build", base, false},
		{"identical", base, true},
		{"protocol", withProtocol, false},
		{"identity", withIdentity, false},
		{"identity again", withIdentity, true},
		{"page moved to another list", moved, false},
		{"init", otherInit, false},
		{"back to the first", base, false},
	}
	var cache Cache
	var prev *Manifest
	for _, tt := range tests {
		got, err := BuildCached(tt.c, CaptureKey(tt.c), &cache)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (got == prev) != tt.same {
			t.Errorf("%s: same manifest = %v, want %v", tt.name, got == prev, tt.same)
		}
		if want := mustBuild(t, tt.c); got.ID() != want.ID() {
			t.Errorf("%s: cached build differs:\n%s\n%s", tt.name, got.Document(), want.Document())
		}
		prev = got
	}
}

// BenchmarkBuild500Cached is the steady state of a server polled again:
// unchanged (the whole capture is recognized), and with only its
// handshake changing (every page is recognized, the rest is rebuilt).
func BenchmarkBuild500Cached(b *testing.B) {
	c := Capture{Init: json.RawMessage(initResult), Pages: map[Kind][]json.RawMessage{KindTool: {synthTools(500)}}}
	b.Run("unchanged", func(b *testing.B) {
		var cache Cache
		b.ReportAllocs()
		for b.Loop() {
			if _, err := BuildCached(c, CaptureKey(c), &cache); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handshake-changed", func(b *testing.B) {
		var cache Cache
		other := c
		other.Protocol = "2025-06-18"
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			next := c
			if i%2 == 1 {
				next = other
			}
			i++
			if _, err := BuildCached(next, CaptureKey(next), &cache); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestToolNames: the names read without parsing are the keys Parse gives,
// in its order, however the document spells them.
func TestToolNames(t *testing.T) {
	docs := []string{
		string(mustBuild(t, capture(initResult, `{"tools":[{"name":"b","inputSchema":{"type":"object"}},{"name":"a"},{"name":"a","x":1}]}`)).Document()),
		`{"format":1,"prompts":[],"resource_templates":[],"resources":[],"server":{},"tools":[{"name":"z"},{"na\u006de":"esc"},{"name":"x\udc00y"},{"name":7},{"description":"no name"},{"name":"first","name":"last"}],"volatile_rules":2}`,
	}
	docs = append(docs, strings.Replace(docs[1], `"volatile_rules":2`, `"volatile_rules":1`, 1))
	for _, doc := range docs {
		m, err := Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, e := range m.Entities[KindTool] {
			want = append(want, e.Key)
		}
		got, err := ToolNames([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ToolNames = %q, Parse's keys %q", got, want)
		}
	}
	if _, err := ToolNames([]byte(`{"tools":[1]}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a tool that is not an object: %v, want ErrMalformed", err)
	}
}
