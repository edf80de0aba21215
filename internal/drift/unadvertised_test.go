package drift

import (
	"encoding/json"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

func TestUnadvertisedChange(t *testing.T) {
	build := func(caps string, tools, prompts int) *manifest.Manifest {
		c := manifest.Capture{Init: json.RawMessage(`{"capabilities":` + caps + `}`), Pages: map[manifest.Kind][]json.RawMessage{}}
		if tools > 0 {
			c.Pages[manifest.KindTool] = []json.RawMessage{json.RawMessage(`{"tools":[{"name":"a"}]}`)}
		}
		if prompts > 0 {
			c.Pages[manifest.KindPrompt] = []json.RawMessage{json.RawMessage(`{"prompts":[{"name":"p"}]}`)}
		}
		m, err := manifest.Build(c)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tests := []struct {
		name       string
		base, snap *manifest.Manifest
		want       []string // paths of server.unadvertised changes
	}{
		{"capability dropped, list still served", build(`{"tools":{}}`, 1, 0), build(`{}`, 1, 0), []string{"capabilities.tools"}},
		{"capability null", build(`{"tools":{}}`, 1, 0), build(`{"tools":null}`, 1, 0), []string{"capabilities.tools"}},
		{"new unadvertised prompts", build(`{"tools":{}}`, 1, 0), build(`{"tools":{}}`, 1, 1), []string{"capabilities.prompts"}},
		{"already so in the baseline", build(`{}`, 1, 0), build(`{}`, 1, 0), nil},
		{"capability dropped, list empty", build(`{"tools":{}}`, 1, 0), build(`{}`, 0, 0), nil},
		{"capability advertised again", build(`{}`, 1, 0), build(`{"tools":{}}`, 1, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range Diff(tt.base, tt.snap, Policy{}) {
				if c.Kind == KindServerUnadvertised {
					got = append(got, c.Path)
				}
				if c.Kind == KindToolRemoved && len(tt.snap.Entities[manifest.KindTool]) > 0 {
					t.Errorf("removal reported: %+v", c)
				}
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Errorf("unadvertised changes at %v, want %v", got, tt.want)
			}
		})
	}
}
