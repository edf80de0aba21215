package manifest

import "encoding/json"

// Hints are a tool's annotation hints with the MCP specification's defaults
// applied: a missing hint means the worst case the spec assumes.
type Hints struct {
	ReadOnly    bool `json:"readOnlyHint"`
	Destructive bool `json:"destructiveHint"`
	Idempotent  bool `json:"idempotentHint"`
	OpenWorld   bool `json:"openWorldHint"`
}

// DefaultHints are the specification defaults for absent hints.
var DefaultHints = Hints{ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: true}

// EffectiveHints reads a tool's annotations and applies the spec defaults to
// every hint that is absent or not a boolean.
func EffectiveHints(tool json.RawMessage) Hints {
	h := DefaultHints
	var t struct {
		Annotations map[string]json.RawMessage `json:"annotations"`
	}
	if json.Unmarshal(tool, &t) != nil {
		return h
	}
	set := func(name string, dst *bool) {
		var b bool
		if raw, ok := t.Annotations[name]; ok && json.Unmarshal(raw, &b) == nil {
			*dst = b
		}
	}
	set("readOnlyHint", &h.ReadOnly)
	set("destructiveHint", &h.Destructive)
	set("idempotentHint", &h.Idempotent)
	set("openWorldHint", &h.OpenWorld)
	return h
}
