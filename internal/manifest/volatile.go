package manifest

import "sort"

// VolatileRulesVersion versions the list of fields excluded from the
// canonical form. Changing the list changes snapshot ids, so it is bumped
// with every change and recorded in every document.
const VolatileRulesVersion = 1

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
	{"tool input/output schemas", "order of every \"required\" array", "JSON Schema treats it as a set"},
}

// volatileResultFields are removed from the initialize result. List results
// keep only their entity array, which removes their volatile fields.
var volatileResultFields = []string{"_meta", "ttlMs", "cacheScope", "resultType", "supportedVersions"}

// metaKeyServerInfo is where server/discover results carry serverInfo.
const metaKeyServerInfo = "io.modelcontextprotocol/serverInfo"

// normalizeSchema sorts every "required" array of strings in a JSON Schema,
// recursively, because its order has no meaning. Other arrays (enum, type,
// allOf...) keep their order: the drift engine reports their reordering as
// info.
func normalizeSchema(v any) any {
	switch s := v.(type) {
	case map[string]any:
		for k, child := range s {
			if k == "required" {
				if strs, ok := stringSlice(child); ok {
					sort.Strings(strs)
					arr := make([]any, len(strs))
					for i, x := range strs {
						arr[i] = x
					}
					s[k] = arr
					continue
				}
			}
			s[k] = normalizeSchema(child)
		}
		return s
	case []any:
		for i := range s {
			s[i] = normalizeSchema(s[i])
		}
		return s
	default:
		return v
	}
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
