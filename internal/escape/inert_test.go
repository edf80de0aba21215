package escape_test

import (
	"encoding/json"
	"testing"

	"github.com/mcpdrift/mcpdrift/internal/escape"
)

func TestInertJSON(t *testing.T) {
	in := []byte("{\"a\": \"x\u200by\u202ez\U000E0041 caf\u00e9\"}\n")
	out := escape.InertJSON(in)
	if string(out) != "{\"a\": \"x\\u200by\\u202ez\\udb40\\udc41 caf\u00e9\"}\n" {
		t.Fatalf("got %s", out)
	}
	var a, b any
	if json.Unmarshal(in, &a) != nil || json.Unmarshal(out, &b) != nil || a.(map[string]any)["a"] != b.(map[string]any)["a"] {
		t.Fatal("InertJSON changed the meaning")
	}
}
