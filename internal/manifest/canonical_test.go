package manifest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func toolPage(tool string) string { return `{"tools":[` + tool + `]}` }

// TestCanonicalDistinct: pairs that a client tells apart must get
// different ids, pairs that mean the same must get one id.
func TestCanonicalDistinct(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"required keyword reordered", `{"name":"t","inputSchema":{"type":"object","required":["a","b"]}}`, `{"name":"t","inputSchema":{"type":"object","required":["b","a"]}}`, true},
		{"required in a property schema", `{"name":"t","inputSchema":{"properties":{"p":{"type":"object","required":["a","b"]}}}}`, `{"name":"t","inputSchema":{"properties":{"p":{"type":"object","required":["b","a"]}}}}`, true},
		{"required in $defs, items, anyOf", `{"name":"t","inputSchema":{"$defs":{"d":{"required":["a","b"]}},"items":{"required":["a","b"]},"anyOf":[{"required":["a","b"]}]}}`,
			`{"name":"t","inputSchema":{"$defs":{"d":{"required":["b","a"]}},"items":{"required":["b","a"]},"anyOf":[{"required":["b","a"]}]}}`, true},
		{"required in const", `{"name":"t","inputSchema":{"const":{"required":["a","b"]}}}`, `{"name":"t","inputSchema":{"const":{"required":["b","a"]}}}`, false},
		{"required in default", `{"name":"t","inputSchema":{"properties":{"p":{"default":{"required":["a","b"]}}}}}`, `{"name":"t","inputSchema":{"properties":{"p":{"default":{"required":["b","a"]}}}}}`, false},
		{"required in enum", `{"name":"t","inputSchema":{"enum":[{"required":["a","b"]}]}}`, `{"name":"t","inputSchema":{"enum":[{"required":["b","a"]}]}}`, false},
		{"required in examples", `{"name":"t","inputSchema":{"examples":[{"required":["a","b"]}]}}`, `{"name":"t","inputSchema":{"examples":[{"required":["b","a"]}]}}`, false},
		{"a property called required", `{"name":"t","inputSchema":{"properties":{"required":{"type":"string"}},"required":["required","b"]}}`, `{"name":"t","inputSchema":{"properties":{"required":{"type":"string"}},"required":["b","required"]}}`, true},
		{"one lone surrogate for another", `{"name":"t","description":"x\udc00"}`, `{"name":"t","description":"x\udc01"}`, false},
		{"lone high surrogate for U+FFFD", `{"name":"t","description":"x\ud800"}`, `{"name":"t","description":"x\ufffd"}`, false},
		{"lone surrogate for U+FFFE", `{"name":"t","description":"\udc00"}`, `{"name":"t","description":"\ufffe"}`, false},
		{"surrogate escape case", `{"name":"t","description":"\uDC00"}`, `{"name":"t","description":"\udc00"}`, true},
		{"valid pair escaped or raw", `{"name":"t","description":"\ud83d\ude00"}`, `{"name":"t","description":"😀"}`, true},
		{"U+FFFE escaped or raw", `{"name":"t","description":"\ufffe"}`, "{\"name\":\"t\",\"description\":\"\xef\xbf\xbe\"}", true},
		{"surrogate in a key", `{"name":"t","annotations":{"\udc00":1}}`, `{"name":"t","annotations":{"\udc01":1}}`, false},
		{"NFC and NFD", `{"name":"t","description":"caf\u00e9"}`, `{"name":"t","description":"cafe\u0301"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustBuild(t, capture(initResult, toolPage(tt.a)))
			b := mustBuild(t, capture(initResult, toolPage(tt.b)))
			if (a.ID() == b.ID()) != tt.same {
				t.Errorf("same id = %v, want %v\n%s\n%s", a.ID() == b.ID(), tt.same, a.Document(), b.Document())
			}
			for _, m := range []*Manifest{a, b} {
				// The canonical form is a fixed point: parsing it gives
				// the same document.
				p, err := Parse(m.Document())
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !bytes.Equal(p.Document(), m.Document()) {
					t.Errorf("not a fixed point:\n%s\n%s", m.Document(), p.Document())
				}
			}
		})
	}
}

func TestLoneSurrogateKeptAsEscape(t *testing.T) {
	m := mustBuild(t, capture(initResult, toolPage(`{"name":"t","description":"a\udc00b\ufffe"}`)))
	got := string(m.Entities[KindTool][0].JSON)
	if !strings.Contains(got, `a\udc00b`+"\ufffe") {
		t.Errorf("canonical tool %s, want the escapes kept", got)
	}
	v, err := DecodeValue(m.Entities[KindTool][0].JSON)
	if err != nil {
		t.Fatal(err)
	}
	if d := v.(map[string]any)["description"]; d != "a<U+DC00>b\ufffe" {
		t.Errorf("DecodeValue description %q", d)
	}
}

// TestDocumentRules: a document records the oldest rules version that
// gives its bytes, so the ids of manifests the new rules see no more of
// stay what an older release stored.
func TestDocumentRules(t *testing.T) {
	tests := []struct {
		tool string
		want string
	}{
		{`{"name":"t","inputSchema":{"type":"object","required":["b","a"],"properties":{"a":{"default":{"required":["c","d"]}}}}}`, `"volatile_rules":1}`},
		{`{"name":"t","description":"\ud83d\ude00\ufffe\\ud800"}`, `"volatile_rules":1}`},
		{`{"name":"t","inputSchema":{"default":{"required":["d","c"]}}}`, `"volatile_rules":2}`},
		{`{"name":"t","description":"\\\udc00"}`, `"volatile_rules":2}`},
	}
	for _, tt := range tests {
		m := mustBuild(t, capture(initResult, toolPage(tt.tool)))
		if !strings.HasSuffix(string(m.Document()), tt.want) {
			t.Errorf("%s: document %s, want it to end %s", tt.tool, m.Document(), tt.want)
		}
	}
	m := mustBuild(t, capture(`{"serverInfo":{"name":"\udc00"}}`))
	if !strings.HasSuffix(string(m.Document()), `"volatile_rules":2}`) {
		t.Errorf("lone surrogate in the server object: %s", m.Document())
	}
}

// TestRulesV1Baseline: a document stored by a release with volatile rules
// 1 keeps its id when parsed, and a snapshot of the same server taken now
// is, under the baseline's rules, the same manifest: an upgrade alone is
// no change.
func TestRulesV1Baseline(t *testing.T) {
	raw := `{"name":"t","description":"x\udc00","inputSchema":{"type":"object","required":["b","a"],"properties":{"p":{"default":{"required":["d","c"]}}}}}`
	// Version 1 sorted every required array and decoded the lone
	// surrogate as U+FFFD: this is the document it stored.
	v1 := `{"format":1,"prompts":[],"resource_templates":[],"resources":[],"server":{},"tools":[{"description":"x` + "\ufffd" + `","inputSchema":{"properties":{"p":{"default":{"required":["c","d"]}}},"required":["a","b"],"type":"object"},"name":"t"}],"volatile_rules":1}`
	base, err := Parse([]byte(v1))
	if err != nil {
		t.Fatal(err)
	}
	if base.Rules != 1 || Fingerprint([]byte(v1)) != base.ID() {
		t.Fatalf("v1 document: rules %d, id %s, want 1 and %s\n%s", base.Rules, base.ID(), Fingerprint([]byte(v1)), base.Document())
	}
	snap := mustBuild(t, Capture{Pages: map[Kind][]json.RawMessage{KindTool: {json.RawMessage(toolPage(raw))}}})
	if snap.ID() == base.ID() {
		t.Fatal("the current rules give the v1 id: nothing was tested")
	}
	under, err := Under(snap, base.Rules)
	if err != nil {
		t.Fatal(err)
	}
	if under.ID() != base.ID() {
		t.Errorf("snapshot under rules 1:\n%s\nbaseline:\n%s", under.Document(), base.Document())
	}
	if same, _ := Under(snap, 0); same != snap {
		t.Error("Under(m, 0) is not m")
	}
	if _, err := Parse([]byte(strings.Replace(v1, `"volatile_rules":1`, `"volatile_rules":9`, 1))); err == nil {
		t.Error("a document from a newer release parsed")
	}
}

// TestNumbersOutOfRange: numbers a JavaScript client reads (as Infinity)
// but float64 cannot hold are canonicalized, not rejected: the same value
// is one form however spelled, different values stay different.
func TestNumbersOutOfRange(t *testing.T) {
	tool := func(n string) *Manifest {
		return mustBuild(t, capture(initResult, toolPage(`{"name":"t","inputSchema":{"type":"object","properties":{"p":{"type":"string","maxLength":`+n+`}}}}`)))
	}
	tests := []struct {
		a, b string
		same bool
		form string
	}{
		{"1e400", "10e399", true, `"maxLength":1e+400`},
		{"1e400", "1.0E+400", true, `"maxLength":1e+400`},
		{"1e400", "0.001e403", true, `"maxLength":1e+400`},
		{"1e400", "2e400", false, `"maxLength":1e+400`},
		{"1e400", "1e401", false, `"maxLength":1e+400`},
		{"-1e400", "1e400", false, `"maxLength":-1e+400`},
		{"12345678901234567890e400", "1.234567890123456789e+419", true, `"maxLength":1.234567890123456789e+419`},
		{"100", "1e2", true, `"maxLength":100`},
	}
	for _, tt := range tests {
		t.Run(tt.a+" "+tt.b, func(t *testing.T) {
			a, b := tool(tt.a), tool(tt.b)
			if (a.ID() == b.ID()) != tt.same {
				t.Errorf("same id = %v, want %v\n%s\n%s", a.ID() == b.ID(), tt.same, a.Document(), b.Document())
			}
			if !strings.Contains(string(a.Document()), tt.form) {
				t.Errorf("document %s does not hold %s", a.Document(), tt.form)
			}
			p, err := Parse(a.Document())
			if err != nil || p.ID() != a.ID() {
				t.Errorf("not a fixed point: %v\n%s", err, a.Document())
			}
		})
	}
	if m := tool("1e400"); !strings.HasSuffix(string(m.Document()), `"volatile_rules":2}`) {
		t.Errorf("a number version 1 rejected is written under version 1: %s", m.Document())
	}
	if _, err := Build(capture(`{"serverInfo":{"name":"x","n":1e999}}`)); err != nil {
		t.Errorf("server object with a huge number: %v", err)
	}
}
