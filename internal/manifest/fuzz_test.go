package manifest

import (
	"encoding/json"
	"testing"
)

// FuzzCanonical checks that canonicalization never panics, is idempotent and
// that a parsed document keeps its id.
func FuzzCanonical(f *testing.F) {
	f.Add(`{"tools":[{"name":"a","inputSchema":{"type":"object","required":["b","a"]}}]}`, initResult)
	f.Add(`{"tools":[{"name":"a","x":1.0e2,"y":"\u200b"}],"nextCursor":"x"}`, `{}`)
	f.Add(`{"tools":null}`, `{"_meta":{}}`)
	f.Fuzz(func(t *testing.T, page, init string) {
		m, err := Build(Capture{Init: json.RawMessage(init), Pages: map[Kind][]json.RawMessage{KindTool: {json.RawMessage(page)}}})
		if err != nil {
			return
		}
		doc := m.Document()
		back, err := Parse(doc)
		if err != nil {
			t.Fatalf("Parse of own document: %v\n%s", err, doc)
		}
		if back.ID() != m.ID() {
			t.Fatalf("id changed on round trip:\n%s\n%s", doc, back.Document())
		}
		again, err := Canonicalize(doc)
		if err != nil || string(again) != string(doc) {
			t.Fatalf("document not canonical: %v", err)
		}
	})
}
