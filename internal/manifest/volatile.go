package manifest

import "sort"

// VolatileRulesVersion versions the list of fields excluded from the
// canonical form and the normalizations applied to it. Changing either
// changes snapshot ids, so it is bumped with every change and recorded in
// every document.
//
// Version 2 sorts "required" only where it is a JSON Schema keyword (not
// inside const, default, enum or examples values, where its order is
// data) and keeps escaped lone UTF-16 surrogates distinct instead of
// turning each into U+FFFD. A document records the oldest version that
// gives its bytes, so a manifest with neither keeps its version 1 id. A
// document written under version 1 is parsed under version 1 (Parse), so
// it keeps its id, and a snapshot is compared with such a baseline under
// the baseline's rules (Under), so an upgrade alone raises no change.
const VolatileRulesVersion = 2

// legacyRules is the oldest rule version Parse still reads.
const legacyRules = 1

// ReadsRules reports whether Parse canonicalizes a document written under
// volatile rules version v as it was written (so its id can match).
func ReadsRules(v int) bool { return v >= legacyRules && v <= VolatileRulesVersion }

// VolatileRule documents one excluded field.
type VolatileRule struct {
	Where string // which JSON object the field is removed from
	Field string
	Why   string
}

// VolatileRules is the documented rule list for VolatileRulesVersion.
var VolatileRules = []VolatileRule{
	{"list results", "nextCursor", "pagination state: pages are merged"},
	{"list results", "ttlMs", "cache hint (protocol 2026-07-28), not content"},
	{"list results", "cacheScope", "cache hint (protocol 2026-07-28), not content"},
	{"list results", "_meta", "per-response protocol metadata"},
	{"initialize/discover result", "_meta", "per-response protocol metadata"},
	{"initialize/discover result", "ttlMs", "cache hint, not content"},
	{"initialize/discover result", "cacheScope", "cache hint, not content"},
	{"initialize/discover result", "resultType", "protocol envelope (2026-07-28)"},
	{"initialize/discover result", "supportedVersions", "protocol envelope of server/discover; the negotiated protocolVersion is kept instead"},
	{"initialize/discover result", "_meta[\"io.modelcontextprotocol/serverInfo\"]", "moved to serverInfo, where initialize puts it"},
	{"tool input/output schemas", "order of every \"required\" keyword's array (not inside const, default, enum or examples values)", "JSON Schema treats it as a set"},
}

// volatileResultFields are removed from the initialize result. List results
// keep only their entity array, which removes their volatile fields.
var volatileResultFields = []string{"_meta", "ttlMs", "cacheScope", "resultType", "supportedVersions"}

// metaKeyServerInfo is where server/discover results carry serverInfo.
const metaKeyServerInfo = "io.modelcontextprotocol/serverInfo"

// schemaMaps are the keywords whose value maps names to subschemas;
// schemaValues the keywords whose value is a subschema or an array of
// subschemas. Only these are walked: everything else (const, default,
// enum, examples, unknown keywords) is data whose "required" means nothing.
var (
	schemaMaps   = map[string]bool{"properties": true, "patternProperties": true, "$defs": true, "definitions": true, "dependentSchemas": true, "dependencies": true}
	schemaValues = map[string]bool{
		"items": true, "prefixItems": true, "additionalItems": true, "unevaluatedItems": true, "contains": true,
		"additionalProperties": true, "unevaluatedProperties": true, "propertyNames": true,
		"not": true, "if": true, "then": true, "else": true, "allOf": true, "anyOf": true, "oneOf": true,
		"contentSchema": true,
	}
)

// normalizeSchema sorts the "required" keyword of a JSON Schema and of its
// subschemas, because its order has no meaning. Other arrays (enum, type,
// allOf...) keep their order: the drift engine reports their reordering as
// info. Under rules version 1 it sorted every "required" array of strings
// anywhere, which normalizeSchemaV1 keeps for old baselines.
func normalizeSchema(v any, rules int) any {
	if rules < 2 {
		return normalizeSchemaV1(v)
	}
	s, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, child := range s {
		switch {
		case k == "required":
			if sorted, ok := sortedStrings(child); ok {
				s[k] = sorted
			}
		case schemaMaps[k]:
			if m, ok := child.(map[string]any); ok {
				for name, sub := range m {
					// dependencies maps to a schema or to a list of names.
					m[name] = normalizeSchema(sub, rules)
				}
			}
		case schemaValues[k]:
			if arr, ok := child.([]any); ok {
				for i := range arr {
					arr[i] = normalizeSchema(arr[i], rules)
				}
				continue
			}
			s[k] = normalizeSchema(child, rules)
		}
	}
	return s
}

func sortedStrings(v any) ([]any, bool) {
	strs, ok := stringSlice(v)
	if !ok {
		return nil, false
	}
	sort.Strings(strs)
	arr := make([]any, len(strs))
	for i, x := range strs {
		arr[i] = x
	}
	return arr, true
}

// normalizeSchemaV1 is rules version 1: every "required" array of strings,
// at any depth, sorted.
func normalizeSchemaV1(v any) any {
	switch s := v.(type) {
	case map[string]any:
		for k, child := range s {
			if k == "required" {
				if sorted, ok := sortedStrings(child); ok {
					s[k] = sorted
					continue
				}
			}
			s[k] = normalizeSchemaV1(child)
		}
		return s
	case []any:
		for i := range s {
			s[i] = normalizeSchemaV1(s[i])
		}
		return s
	default:
		return v
	}
}

// unsortedRequired reports whether a "required" array of strings that is
// not in order lies anywhere in v: after normalizeSchema, only one that is
// data, not a keyword, which version 1 sorted.
func unsortedRequired(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == "required" {
				if strs, ok := stringSlice(c); ok {
					if !sort.StringsAreSorted(strs) {
						return true
					}
					continue
				}
			}
			if unsortedRequired(c) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if unsortedRequired(c) {
				return true
			}
		}
	}
	return false
}

func stringSlice(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}
