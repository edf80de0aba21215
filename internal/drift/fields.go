package drift

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/internal/textdiff"
)

// part is one classified difference inside a changed field.
type part struct {
	path  []string // from the entity root, e.g. inputSchema.properties.q
	level severity.Level
	msg   string // raw; the summary is escaped as a whole
}

// parts collects parts; the walkers below append to it.
type parts []part

func (ps *parts) add(p []string, l severity.Level, format string, args ...any) {
	*ps = append(*ps, part{path: p, level: l, msg: fmt.Sprintf(format, args...)})
}

// fieldKind maps an entity's top-level field to a change kind.
func fieldKind(entity, field string) string {
	switch entity {
	case EntityServer:
		switch field {
		case "instructions":
			return KindServerInstructions
		case "capabilities":
			return KindServerCapabilities
		}
		return KindServerInfo // serverInfo, protocolVersion, anything else
	case string(manifest.KindTool):
		switch field {
		case "description":
			return KindToolDescription
		case "inputSchema":
			return KindToolInputSchema
		case "outputSchema":
			return KindToolOutputSchema
		case "annotations":
			return KindToolAnnotations
		case "title":
			return KindToolTitle
		case "icons":
			return KindToolIcons
		}
		return KindToolOther
	case string(manifest.KindPrompt):
		return KindPromptChanged
	case string(manifest.KindResource):
		return KindResourceChanged
	}
	return KindResourceTemplateChanged
}

// fields compares two versions of one entity, one change per differing
// top-level field. skipName leaves out the name field of a renamed tool,
// which the rename change already reports.
func (d *differ) fields(entity, key string, a, b map[string]any, skipName bool) {
	for _, f := range unionKeys(a, b) {
		if skipName && f == "name" {
			continue
		}
		av, aok := a[f]
		bv, bok := b[f]
		if aok && bok && equal(av, bv) {
			continue
		}
		kind := fieldKind(entity, f)
		var ps parts
		switch kind {
		case KindToolInputSchema:
			ps = schemaParts(f, av, bv, aok, bok, "parameter")
		case KindToolOutputSchema:
			ps = schemaParts(f, av, bv, aok, bok, "property")
			// Output schemas do not widen what the model may send: the kind
			// stays at its default, only meaning-preserving edits go lower.
			for i := range ps {
				ps[i].level = min(ps[i].level, d.levels[kind])
			}
		case KindToolAnnotations:
			ps = annotationParts(av, bv, aok, bok)
		default:
			ps.generic([]string{f}, f, av, bv, aok, bok, d.levels[kind], true)
		}
		if len(ps) == 0 {
			// Every walker reports something for differing values; this is a
			// backstop so a difference can never go unreported.
			ps.add([]string{f}, d.levels[kind], "changes %s", f)
		}
		d.emit(entity, key, kind, a, b, ps)
		if kind == KindToolAnnotations {
			d.riskChange(key, a, b)
		}
	}
}

// emit turns the parts of one changed field into a Change.
func (d *differ) emit(entity, key, kind string, a, b map[string]any, ps parts) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].level > ps[j].level })
	level := severity.None
	prefix := ps[0].path
	msgs := make([]string, 0, len(ps))
	for _, p := range ps {
		level = severity.Max(level, p.level)
		prefix = commonPrefix(prefix, p.path)
		if p.msg != "" {
			msgs = append(msgs, p.msg)
		}
	}
	av, aok := lookup(a, prefix)
	bv, bok := lookup(b, prefix)
	before, after := show(av, aok), show(bv, bok)
	if sameToTheEye(before, after) {
		// Shown as they are, both sides would look the same.
		before, after = reveal(before), reveal(after)
	}

	head := "server"
	if entity != EntityServer {
		head = fmt.Sprintf("%s `%s`", entityNoun(entity), escape.Truncate(key, maxSummaryKey))
	}
	if len(msgs) > 3 {
		msgs = append(msgs[:3], fmt.Sprintf("and %d more", len(msgs)-3))
	}
	c := report.Change{
		Kind:    kind,
		Entity:  entity,
		Name:    escape.Line(key),
		Path:    fieldPath(prefix),
		Summary: oneLine(head + ": " + strings.Join(msgs, "; ")),
		Before:  excerpt(before),
		After:   excerpt(after),
		Diff:    diffText(before, after),
	}
	text := ""
	if s, ok := bv.(string); ok {
		text = s
	} else if bok {
		text = collectText(bv)
	}
	d.finish(&c, level, key, text, bok)
}

func commonPrefix(a, b []string) []string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n:n]
}

// generic classifies the differences between two plain JSON values:
// whitespace-only text edits are info, everything else is at level lvl.
// extend is false inside elements matched by name, whose index differs
// between the sides: their parts stay at the array's path.
func (ps *parts) generic(p []string, lbl string, a, b any, aok, bok bool, lvl severity.Level, extend bool) {
	switch {
	case !aok && !bok:
		return
	case !aok:
		ps.add(p, lvl, "adds %s%s", lbl, valueNote(b))
		return
	case !bok:
		ps.add(p, lvl, "removes %s", lbl)
		return
	case equal(a, b):
		return
	}
	at := func(k string) []string {
		if extend {
			return sub(p, k)
		}
		return p
	}
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			for _, k := range unionKeys(x, y) {
				xv, xok := x[k]
				yv, yok := y[k]
				ps.generic(at(k), lbl+"."+k, xv, yv, xok, yok, lvl, extend)
			}
			return
		}
	case []any:
		if y, ok := b.([]any); ok {
			if ps.namedList(p, lbl, x, y, lvl) {
				return
			}
			if len(x) == len(y) {
				for i := range x {
					ps.generic(at(fmt.Sprint(i)), fmt.Sprintf("%s[%d]", lbl, i), x[i], y[i], true, true, lvl, extend)
				}
				return
			}
			ps.add(p, lvl, "changes %s (%d -> %d items)", lbl, len(x), len(y))
			return
		}
	case string:
		if y, ok := b.(string); ok {
			ps.text(p, lbl, x, y, lvl)
			return
		}
	}
	ps.add(p, lvl, "changes %s%s", lbl, fromTo(a, b))
}

// text classifies a change of one string.
func (ps *parts) text(p []string, lbl, a, b string, lvl severity.Level) {
	if textdiff.WhitespaceOnly(a, b) {
		ps.add(p, severity.Info, "changes whitespace in %s", lbl)
		return
	}
	if sameToTheEye(a, b) {
		ps.add(p, lvl, "%s", normalizationNote(lbl, a, b))
		return
	}
	ps.add(p, lvl, "changes %s%s%s", lbl, fromTo(a, b), invisibleNote(a, b))
}

// namedList compares arrays of objects identified by a unique "name" (prompt
// arguments, for one) by name rather than by position. It returns false
// when the arrays are not such lists.
func (ps *parts) namedList(p []string, lbl string, a, b []any, lvl severity.Level) bool {
	an, ok1 := byName(a)
	bn, ok2 := byName(b)
	if !ok1 || !ok2 {
		return false
	}
	noun := lbl
	if i := strings.LastIndexByte(noun, '.'); i >= 0 {
		noun = noun[i+1:]
	}
	noun = strings.TrimSuffix(noun, "s")
	before := len(*ps)
	for _, n := range unionKeys(an, bn) {
		x, xok := an[n]
		y, yok := bn[n]
		switch {
		case !xok:
			ps.add(p, lvl, "adds %s `%s`", noun, n)
		case !yok:
			ps.add(p, lvl, "removes %s `%s`", noun, n)
		default:
			ps.generic(p, fmt.Sprintf("%s `%s`", noun, n), x, y, true, true, lvl, false)
		}
	}
	if len(*ps) == before {
		// Same members by name, each unchanged: only the order differs.
		ps.add(p, severity.Info, "reorders %s", lbl)
	}
	return true
}

func byName(l []any) (map[string]any, bool) {
	if len(l) == 0 {
		return nil, false
	}
	out := make(map[string]any, len(l))
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		n, ok := m["name"].(string)
		if !ok {
			return nil, false
		}
		if _, dup := out[n]; dup {
			return nil, false
		}
		out[n] = m
	}
	return out, true
}

// sameMembers reports whether a and b hold the same values, counted, in any
// order.
func sameMembers(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, x := range a {
		count[marshalKey(x)]++
	}
	for _, y := range b {
		k := marshalKey(y)
		if count[k] == 0 {
			return false
		}
		count[k]--
	}
	return true
}

// fromTo quotes short scalar values: ` from "1.0" to "1.1"`.
func fromTo(a, b any) string {
	if !scalar(a) || !scalar(b) {
		return ""
	}
	return fmt.Sprintf(" from %s to %s", compact(a, 40), compact(b, 40))
}

// valueNote quotes a short added value: ` "2025-06-18"`.
func valueNote(v any) string {
	if !scalar(v) {
		return ""
	}
	return " " + compact(v, 40)
}

// invisibleNote flags text that gained invisible characters.
func invisibleNote(a, b string) string {
	na, nb := escape.CountInvisible(a), escape.CountInvisible(b)
	if nb > na {
		return fmt.Sprintf(" (adds %d invisible character(s))", nb-na)
	}
	return ""
}

// hintNames lists the annotation hints in the order hints returns them.
func hintNames() [4]string {
	return [4]string{"readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"}
}

// annotationParts classifies an annotations change. Hints compare through
// their spec defaults (manifest.EffectiveHints): an escalation
// (readOnlyHint true -> false, destructiveHint false -> true) is high, any
// other change of meaning medium, and spelling a default out or dropping it
// info. Other annotation fields (title) are medium.
func annotationParts(a, b any, aok, bok bool) parts {
	var ps parts
	ha, hb := hints(a, aok), hints(b, bok)
	am, aIsObj := a.(map[string]any)
	bm, bIsObj := b.(map[string]any)
	if (aok && !aIsObj) || (bok && !bIsObj) {
		ps.add([]string{"annotations"}, severity.Medium, "changes annotations (not an object)")
	}
	for i, h := range hintNames() {
		p := []string{"annotations", h}
		x, xok := am[h]
		y, yok := bm[h]
		if xok == yok && equal(x, y) {
			continue
		}
		ea, eb := ha[i], hb[i]
		switch {
		case ea != eb && (i == 0 && ea || i == 1 && !ea):
			ps.add(p, severity.High, "%s %v -> %v (escalation)", h, ea, eb)
		case ea != eb:
			ps.add(p, severity.Medium, "%s %v -> %v", h, ea, eb)
		case !xok:
			ps.add(p, severity.Info, "spells out default %s: %v", h, eb)
		case !yok:
			ps.add(p, severity.Info, "drops %s (default %v)", h, ea)
		default:
			ps.add(p, severity.Info, "%s %s -> %s (same meaning)", h, compact(x, 40), compact(y, 40))
		}
	}
	rest := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for _, h := range hintNames() {
			delete(out, h)
		}
		return out
	}
	ra, rb := rest(am), rest(bm)
	for _, k := range unionKeys(ra, rb) {
		x, xok := ra[k]
		y, yok := rb[k]
		ps.generic([]string{"annotations", k}, "annotations."+k, x, y, xok, yok, severity.Medium, true)
	}
	if len(ps) == 0 {
		// Only an empty annotations object appeared or went away.
		what := "drops empty annotations"
		if !aok {
			what = "adds empty annotations"
		}
		ps.add([]string{"annotations"}, severity.Info, "%s", what)
	}
	return ps
}

// hints returns the effective hints in hintNames order.
func hints(ann any, ok bool) [4]bool {
	tool := map[string]any{}
	if ok {
		tool["annotations"] = ann
	}
	raw, err := json.Marshal(tool)
	if err != nil {
		raw = []byte("{}")
	}
	h := manifest.EffectiveHints(raw)
	return [4]bool{h.ReadOnly, h.Destructive, h.Idempotent, h.OpenWorld}
}
