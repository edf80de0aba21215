package approval_test

import (
	"errors"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/approval"
)

// TestEntityRefs: a KIND:NAME flag becomes the ref Request.Tools holds, a
// malformed one is ErrUnknownTool, and every ref round-trips.
func TestEntityRefs(t *testing.T) {
	for _, tt := range []struct {
		flag, ref string
		ok        bool
	}{
		{"prompt:summarize", "prompt:summarize", true},
		{"resource:file:///a", "resource:file:///a", true},
		{"tool:search", "search", true},
		{"tool:prompt:odd", "tool:prompt:odd", true},
		{"server:instructions", "server:instructions", true},
		{"prompts:x", "", false},
		{"prompt:", "", false},
		{"search", "", false},
	} {
		ref, err := approval.ParseEntityFlag(tt.flag)
		if (err == nil) != tt.ok || ref != tt.ref {
			t.Errorf("ParseEntityFlag(%q) = %q, %v; want %q ok=%v", tt.flag, ref, err, tt.ref, tt.ok)
		}
		if !tt.ok && !errors.Is(err, approval.ErrUnknownTool) {
			t.Errorf("ParseEntityFlag(%q) error %v is not ErrUnknownTool", tt.flag, err)
		}
		if tt.ok {
			if r := approval.ParseEntityRef(ref); approval.ToolRef(r) != ref {
				t.Errorf("%q does not round-trip: %+v", ref, r)
			}
		}
	}
}
