package drift

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// A JSON Schema change is medium unless it makes the tool accept more than
// before (widening) or changes text the model reads; those are high.
// Narrowing (a new required entry, a tighter bound) stays medium, and
// meaning-preserving edits (reordered enum, type or required lists,
// whitespace in descriptions) are info.
const (
	widen   = severity.High
	visible = severity.High
	narrow  = severity.Medium
	plain   = severity.Medium
	same    = severity.Info
)

// schemaParts classifies the differences between two versions of a tool's
// input or output schema (field is "inputSchema" or "outputSchema"). noun
// names what the schema's properties are ("parameter" or "property").
func schemaParts(field string, a, b any, aok, bok bool, noun string) parts {
	w := schemaWalker{noun: noun, rootA: a, rootB: b}
	w.schema([]string{field}, "", "schema", a, b, aok, bok)
	return w.ps
}

type schemaWalker struct {
	ps   parts
	noun string
	// rootA and rootB are the whole schemas, which local $refs point
	// into; following holds the $ref pairs being compared by their
	// targets, so that a recursive schema is followed once.
	rootA, rootB any
	following    map[[2]string]bool
	followed     int
}

// maxRefChain bounds a chain of $refs to $refs; maxRefFollows the $ref
// switches compared by their targets in one schema, so that a hostile
// schema whose definitions refer to each other cannot make the walk
// exponential. Past it, a switch is a plain $ref change.
const (
	maxRefChain   = 8
	maxRefFollows = 256
)

// resolveRef returns the target of a local $ref ("#", "#/$defs/name", any
// "#/json/pointer") in root.
func resolveRef(root any, ref string) (any, bool) {
	if ref == "#" {
		return root, true
	}
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	cur := root
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			if cur, ok = c[tok]; !ok {
				return nil, false
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(tok, &i); err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// deref returns an object schema with its local $ref replaced by the
// target's keywords (the object's own keywords win, as they are checked
// too), and the $ref it followed ("" when none). A $ref that does not
// resolve locally is left for the keyword comparison.
func deref(root any, m map[string]any) (map[string]any, string) {
	first := ""
	for range maxRefChain {
		ref, ok := m["$ref"].(string)
		if !ok {
			break
		}
		target, ok := resolveRef(root, ref)
		tm, isObj := target.(map[string]any)
		if !ok || !isObj {
			break
		}
		if first == "" {
			first = ref
		}
		merged := make(map[string]any, len(m)+len(tm))
		for k, v := range tm {
			merged[k] = v
		}
		for k, v := range m {
			if k != "$ref" {
				merged[k] = v
			}
		}
		if _, chained := tm["$ref"]; !chained {
			delete(merged, "$ref")
		}
		m = merged
	}
	return m, first
}

// objects compares two object schemas through their local $refs: a switch
// to another definition is compared by what the definitions accept, so a
// $ref to a new, wider $defs entry is widening.
func (w *schemaWalker) objects(p []string, lbl string, a, b map[string]any) {
	ra, rb := refOf(a), refOf(b)
	if ra == "" && rb == "" || ra == rb {
		// Same $ref (its target's changes are reported under $defs) or
		// none.
		w.object(p, lbl, a, b)
		return
	}
	key := [2]string{ra, rb}
	if w.following[key] || w.followed >= maxRefFollows {
		w.object(p, lbl, a, b)
		return
	}
	da, fa := deref(w.rootA, a)
	db, fb := deref(w.rootB, b)
	if fa == "" && fb == "" {
		w.object(p, lbl, a, b)
		return
	}
	if w.following == nil {
		w.following = map[[2]string]bool{}
	}
	w.following[key] = true
	w.followed++
	defer delete(w.following, key)
	w.ps.add(sub(p, "$ref"), plain, "switches $ref%s from %s to %s", of(lbl), refLabel(ra), refLabel(rb))
	delete(da, "$ref")
	delete(db, "$ref")
	if !equal(da, db) {
		w.object(p, lbl, da, db)
	}
}

func refOf(m map[string]any) string {
	r, _ := m["$ref"].(string)
	return r
}

func refLabel(ref string) string {
	if ref == "" {
		return "an inline schema"
	}
	return compact(ref, 60)
}

// on, of and to phrase where a keyword sits: nothing at the root, else the
// property's dotted label.
func on(lbl string) string {
	if lbl == "" {
		return ""
	}
	return " on `" + lbl + "`"
}

func of(lbl string) string {
	if lbl == "" {
		return ""
	}
	return " of `" + lbl + "`"
}

func child(lbl, name string) string {
	if lbl == "" {
		return name
	}
	return lbl + "." + name
}

// permissive reports whether a schema accepts anything: true or {}.
func permissive(v any) bool {
	if b, ok := v.(bool); ok {
		return b
	}
	m, ok := v.(map[string]any)
	return ok && len(m) == 0
}

// schema compares two (sub)schemas at path p. what names the slot for
// add/remove messages ("schema", "items schema", "not schema"...).
func (w *schemaWalker) schema(p []string, lbl, what string, a, b any, aok, bok bool) {
	switch {
	case !aok && !bok:
		return
	case aok && bok && equal(a, b):
		return
	case !aok:
		w.ps.add(p, plain, "adds %s%s", what, on(lbl))
		// Walk from an empty schema so new parameters inside still count.
		if _, ok := b.(map[string]any); ok {
			w.object(p, lbl, map[string]any{}, b.(map[string]any))
		}
		return
	case !bok:
		w.ps.add(p, widen, "removes %s%s (anything goes)", what, on(lbl))
		return
	}
	am, aObj := a.(map[string]any)
	bm, bObj := b.(map[string]any)
	switch {
	case aObj && bObj:
		w.objects(p, lbl, am, bm)
	case permissive(b) && !permissive(a):
		w.ps.add(p, widen, "drops every constraint%s (%s is now %s)", on(lbl), what, compact(b, 20))
	default:
		w.ps.add(p, plain, "replaces %s%s", what, on(lbl))
	}
}

// object compares two object schemas keyword by keyword.
func (w *schemaWalker) object(p []string, lbl string, a, b map[string]any) {
	for _, k := range unionKeys(a, b) {
		x, xok := a[k]
		y, yok := b[k]
		if xok && yok && equal(x, y) {
			continue
		}
		kp := sub(p, k)
		switch k {
		case "properties":
			w.properties(p, lbl, a, b)
		case "patternProperties":
			w.schemaMap(kp, lbl, "pattern property", x, y, xok, yok, widen)
		case "$defs", "definitions", "dependentSchemas":
			w.schemaMap(kp, lbl, "definition", x, y, xok, yok, plain)
		case "required":
			w.required(kp, lbl, a, b)
		case "additionalProperties", "unevaluatedProperties", "additionalItems", "unevaluatedItems":
			w.closing(kp, lbl, k, x, y, xok, yok)
		case "enum":
			w.enum(kp, lbl, x, y, xok, yok)
		case "const":
			w.value(kp, lbl, k, x, y, xok, yok, widen, visible)
		case "type":
			w.types(kp, lbl, x, y, xok, yok)
		case "maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties", "maxContains":
			w.bound(kp, lbl, k, x, y, xok, yok, true)
		case "minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties", "minContains":
			w.bound(kp, lbl, k, x, y, xok, yok, false)
		case "pattern":
			w.pattern(kp, lbl, x, y, xok, yok)
		case "format", "multipleOf", "contentMediaType", "contentEncoding":
			// Dropping one accepts more; adding or changing one is a change.
			w.value(kp, lbl, k, x, y, xok, yok, widen, plain)
		case "uniqueItems":
			if x == true && y != true {
				w.ps.add(kp, widen, "drops uniqueItems%s", on(lbl))
			} else {
				w.value(kp, lbl, k, x, y, xok, yok, plain, plain)
			}
		case "description", "title", "$comment":
			w.text(kp, lbl, k, x, y, xok, yok)
		case "default", "examples", "example":
			w.value(kp, lbl, k, x, y, xok, yok, visible, visible)
		case "items":
			w.items(kp, lbl, x, y, xok, yok)
		case "prefixItems":
			w.tuple(kp, lbl, x, y, xok, yok)
		case "allOf", "anyOf", "oneOf":
			w.composition(kp, lbl, k, x, y, xok, yok)
		case "not", "if", "then", "else", "contains", "propertyNames", "contentSchema":
			w.schema(kp, lbl, k+" schema", x, y, xok, yok)
		case "$ref", "$dynamicRef", "$recursiveRef":
			w.value(kp, lbl, k, x, y, xok, yok, plain, plain)
		default:
			w.ps.generic(kp, keyword(lbl, k), x, y, xok, yok, plain, true)
		}
	}
}

func keyword(lbl, k string) string {
	if lbl == "" {
		return k
	}
	return k + " of `" + lbl + "`"
}

// properties compares the parameters of an object schema.
func (w *schemaWalker) properties(p []string, lbl string, a, b map[string]any) {
	x, xok := a["properties"]
	y, yok := b["properties"]
	xm, xIsObj := x.(map[string]any)
	ym, yIsObj := y.(map[string]any)
	if (xok && !xIsObj) || (yok && !yIsObj) {
		w.ps.generic(sub(p, "properties"), keyword(lbl, "properties"), x, y, xok, yok, plain, true)
		return
	}
	required := stringSet(b["required"])
	for _, name := range unionKeys(xm, ym) {
		pp := sub(p, "properties", name)
		c := child(lbl, name)
		xs, had := xm[name]
		ys, has := ym[name]
		switch {
		case !had && required[name]:
			w.ps.add(pp, widen, "adds required %s `%s`", w.noun, c)
		case !had:
			w.ps.add(pp, widen, "adds %s `%s`", w.noun, c)
		case !has:
			w.ps.add(pp, narrow, "removes %s `%s`", w.noun, c)
		default:
			w.schema(pp, c, "schema", xs, ys, true, true)
		}
	}
}

// required compares required lists as sets (manifest sorts them already).
func (w *schemaWalker) required(p []string, lbl string, a, b map[string]any) {
	x, xok := a["required"]
	y, yok := b["required"]
	if (xok && !isStrings(x)) || (yok && !isStrings(y)) {
		w.ps.generic(p, keyword(lbl, "required"), x, y, xok, yok, plain, true)
		return
	}
	xs, ys := stringSet(x), stringSet(y)
	xp, _ := a["properties"].(map[string]any)
	yp, _ := b["properties"].(map[string]any)
	changed := false
	for _, n := range sortedSet(ys) {
		if xs[n] {
			continue
		}
		changed = true
		_, had := xp[n]
		_, has := yp[n]
		if !had && has {
			// Summarised as "adds required parameter"; the part only puts
			// the required list into the change's Path and diff.
			w.ps.add(p, widen, "")
			continue
		}
		w.ps.add(p, narrow, "makes `%s` required", child(lbl, n))
	}
	for _, n := range sortedSet(xs) {
		if ys[n] {
			continue
		}
		changed = true
		_, had := xp[n]
		_, has := yp[n]
		if had && !has {
			// The parameter went away: nothing is widened, and "removes
			// parameter" says it all.
			w.ps.add(p, narrow, "")
			continue
		}
		w.ps.add(p, widen, "drops `%s` from required", child(lbl, n))
	}
	switch {
	case changed:
	case xok && yok:
		w.ps.add(p, same, "reorders required%s", of(lbl))
	case xok:
		w.ps.add(p, same, "drops empty required list%s", on(lbl))
	default:
		w.ps.add(p, same, "adds empty required list%s", on(lbl))
	}
}

func isStrings(v any) bool {
	l, ok := v.([]any)
	if !ok {
		return false
	}
	for _, e := range l {
		if _, ok := e.(string); !ok {
			return false
		}
	}
	return true
}

func stringSet(v any) map[string]bool {
	out := map[string]bool{}
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out[s] = true
		}
	}
	return out
}

func sortedSet(s map[string]bool) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// closing handles keywords whose false value closes a schema to anything
// not listed (additionalProperties and friends).
func (w *schemaWalker) closing(p []string, lbl, k string, x, y any, xok, yok bool) {
	switch {
	case xok && x == false:
		w.ps.add(p, widen, "drops %s:false%s", k, on(lbl))
	case yok && y == false:
		w.ps.add(p, narrow, "adds %s:false%s", k, on(lbl))
	default:
		w.schema(p, child(lbl, "*"), k+" schema", x, y, xok, yok)
	}
}

// enum: any change of the allowed values is high (they are text the model
// reads, and dropping the list widens); a reorder is info.
func (w *schemaWalker) enum(p []string, lbl string, x, y any, xok, yok bool) {
	xl, xIsList := x.([]any)
	yl, yIsList := y.([]any)
	switch {
	case !yok:
		w.ps.add(p, widen, "drops enum limit%s", on(lbl))
		return
	case !xok:
		w.ps.add(p, visible, "adds enum limit%s: %s", on(lbl), compact(y, 60))
		return
	case !xIsList || !yIsList:
		w.ps.add(p, visible, "changes enum%s", of(lbl))
		return
	case sameMembers(xl, yl):
		w.ps.add(p, same, "reorders enum%s", of(lbl))
		return
	}
	added, removed := listDiff(xl, yl)
	if len(added) > 0 {
		w.ps.add(p, visible, "adds enum value(s) %s%s", strings.Join(added, ", "), to(lbl))
	}
	if len(removed) > 0 {
		w.ps.add(p, visible, "removes enum value(s) %s%s", strings.Join(removed, ", "), from(lbl))
	}
	if len(added) == 0 && len(removed) == 0 {
		w.ps.add(p, visible, "changes enum%s", of(lbl))
	}
}

func to(lbl string) string {
	if lbl == "" {
		return ""
	}
	return " to `" + lbl + "`"
}

func from(lbl string) string {
	if lbl == "" {
		return ""
	}
	return " from `" + lbl + "`"
}

// listDiff returns the values (as short JSON) only in b, and only in a.
func listDiff(a, b []any) (added, removed []string) {
	inA, inB := map[string]bool{}, map[string]bool{}
	for _, v := range a {
		inA[marshalKey(v)] = true
	}
	for _, v := range b {
		inB[marshalKey(v)] = true
	}
	for _, v := range b {
		if k := marshalKey(v); !inA[k] {
			inA[k] = true // report each value once
			added = append(added, compact(v, 40))
		}
	}
	for _, v := range a {
		if k := marshalKey(v); !inB[k] {
			inB[k] = true
			removed = append(removed, compact(v, 40))
		}
	}
	return added, removed
}

// types compares type as a set: new accepted types widen.
func (w *schemaWalker) types(p []string, lbl string, x, y any, xok, yok bool) {
	xs, xValid := typeSet(x)
	ys, yValid := typeSet(y)
	switch {
	case !yok:
		w.ps.add(p, widen, "drops type%s (was %s)", on(lbl), compact(x, 40))
		return
	case !xok:
		w.ps.add(p, narrow, "adds type %s%s", compact(y, 40), to(lbl))
		return
	case !xValid || !yValid:
		w.ps.add(p, plain, "changes type%s from %s to %s", of(lbl), compact(x, 40), compact(y, 40))
		return
	}
	var added, removed bool
	for t := range ys {
		added = added || !xs[t]
	}
	for t := range xs {
		removed = removed || !ys[t]
	}
	switch {
	case !added && !removed:
		w.ps.add(p, same, "reorders type%s", of(lbl))
	case added && !removed:
		w.ps.add(p, widen, "widens type%s from %s to %s", of(lbl), compact(x, 40), compact(y, 40))
	case added:
		w.ps.add(p, widen, "changes type%s from %s to %s", of(lbl), compact(x, 40), compact(y, 40))
	default:
		w.ps.add(p, narrow, "narrows type%s from %s to %s", of(lbl), compact(x, 40), compact(y, 40))
	}
}

func typeSet(v any) (map[string]bool, bool) {
	if s, ok := v.(string); ok {
		return map[string]bool{s: true}, true
	}
	if !isStrings(v) {
		return nil, false
	}
	return stringSet(v), true
}

// bound compares a numeric limit. upper is true for maxima: dropping a limit
// or moving it outward widens.
func (w *schemaWalker) bound(p []string, lbl, k string, x, y any, xok, yok, upper bool) {
	switch {
	case !yok:
		w.ps.add(p, widen, "drops %s %s%s", k, compact(x, 40), on(lbl))
		return
	case !xok:
		w.ps.add(p, narrow, "adds %s %s%s", k, compact(y, 40), to(lbl))
		return
	}
	// Draft-04 exclusiveMaximum/Minimum are booleans.
	if xb, ok := x.(bool); ok {
		if xb && y != true {
			w.ps.add(p, widen, "relaxes %s%s from true to %s", k, of(lbl), compact(y, 20))
		} else {
			w.ps.add(p, plain, "changes %s%s from %s to %s", k, of(lbl), compact(x, 20), compact(y, 20))
		}
		return
	}
	xn, xNum := x.(json.Number)
	yn, yNum := y.(json.Number)
	if xNum && yNum {
		if c, ok := numCompare(xn, yn); ok {
			if (upper && c < 0) || (!upper && c > 0) {
				w.ps.add(p, widen, "relaxes %s%s from %s to %s", k, of(lbl), xn, yn)
			} else {
				w.ps.add(p, narrow, "tightens %s%s from %s to %s", k, of(lbl), xn, yn)
			}
			return
		}
	}
	w.ps.add(p, plain, "changes %s%s from %s to %s", k, of(lbl), compact(x, 20), compact(y, 20))
}

// numCompare compares two JSON numbers by value, also those outside the
// float64 range (1e400, which canonical forms keep): -1, 0 or 1, and false
// when either is not a number.
func numCompare(x, y json.Number) (int, bool) {
	xf, err1 := x.Float64()
	yf, err2 := y.Float64()
	if err1 == nil && err2 == nil {
		return cmp.Compare(xf, yf), true
	}
	bx, ok1 := new(big.Float).SetPrec(256).SetString(string(x))
	by, ok2 := new(big.Float).SetPrec(256).SetString(string(y))
	if !ok1 || !ok2 {
		return 0, false
	}
	return bx.Cmp(by), true
}

// pattern: dropping it widens; a changed regexp may accept more and cannot
// be compared, so it counts as widening too.
func (w *schemaWalker) pattern(p []string, lbl string, x, y any, xok, yok bool) {
	switch {
	case !yok:
		w.ps.add(p, widen, "drops pattern %s%s", compact(x, 60), on(lbl))
	case !xok:
		w.ps.add(p, narrow, "adds pattern %s%s", compact(y, 60), to(lbl))
	default:
		w.ps.add(p, widen, "changes pattern%s from %s to %s", of(lbl), compact(x, 60), compact(y, 60))
	}
}

// value compares a keyword whose value is opaque: dropped is at level
// dropped, added or changed at level changed.
func (w *schemaWalker) value(p []string, lbl, k string, x, y any, xok, yok bool, dropped, changed severity.Level) {
	switch {
	case !yok:
		w.ps.add(p, dropped, "drops %s%s%s", k, of(lbl), valueNote(x))
	case !xok:
		w.ps.add(p, changed, "adds %s%s%s", k, to(lbl), valueNote(y))
	default:
		w.ps.add(p, changed, "changes %s%s%s", k, of(lbl), fromTo(x, y))
	}
}

// text compares model-visible text (description, title): high, unless only
// whitespace moved.
func (w *schemaWalker) text(p []string, lbl, k string, x, y any, xok, yok bool) {
	xs, xStr := x.(string)
	ys, yStr := y.(string)
	if xok && yok && xStr && yStr {
		w.ps.text(p, k+of(lbl), xs, ys, visible)
		return
	}
	w.ps.generic(p, k+of(lbl), x, y, xok, yok, visible, true)
}

// schemaMap compares keyword maps of schemas ($defs, patternProperties).
// A new entry is at level added; a removed one is plain.
func (w *schemaWalker) schemaMap(p []string, lbl, noun string, x, y any, xok, yok bool, added severity.Level) {
	xm, xIsObj := x.(map[string]any)
	ym, yIsObj := y.(map[string]any)
	if (xok && !xIsObj) || (yok && !yIsObj) {
		w.ps.generic(p, keyword(lbl, p[len(p)-1]), x, y, xok, yok, plain, true)
		return
	}
	for _, name := range unionKeys(xm, ym) {
		xs, had := xm[name]
		ys, has := ym[name]
		np := sub(p, name)
		switch {
		case !had:
			w.ps.add(np, added, "adds %s `%s`%s", noun, name, on(lbl))
		case !has:
			w.ps.add(np, plain, "removes %s `%s`%s", noun, name, on(lbl))
		default:
			w.schema(np, child(lbl, p[len(p)-1]+"/"+name), "schema", xs, ys, true, true)
		}
	}
}

// items compares the item schema of an array (or a draft-04 tuple).
func (w *schemaWalker) items(p []string, lbl string, x, y any, xok, yok bool) {
	if _, ok := x.([]any); ok {
		w.tuple(p, lbl, x, y, xok, yok)
		return
	}
	if _, ok := y.([]any); ok {
		w.tuple(p, lbl, x, y, xok, yok)
		return
	}
	w.schema(p, lbl+"[]", "items schema", x, y, xok, yok)
}

// tuple compares positional item schemas.
func (w *schemaWalker) tuple(p []string, lbl string, x, y any, xok, yok bool) {
	xl, xIsList := x.([]any)
	yl, yIsList := y.([]any)
	if !xIsList || !yIsList {
		w.schema(p, lbl+"[]", "items schema", x, y, xok, yok)
		return
	}
	for i := range max(len(xl), len(yl)) {
		ip := sub(p, fmt.Sprint(i))
		il := fmt.Sprintf("%s[%d]", lbl, i)
		switch {
		case i >= len(xl):
			w.ps.add(ip, plain, "adds tuple item `%s`", il)
		case i >= len(yl):
			w.ps.add(ip, plain, "removes tuple item `%s`", il)
		default:
			w.schema(ip, il, "schema", xl[i], yl[i], true, true)
		}
	}
}

// composition compares allOf/anyOf/oneOf. More anyOf/oneOf branches, fewer
// allOf constraints, or dropping the keyword accept more: high.
func (w *schemaWalker) composition(p []string, lbl, k string, x, y any, xok, yok bool) {
	xl, xIsList := x.([]any)
	yl, yIsList := y.([]any)
	switch {
	case !yok:
		w.ps.add(p, widen, "drops %s%s", k, on(lbl))
		return
	case !xok:
		w.ps.add(p, narrow, "adds %s%s", k, on(lbl))
		return
	case !xIsList || !yIsList:
		w.ps.add(p, plain, "changes %s%s", k, of(lbl))
		return
	}
	if sameMembers(xl, yl) {
		w.ps.add(p, same, "reorders %s%s", k, of(lbl))
		return
	}
	for i := range min(len(xl), len(yl)) {
		w.schema(sub(p, fmt.Sprint(i)), lbl, fmt.Sprintf("%s[%d] schema", k, i), xl[i], yl[i], true, true)
	}
	grow := severity.Medium
	if k != "allOf" {
		grow = widen
	}
	shrink := widen
	if k != "allOf" {
		shrink = narrow
	}
	switch {
	case len(yl) > len(xl):
		w.ps.add(p, grow, "adds %d %s branch(es)%s", len(yl)-len(xl), k, on(lbl))
	case len(yl) < len(xl):
		w.ps.add(p, shrink, "removes %d %s branch(es)%s", len(xl)-len(yl), k, on(lbl))
	}
}
