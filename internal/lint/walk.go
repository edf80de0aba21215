package lint

import (
	"encoding/json"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
)

// role says what a string is, which decides the rules that apply to it.
type role uint8

const (
	// roleText is model-visible text: titles, values, unknown fields.
	roleText role = iota
	// roleDescription is a description field (the length rule applies).
	roleDescription
	// roleInstructions is the server's instructions.
	roleInstructions
	// roleKey is a schema property name, a required entry, an argument name
	// or another object key: phrase rules read it split into words.
	roleKey
	// roleName is an entity's name.
	roleName
	// roleStructural is a URI, type, format, $ref or similar token: only
	// the character rules apply, unless it holds whitespace (then it is
	// text someone hid in a structural field).
	roleStructural
)

// unit is one string to check, with where it came from.
type unit struct {
	entity, name string
	path         []string
	// rawPath is set when path holds one already-encoded path (Text).
	rawPath bool
	text    string
	role    role
	// param is set for a schema property's own name and description: a
	// parameter asking for data is the exfiltration channel itself.
	param bool
	// propName is set for a property or argument name (the instruction-key
	// rule applies), not for required entries or other keys.
	propName bool
	norm     normText
	normed   bool
	// namesTool is set by phrases when a word of the text starts a known
	// tool name.
	namesTool bool
	// cues are the structural rule's cue bits of the text's words, set by
	// phrases.
	cues uint8
}

func (u *unit) normalized() *normText {
	if !u.normed {
		u.norm = normalize(u.text, u.splitCamel(), false)
		u.normed = true
	}
	return &u.norm
}

func (u *unit) splitCamel() bool { return u.role == roleKey || u.role == roleName }

// rawStart returns the raw rune offset of normalized byte i.
func (u *unit) rawStart(i int) int {
	u.mapBack()
	return int(u.norm.idx[min(max(i, 0), len(u.norm.idx)-1)])
}

// rawEnd returns the raw rune offset just past normalized byte j-1.
func (u *unit) rawEnd(j int) int {
	if j <= 0 {
		return 0
	}
	u.mapBack()
	return int(u.norm.idx[min(j-1, len(u.norm.idx)-1)]) + 1
}

// mapBack builds the normalized text's map to raw offsets, the first time
// a finding needs it.
func (u *unit) mapBack() {
	u.normalized()
	if u.norm.idx == nil {
		u.norm = normalize(u.text, u.splitCamel(), true)
	}
}

// entity walks one entity's canonical JSON.
func (c *checker) entity(kind, key string, raw json.RawMessage) []located {
	v, err := parseJSON(string(raw))
	if err != nil {
		return nil
	}
	w := walker{c: c, kind: kind, ent: key}
	obj, ok := v.(jobj)
	if !ok {
		w.value(v, roleText)
		return escalate(w.out)
	}
	for _, kv := range obj {
		k, val := kv.k, kv.v
		w.push(k)
		w.objKey(k)
		switch {
		case k == "name" && kind != EntityServer && kind != "resource" && kind != "resource_template":
			w.str(val, roleName, false)
		case k == "description":
			w.value(val, roleDescription)
		case k == "instructions" && kind == EntityServer:
			w.value(val, roleInstructions)
		case k == "inputSchema" || k == "outputSchema":
			w.schema(val, false)
		case k == "arguments" && kind == "prompt":
			w.arguments(val)
		case structuralKeys[k] || k == "icons" || k == "uri" || k == "uriTemplate" || k == "mimeType" || k == "websiteUrl" || k == "protocolVersion":
			w.value(val, roleStructural)
		default:
			w.value(val, roleText)
		}
		w.pop()
	}
	return escalate(w.out)
}

// walker walks one entity. path is the current field path, a stack that
// units borrow while they are scanned.
type walker struct {
	c         *checker
	kind, ent string
	path      []string
	out       []located
}

func (w *walker) push(c string) { w.path = append(w.path, c) }
func (w *walker) pop()          { w.path = w.path[:len(w.path)-1] }

// check scans one string at the current path.
func (w *walker) check(text string, r role, param, propName bool) {
	u := unit{entity: w.kind, name: w.ent, path: w.path, text: text, role: r, param: param, propName: propName}
	w.out = append(w.out, w.c.scan(&u)...)
}

// objKey checks an object key that is not a known protocol or schema word;
// the key is the last component of the current path.
func (w *walker) objKey(k string) {
	if knownKeys[k] || structuralKeys[k] || schemaKeys[k] {
		return
	}
	w.check(k, roleKey, false, false)
}

func (w *walker) str(v any, r role, param bool) {
	s, ok := v.(string)
	if !ok {
		w.value(v, r)
		return
	}
	w.check(s, r, param, false)
}

// value walks any JSON value: strings get role r, object keys are checked
// as keys, nested values keep r.
func (w *walker) value(v any, r role) {
	switch x := v.(type) {
	case string:
		w.check(x, r, false, false)
	case []any:
		for i, e := range x {
			w.push(itoa(i))
			w.value(e, r)
			w.pop()
		}
	case jobj:
		for _, kv := range x {
			w.push(kv.k)
			w.objKey(kv.k)
			if r == roleStructural || structuralKeys[kv.k] {
				w.value(kv.v, roleStructural)
			} else {
				w.value(kv.v, r)
			}
			w.pop()
		}
	}
}

// schema walks a JSON Schema: property names are parameter names, the
// texts of a property are that parameter's, and every string keyword is
// checked (CyberArk's full-schema poisoning uses all of them).
func (w *walker) schema(v any, param bool) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			w.push(itoa(i))
			w.schema(e, param)
			w.pop()
		}
	case jobj:
		for _, kv := range x {
			k, val := kv.k, kv.v
			w.push(k)
			switch {
			case k == "properties" || k == "patternProperties" || k == "$defs" || k == "definitions" || k == "dependentSchemas":
				props, ok := val.(jobj)
				if !ok {
					w.value(val, roleText)
					break
				}
				isParam := k == "properties" || k == "patternProperties" // $defs names are type names
				for _, pv := range props {
					w.push(pv.k)
					w.check(pv.k, roleKey, isParam, isParam)
					w.schema(pv.v, isParam)
					w.pop()
				}
			case schemaSubKeys[k]:
				w.schema(val, param)
			case k == "description":
				w.str(val, roleDescription, param)
			case k == "title" || k == "$comment":
				w.str(val, roleText, param)
			case k == "required":
				props, _ := x.get("properties")
				w.required(val, props)
			case structuralKeys[k]:
				w.value(val, roleStructural)
			case schemaKeys[k]:
				w.value(val, roleText)
			default:
				w.objKey(k)
				w.value(val, roleText)
			}
			w.pop()
		}
	default:
		w.value(v, roleText)
	}
}

// required walks a required list: an entry naming no property is itself
// text someone wrote for the model, so it gets the property-name rules.
func (w *walker) required(v, props any) {
	names, ok := v.([]any)
	if !ok {
		w.value(v, roleKey)
		return
	}
	defined, _ := props.(jobj)
	for i, e := range names {
		w.push(itoa(i))
		if s, ok := e.(string); !ok {
			w.value(e, roleKey)
		} else if _, ok := defined.get(s); !ok {
			w.check(s, roleKey, false, true) // properties are checked as such
		}
		w.pop()
	}
}

// arguments walks a prompt's argument list: argument names are like
// property names.
func (w *walker) arguments(v any) {
	args, ok := v.([]any)
	if !ok {
		w.value(v, roleText)
		return
	}
	for i, a := range args {
		w.push(itoa(i))
		obj, ok := a.(jobj)
		if !ok {
			w.value(a, roleText)
			w.pop()
			continue
		}
		for _, kv := range obj {
			w.push(kv.k)
			w.objKey(kv.k)
			switch s, isStr := kv.v.(string); {
			case kv.k == "name" && isStr:
				w.check(s, roleKey, true, true)
			case kv.k == "description":
				w.str(kv.v, roleDescription, true)
			default:
				w.value(kv.v, roleText)
			}
			w.pop()
		}
		w.pop()
	}
}

// structuralKeys hold tokens (types, formats, references, URIs) rather than
// prose.
var structuralKeys = map[string]bool{
	"type": true, "format": true, "$schema": true, "$ref": true, "$id": true, "$anchor": true,
	"$dynamicRef": true, "$dynamicAnchor": true, "pattern": true, "contentEncoding": true,
	"contentMediaType": true, "src": true, "mimeType": true, "uri": true, "uriTemplate": true,
	"protocolVersion": true, "version": true, "theme": true, "sizes": true,
}

// schemaSubKeys hold subschemas.
var schemaSubKeys = map[string]bool{
	"items": true, "additionalProperties": true, "not": true, "if": true, "then": true, "else": true,
	"contains": true, "propertyNames": true, "unevaluatedProperties": true, "unevaluatedItems": true,
	"additionalItems": true, "allOf": true, "anyOf": true, "oneOf": true, "prefixItems": true,
	"dependencies": true,
}

// schemaKeys are JSON Schema keywords whose values are data, not subschemas.
var schemaKeys = map[string]bool{
	"default": true, "const": true, "enum": true, "examples": true, "example": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minProperties": true, "maxProperties": true, "multipleOf": true, "readOnly": true,
	"writeOnly": true, "deprecated": true, "nullable": true, "title": true, "description": true,
	"$comment": true, "required": true, "properties": true, "patternProperties": true,
	"$defs": true, "definitions": true, "dependentSchemas": true, "dependentRequired": true,
	"$vocabulary": true, "enumNames": true, "markdownDescription": true,
}

// knownKeys are MCP field names: checking them as text would only cost
// time.
var knownKeys = map[string]bool{
	"name": true, "title": true, "description": true, "inputSchema": true, "outputSchema": true,
	"annotations": true, "readOnlyHint": true, "destructiveHint": true, "idempotentHint": true,
	"openWorldHint": true, "icons": true, "_meta": true, "execution": true, "taskSupport": true,
	"arguments": true, "required": true, "uri": true, "uriTemplate": true, "mimeType": true,
	"size": true, "audience": true, "priority": true, "lastModified": true, "instructions": true,
	"serverInfo": true, "capabilities": true, "protocolVersion": true, "version": true,
	"tools": true, "prompts": true, "resources": true, "logging": true, "completions": true,
	"listChanged": true, "subscribe": true, "experimental": true, "websiteUrl": true,
	"sizes": true, "src": true, "theme": true, "tasks": true, "elicitation": true, "sampling": true,
	"roots": true,
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}

// fieldPath renders a path as drift does: components joined by ".", each
// percent-encoded where it holds "%", "/", ".", whitespace, controls,
// invisible characters or invalid UTF-8.
func fieldPath(p []string) string {
	enc := make([]string, len(p))
	for i, c := range p {
		enc[i] = encodeField(c)
	}
	if len(enc) == 1 {
		// Join would return the component itself, a slice of the entity's
		// whole text, which a finding in the engine's lint cache would
		// keep alive (the manifest's size again, in a daemon).
		return strings.Clone(enc[0])
	}
	return strings.Join(enc, ".")
}

func encodeField(s string) string { return escape.PathSegment(s, true) }
