package manifest

import (
	"strings"
	"testing"
)

func TestLaunchDocument(t *testing.T) {
	exe := &Executable{Command: "srv"}
	tests := []struct {
		name   string
		launch *Launch
		want   string
	}{
		{"not recorded", nil, `"identity":{"executable":{"command":"srv"}}`},
		{"recorded empty stays recorded", &Launch{}, `"identity":{"executable":{"command":"srv"},"launch":{}}`},
		{"args keep their order, headers are a set", &Launch{Args: []string{"/b", "/a"}, Headers: []string{"X-B", "X-A", "X-B"}, Env: map[string]string{"Z": "external", "A": "hmac-sha256:00"}},
			`"launch":{"args":["/b","/a"],"env":{"A":"hmac-sha256:00","Z":"external"},"headers":["X-A","X-B"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustBuild(t, withIdentity(&Identity{Executable: exe, Launch: tt.launch}))
			doc := string(m.Document())
			if !strings.Contains(doc, tt.want) {
				t.Fatalf("document %s\nwant %s", doc, tt.want)
			}
			back, err := Parse(m.Document())
			if err != nil {
				t.Fatal(err)
			}
			if back.ID() != m.ID() {
				t.Errorf("parse round trip changed the id")
			}
		})
	}
	none := mustBuild(t, withIdentity(&Identity{Executable: exe}))
	empty := mustBuild(t, withIdentity(&Identity{Executable: exe, Launch: &Launch{}}))
	if none.ID() == empty.ID() {
		t.Error("a launch recorded empty has the id of one not recorded: adding arguments later would look like a first record")
	}
}
