package drift

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// fuzzManifest reads fuzz input as the items of a tools/list page plus an
// initialize result; what manifest.Build refuses becomes a hand-built
// manifest holding the raw bytes, so drift sees hostile entities too.
func fuzzManifest(tools, init string) *manifest.Manifest {
	c := manifest.Capture{
		Init:  json.RawMessage(init),
		Pages: map[manifest.Kind][]json.RawMessage{manifest.KindTool: {json.RawMessage(`{"tools":[` + tools + `]}`)}},
	}
	if m, err := manifest.Build(c); err == nil {
		return m
	}
	e := manifest.Entity{Kind: manifest.KindTool, Key: tools, JSON: json.RawMessage(tools)}
	return &manifest.Manifest{Server: json.RawMessage(init), Entities: map[manifest.Kind][]manifest.Entity{
		manifest.KindTool:   {e, e},
		manifest.KindPrompt: {{Kind: manifest.KindPrompt, Key: "p", JSON: json.RawMessage(tools)}},
	}}
}

// FuzzDiff checks, on any pair of manifests, that Diff does not panic, that
// a manifest never differs from itself, that every change names an entity
// of one side, is escaped, and that the result is deterministic. The seed
// corpus lives in testdata/fuzz/FuzzDiff.
func FuzzDiff(f *testing.F) {
	f.Add(searchTool, defaultInit, `{"name":"search","description":"Search issues\u200b in any repo","inputSchema":{"type":"object"}}`, `{"instructions":"x"}`)
	f.Fuzz(func(t *testing.T, toolsA, initA, toolsB, initB string) {
		a, b := fuzzManifest(toolsA, initA), fuzzManifest(toolsB, initB)
		if cs := Diff(a, a, Policy{}); len(cs) != 0 {
			t.Fatalf("Diff(a, a) = %+v", cs)
		}
		cs := Diff(a, b, Policy{})
		if again := Diff(a, b, Policy{}); !reflect.DeepEqual(cs, again) {
			t.Fatal("Diff is not deterministic")
		}
		present := presentKeys(a, b)
		for _, c := range cs {
			checkInert(t, c)
			if c.Severity < severity.Info || c.Severity > severity.Critical {
				t.Fatalf("severity %v out of range", c.Severity)
			}
			if c.Entity == EntityServer {
				continue
			}
			found := false
			for k := range present[c.Entity] {
				if escape.Line(k) == c.Name {
					found = true
					break
				}
			}
			if !found {
				t.Fatalf("change %s names %q, in neither manifest", c.Kind, c.Name)
			}
		}
	})
}
