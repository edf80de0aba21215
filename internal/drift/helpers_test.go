package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// srv describes a manifest to build: raw JSON objects per entity kind.
type srv struct {
	init      string
	tools     []string
	prompts   []string
	resources []string
	templates []string
}

const defaultInit = `{"protocolVersion":"2025-06-18","serverInfo":{"name":"demo","version":"1.0.0"},"capabilities":{"tools":{"listChanged":true}},"instructions":"Use these tools for GitHub."}`

func (s srv) capture() manifest.Capture {
	init := s.init
	if init == "" {
		init = defaultInit
	}
	page := func(field string, items []string) []json.RawMessage {
		if len(items) == 0 {
			return nil
		}
		return []json.RawMessage{json.RawMessage(fmt.Sprintf(`{%q:[%s]}`, field, strings.Join(items, ",")))}
	}
	return manifest.Capture{
		Init: json.RawMessage(init),
		Pages: map[manifest.Kind][]json.RawMessage{
			manifest.KindTool:             page("tools", s.tools),
			manifest.KindPrompt:           page("prompts", s.prompts),
			manifest.KindResource:         page("resources", s.resources),
			manifest.KindResourceTemplate: page("resourceTemplates", s.templates),
		},
	}
}

func (s srv) build(t testing.TB) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Build(s.capture())
	if err != nil {
		t.Fatalf("manifest.Build: %v", err)
	}
	return m
}

// checkInert asserts that nothing a server sent reaches a person raw: no
// control (other than line breaks in multi-line fields) or format character
// in any rendered field.
func checkInert(t testing.TB, c report.Change) {
	t.Helper()
	fields := map[string]string{"name": c.Name, "path": c.Path, "summary": c.Summary, "kind": c.Kind}
	multi := map[string]string{"before": c.Before, "after": c.After, "diff": c.Diff}
	for _, f := range c.Findings {
		fields["finding message"] = f.Message
		fields["finding evidence"] = f.Evidence
	}
	for name, s := range fields {
		inert(t, name, s, false)
	}
	for name, s := range multi {
		inert(t, name, s, true)
	}
}

func inert(t testing.TB, field, s string, breaks bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%s is not valid UTF-8: %q", field, s)
		return
	}
	for _, r := range s {
		if breaks && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.Variation_Selector, r) {
			t.Errorf("%s holds raw %U: %q", field, r, s)
			return
		}
	}
}

// genTool returns a realistic tool: a description, an input schema with a
// few typed, described, sometimes constrained parameters, annotations.
func genTool(rng *rand.Rand, i int) map[string]any {
	props := map[string]any{}
	var required []any
	for j := range 2 + rng.IntN(4) {
		name := fmt.Sprintf("param_%d", j)
		p := map[string]any{"description": fmt.Sprintf("The %s of the request, used to narrow results (%d).", name, i)}
		switch rng.IntN(4) {
		case 0:
			p["type"] = "string"
			p["maxLength"] = json.Number("256")
			p["pattern"] = "^[a-z0-9_-]+$"
		case 1:
			p["type"] = "integer"
			p["minimum"] = json.Number("1")
			p["maximum"] = json.Number("100")
			p["default"] = json.Number("30")
		case 2:
			p["type"] = "string"
			p["enum"] = []any{"open", "closed", "all"}
		default:
			p["type"] = "array"
			p["items"] = map[string]any{"type": "string"}
		}
		props[name] = p
		if rng.IntN(2) == 0 {
			required = append(required, name)
		}
	}
	schema := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		schema["required"] = required
	}
	tool := map[string]any{
		"name":        fmt.Sprintf("tool_%03d", i),
		"description": fmt.Sprintf("Tool number %d. Lists, searches and summarises items in the workspace; returns JSON with ids, titles and URLs.", i),
		"inputSchema": schema,
	}
	if rng.IntN(2) == 0 {
		tool["annotations"] = map[string]any{"readOnlyHint": true, "openWorldHint": false}
	}
	if rng.IntN(4) == 0 {
		tool["title"] = fmt.Sprintf("Tool %d", i)
	}
	return tool
}

// encodeShuffled writes v as JSON with object keys in random order and
// integral numbers sometimes spelled with a fraction ("30.0").
func encodeShuffled(rng *rand.Rand, v any) string {
	var b bytes.Buffer
	var enc func(v any)
	enc = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteByte(',')
				}
				kb, _ := json.Marshal(k)
				b.Write(kb)
				b.WriteByte(':')
				enc(x[k])
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteByte(',')
				}
				enc(e)
			}
			b.WriteByte(']')
		case json.Number:
			s := string(x)
			if !strings.ContainsAny(s, ".eE") && rng.IntN(2) == 0 {
				s += ".0"
			}
			b.WriteString(s)
		default:
			vb, _ := json.Marshal(x)
			b.Write(vb)
		}
	}
	enc(v)
	return b.String()
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return v
}

// presentKeys returns the raw keys of every entity in ms, by entity.
func presentKeys(ms ...*manifest.Manifest) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, m := range ms {
		for k, es := range m.Entities {
			if out[string(k)] == nil {
				out[string(k)] = map[string]bool{}
			}
			for _, e := range es {
				out[string(k)][e.Key] = true
			}
		}
	}
	return out
}
