package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// TestParseStoredMatchesBuild: a document read back with ParseStored is
// the manifest Build made of the capture, down to the id it writes, the
// volatile rules it is written under and every entity's key and
// fingerprint; so what a check compares, lints and stores is the same
// whether it built or recalled the snapshot.
func TestParseStoredMatchesBuild(t *testing.T) {
	tests := []struct {
		name string
		c    Capture
	}{
		{"tools over two pages", capture(initResult,
			`{"tools":[{"name":"b","description":"B","inputSchema":{"type":"object","required":["y","x"]}}],"nextCursor":"c"}`,
			`{"tools":[{"name":"a","description":"A\u00e9","inputSchema":{"type":"object"}},{"name":"a","description":"twin"}]}`)},
		{"a lone surrogate needs the current rules", capture(initResult, `{"tools":[{"name":"t","description":"x\udc00"}]}`)},
		{"no tools, prompts and resources", Capture{Init: json.RawMessage(initResult), Pages: map[Kind][]json.RawMessage{
			KindPrompt:           {json.RawMessage(`{"prompts":[{"name":"p","arguments":[{"name":"q"}]}]}`)},
			KindResource:         {json.RawMessage(`{"resources":[{"uri":"file:///a","name":"a"}]}`)},
			KindResourceTemplate: {json.RawMessage(`{"resourceTemplates":[{"uriTemplate":"file:///{x}","name":"x"}]}`)},
		}}},
		{"a key that is not a string", capture(initResult, `{"tools":[{"name":7}]}`)},
		{"identity recorded", Capture{Init: json.RawMessage(initResult), Identity: &Identity{URL: "https://example.com/mcp"}}},
		{"empty initialize result", capture(``, `{"tools":[]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			built := mustBuild(t, tt.c)
			doc, id := built.Document(), built.ID()
			got, err := ParseStored(doc, id)
			if err != nil {
				t.Fatalf("ParseStored: %v", err)
			}
			if got.ID() != id || !bytes.Equal(got.Document(), doc) {
				t.Fatalf("read back as %s, want %s", got.ID(), id)
			}
			if got.rules() != built.rules() || got.Rules != built.Rules {
				t.Errorf("rules %d (Rules %d), want %d (%d)", got.rules(), got.Rules, built.rules(), built.Rules)
			}
			for _, k := range Kinds {
				var want, have []Entity
				for _, e := range built.Entities[k] {
					want = append(want, Entity{Kind: e.Kind, Key: e.Key, JSON: e.JSON, Fingerprint: e.Fingerprint})
				}
				for _, e := range got.Entities[k] {
					have = append(have, Entity{Kind: e.Kind, Key: e.Key, JSON: e.JSON, Fingerprint: e.Fingerprint})
				}
				if !reflect.DeepEqual(have, want) {
					t.Errorf("%s: %+v, want %+v", k, have, want)
				}
			}
			// A clone that takes another entity keeps writing a
			// document Parse reads back to the same id.
			c := got.Clone()
			c.Replace(KindTool, "new", mustBuild(t, capture(``, `{"tools":[{"name":"new","description":"x\udc01"}]}`)).Entities[KindTool])
			p, err := Parse(c.Document())
			if err != nil || p.ID() != c.ID() {
				t.Errorf("clone with a current-rules entity: Parse %v, id %s, want %s", err, p.ID(), c.ID())
			}
		})
	}
}

// TestParseStoredRejects: a document that is not the canonical form of
// the id it is stored under is an error (the caller builds again), never
// a manifest that would compare or store differently.
func TestParseStoredRejects(t *testing.T) {
	built := mustBuild(t, capture(initResult, `{"tools":[{"name":"a","description":"A"}]}`))
	doc, id := built.Document(), built.ID()
	tests := []struct {
		name string
		doc  []byte
		id   string
	}{
		{"another id", doc, Fingerprint([]byte("x"))},
		{"not canonical", bytes.Replace(doc, []byte(`"description":"A"`), []byte(`"description" : "A"`), 1), id},
		{"not JSON", []byte(`{"format":`), id},
		{"unknown format", append([]byte(`{"format":9`), doc[len(`{"format":1`):]...), id},
		{"unknown rules", bytes.Replace(doc, []byte(`"volatile_rules":1`), []byte(`"volatile_rules":7`), 1), id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseStored(tt.doc, tt.id); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseStored: %v, want ErrMalformed", err)
			}
		})
	}
}

// TestCaptureKey: the key tells captures apart by everything Build reads.
func TestCaptureKey(t *testing.T) {
	a := capture(initResult, `{"tools":[{"name":"a"}]}`)
	same := capture(initResult, `{"tools":[{"name":"a"}]}`)
	other := capture(initResult, `{"tools":[{"name":"a" }]}`)
	if CaptureKey(a) != CaptureKey(same) {
		t.Error("equal captures have different keys")
	}
	if CaptureKey(a) == CaptureKey(other) {
		t.Error("different bytes share a key")
	}
}
