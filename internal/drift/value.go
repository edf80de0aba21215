package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
)

// notObject is the field a non-object entity is wrapped in. Build never
// produces one, but a hand-built or corrupted manifest may.
const notObject = "(not an object)"

// decodeObject decodes an entity or server object. Anything else still
// decodes to an object so it can be compared field by field.
func decodeObject(raw []byte) map[string]any {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}
	}
	// manifest's decoder keeps lone surrogates apart (as "<U+DC00>"), as
	// the canonical form does.
	v, err := manifest.DecodeValue(raw)
	if err != nil {
		return map[string]any{notObject: string(raw)}
	}
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{notObject: v}
}

// equal compares decoded JSON values. Numbers compare by value, so a
// non-canonical "1.0" equals "1".
func equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equal(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		c, ok := numCompare(x, y)
		return ok && c == 0
	case string, bool, nil:
		return a == b
	}
	return false
}

// lookup follows a path of object keys and array indexes.
func lookup(v any, path []string) (any, bool) {
	for _, p := range path {
		switch n := v.(type) {
		case map[string]any:
			c, ok := n[p]
			if !ok {
				return nil, false
			}
			v = c
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n) {
				return nil, false
			}
			v = n[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// show renders a value for Before/After and diffs: text as-is, anything
// else as indented JSON, "" when absent.
func show(v any, ok bool) string {
	if !ok {
		return ""
	}
	if s, isStr := v.(string); isStr {
		return s
	}
	return pretty(v)
}

func pretty(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// compact renders a short value for summaries: JSON, at most max bytes.
func compact(v any, max int) string {
	if s, ok := v.(string); ok {
		// Quoted by hand, not JSON-escaped: summaries go through
		// escape.Line, which shows control characters as <ESC>, <U+0007>.
		return `"` + escape.Truncate(strings.ReplaceAll(s, `"`, `\"`), max) + `"`
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "?"
	}
	return escape.Truncate(strings.TrimSuffix(b.String(), "\n"), max)
}

// scalar reports whether v is short enough to quote in a summary.
func scalar(v any) bool {
	switch x := v.(type) {
	case string:
		return len(x) <= 40 && !strings.Contains(x, "\n")
	case json.Number, bool, nil:
		return true
	}
	return false
}

// collectText gathers the text a model reads in a value: every string and
// every object key, one per line, in a stable order. It is what Lint sees
// for structured values.
func collectText(v any) string {
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
			b.WriteByte('\n')
		case map[string]any:
			for _, k := range sortedKeys(x) {
				b.WriteString(k)
				b.WriteByte('\n')
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.TrimSuffix(b.String(), "\n")
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// unionKeys returns the keys of a and b, sorted.
func unionKeys(a, b map[string]any) []string {
	ks := make([]string, 0, len(a)+len(b))
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// sub returns a new path: p followed by more. It never aliases p.
func sub(p []string, more ...string) []string {
	out := make([]string, 0, len(p)+len(more))
	return append(append(out, p...), more...)
}

// encodeName percent-encodes an entity name for ignore paths and globbing:
// "%", "/", spaces, controls, invisible characters and invalid UTF-8 become
// %XX, so a name is one path segment and safe to show.
func encodeName(s string) string { return percentEncode(s, false) }

// encodeField percent-encodes one field path component like encodeName,
// and "." too, the field path separator.
func encodeField(s string) string { return percentEncode(s, true) }

func percentEncode(s string, dot bool) string { return escape.PathSegment(s, dot) }

// percentDecode undoes %XX escapes; a "%" not followed by two hex digits is
// kept as it is.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// fieldPath renders a path for Change.Path.
func fieldPath(p []string) string {
	enc := make([]string, len(p))
	for i, c := range p {
		enc[i] = encodeField(c)
	}
	return strings.Join(enc, ".")
}

// label renders a path for summaries: dot-joined, raw (summaries are
// escaped as a whole).
