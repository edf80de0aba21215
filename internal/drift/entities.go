package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
	"github.com/mcpdrift/mcpdrift/internal/textdiff"
)

// Limits on what a change carries, so a hostile megabyte description makes
// a readable report and not a megabyte alert.
const (
	maxExcerpt    = 4096 // bytes of Before and After
	maxDiff       = 8192 // bytes of Diff
	maxSummary    = 400  // bytes of Summary
	maxSummaryKey = 80   // bytes of an entity key quoted in a summary
)

// Rename detection.
const (
	// renameSimilarity is how alike two descriptions must be for a removed
	// and an added tool with the same input schema to be one renamed tool.
	renameSimilarity = 0.9
	// renameBudget bounds the description bytes compared while looking for
	// renames, so a hostile manifest of thousands of look-alike tools cannot
	// stall a diff. Past it, only exact renames are found.
	renameBudget = 8 << 20
)

// differ holds the state of one Diff call.
type differ struct {
	p      Policy
	rules  []rule
	levels map[string]severity.Level
	out    []report.Change
}

func newDiffer(p Policy) *differ {
	d := &differ{p: p, levels: defaults()}
	for _, ig := range p.Ignore {
		if r, ok := parseIgnore(ig); ok {
			d.rules = append(d.rules, r)
		}
	}
	return d
}

// side is one decoded entity, after ignore rules.
type side struct {
	key string
	v   map[string]any
}

func (d *differ) server(a, b json.RawMessage) {
	if bytes.Equal(a, b) {
		return
	}
	drop, rs := d.rulesFor(EntityServer, "")
	if drop {
		return
	}
	am, bm := decodeObject(a), decodeObject(b)
	prune(am, rs)
	prune(bm, rs)
	d.fields(EntityServer, "", am, bm, false)
}

func (d *differ) entities(k manifest.Kind, base, snap []manifest.Entity) {
	entity := string(k)
	bg, sg := group(base), group(snap)
	keys := make([]string, 0, len(bg)+len(sg))
	for key := range bg {
		keys = append(keys, key)
	}
	for key := range sg {
		if _, ok := bg[key]; !ok {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)

	var removed, added []side
	for _, key := range keys {
		bs, ss := unmatched(bg[key], sg[key])
		if len(bs) == 0 && len(ss) == 0 {
			continue
		}
		drop, rs := d.rulesFor(entity, key)
		if drop {
			continue
		}
		load := func(e manifest.Entity) side {
			v := decodeObject(e.JSON)
			prune(v, rs)
			return side{key: key, v: v}
		}
		n := min(len(bs), len(ss))
		for i := range n {
			d.fields(entity, key, load(bs[i]).v, load(ss[i]).v, false)
		}
		for _, e := range bs[n:] {
			removed = append(removed, load(e))
		}
		for _, e := range ss[n:] {
			added = append(added, load(e))
		}
	}
	if k == manifest.KindTool {
		var pairs []renamed
		pairs, removed, added = findRenames(removed, added)
		for _, r := range pairs {
			d.rename(r)
		}
	}
	for _, s := range removed {
		d.whole(entity, "removed", s)
	}
	for _, s := range added {
		d.whole(entity, "added", s)
	}
}

// group indexes entities by key; entities sharing a key are sorted by their
// bytes so pairing does not depend on input order.
func group(es []manifest.Entity) map[string][]manifest.Entity {
	g := make(map[string][]manifest.Entity, len(es))
	for _, e := range es {
		g[e.Key] = append(g[e.Key], e)
	}
	for _, l := range g {
		if len(l) > 1 {
			sort.SliceStable(l, func(i, j int) bool { return bytes.Compare(l[i].JSON, l[j].JSON) < 0 })
		}
	}
	return g
}

// unmatched drops the entities present, byte for byte, on both sides; what
// is left is paired by position, and the excess is added or removed.
func unmatched(bs, ss []manifest.Entity) ([]manifest.Entity, []manifest.Entity) {
	if len(bs) == 1 && len(ss) == 1 {
		if bytes.Equal(bs[0].JSON, ss[0].JSON) {
			return nil, nil
		}
		return bs, ss
	}
	if len(bs) == 0 || len(ss) == 0 {
		return bs, ss
	}
	avail := map[string]int{}
	for _, e := range ss {
		avail[string(e.JSON)]++
	}
	var keepB []manifest.Entity
	for _, e := range bs {
		if avail[string(e.JSON)] > 0 {
			avail[string(e.JSON)]--
			continue
		}
		keepB = append(keepB, e)
	}
	var keepS []manifest.Entity
	for _, e := range ss {
		if avail[string(e.JSON)] > 0 {
			avail[string(e.JSON)]--
			keepS = append(keepS, e)
		}
	}
	return keepB, keepS
}

// whole reports an added or removed entity.
func (d *differ) whole(entity, what string, s side) {
	kind := entity + "." + what
	text := pretty(s.v)
	c := report.Change{Kind: kind, Entity: entity, Name: escape.Line(s.key)}
	head := fmt.Sprintf("%s `%s`", entityNoun(entity), escape.Truncate(s.key, maxSummaryKey))
	if what == "added" {
		c.After = excerpt(text)
		c.Diff = diffText("", text)
		c.Summary = "new " + head
		if desc, ok := s.v["description"].(string); ok && desc != "" {
			c.Summary += ": " + desc
		}
		c.Summary = oneLine(c.Summary)
		d.finish(&c, d.levels[kind], s.key, collectText(s.v), true)
		return
	}
	c.Before = excerpt(text)
	c.Diff = diffText(text, "")
	c.Summary = oneLine(head + " removed")
	d.finish(&c, d.levels[kind], s.key, "", false)
}

// renamed is a removed tool paired with an added one.
type renamed struct {
	from, to side
	score    float64 // description similarity; 1 when identical but for the name
	exact    bool
	// shape, when set, is the parameter list ("a:number, b:number") of a
	// pair matched on parameters and description words rather than on
	// the whole input schema.
	shape string
}

func (d *differ) rename(r renamed) {
	c := report.Change{
		Kind:   KindToolRenamed,
		Entity: string(manifest.KindTool),
		Name:   escape.Line(r.to.key),
		Before: excerpt(r.from.key),
		After:  excerpt(r.to.key),
		Diff:   truncateDiff(textdiff.Words(r.from.key, r.to.key)),
	}
	why := "otherwise identical"
	switch {
	case r.shape != "":
		why = fmt.Sprintf("same parameters %s, descriptions share %.0f%% of their words", r.shape, r.score*100)
	case !r.exact:
		why = fmt.Sprintf("same input schema, descriptions %.0f%% alike", r.score*100)
	}
	c.Summary = oneLine(fmt.Sprintf("tool `%s` renamed to `%s` (%s)",
		escape.Truncate(r.from.key, maxSummaryKey), escape.Truncate(r.to.key, maxSummaryKey), why))
	d.finish(&c, d.levels[KindToolRenamed], r.to.key, collectText(r.to.v), true)
	d.fields(string(manifest.KindTool), r.to.key, r.from.v, r.to.v, true)
}

// findRenames pairs removed and added tools that are the same tool under a
// new name: first those identical except for the name, then those with the
// same input schema and descriptions at least renameSimilarity alike, best
// match first. Ties break on key order, so the pairing is deterministic.
func findRenames(removed, added []side) ([]renamed, []side, []side) {
	if len(removed) == 0 || len(added) == 0 {
		return nil, removed, added
	}
	usedR, usedA := make([]bool, len(removed)), make([]bool, len(added))
	var pairs []renamed

	byBody := map[string][]int{}
	for j, a := range added {
		k := bodyKey(a.v)
		byBody[k] = append(byBody[k], j)
	}
	for i, r := range removed {
		k := bodyKey(r.v)
		if l := byBody[k]; len(l) > 0 {
			byBody[k] = l[1:]
			usedR[i], usedA[l[0]] = true, true
			pairs = append(pairs, renamed{from: r, to: added[l[0]], score: 1, exact: true})
		}
	}

	bySchema := map[string][]int{}
	for j, a := range added {
		if !usedA[j] {
			k := schemaKey(a.v)
			bySchema[k] = append(bySchema[k], j)
		}
	}
	type candidate struct {
		r, a  int
		score float64
	}
	var cands []candidate
	budget := renameBudget
	for i, r := range removed {
		rd, ok := r.v["description"].(string)
		if usedR[i] || !ok || rd == "" {
			continue
		}
		for _, j := range bySchema[schemaKey(r.v)] {
			ad, ok := added[j].v["description"].(string)
			if !ok || ad == "" || !lengthsAllow(rd, ad) {
				continue
			}
			budget -= len(rd) + len(ad)
			if budget < 0 {
				break
			}
			if s := textdiff.Similarity(rd, ad); s >= renameSimilarity {
				cands = append(cands, candidate{i, j, s})
			}
		}
	}
	sort.SliceStable(cands, func(x, y int) bool { return cands[x].score > cands[y].score })
	for _, c := range cands {
		if usedR[c.r] || usedA[c.a] {
			continue
		}
		usedR[c.r], usedA[c.a] = true, true
		pairs = append(pairs, renamed{from: removed[c.r], to: added[c.a], score: c.score})
	}
	pairs = append(pairs, shapeRenames(removed, added, usedR, usedA, budget)...)

	var restR, restA []side
	for i, r := range removed {
		if !usedR[i] {
			restR = append(restR, r)
		}
	}
	for j, a := range added {
		if !usedA[j] {
			restA = append(restA, a)
		}
	}
	return pairs, restR, restA
}

// shapeRenames pairs the tools left over by the two stricter passes when
// their parameters have the same names and types (and required list),
// whatever their property descriptions, and their descriptions share
// enough words (wordsRenameParams, or wordsRenameNoParams for tools
// without parameters, which are many and alike). It is how a vendor's
// rename with a reworded description (add -> get-sum, "Adds two numbers"
// -> "Returns the sum of two numbers") is one change. A pair must be each
// other's only candidate, so that of two look-alike tools none is paired
// by chance.
func shapeRenames(removed, added []side, usedR, usedA []bool, budget int) []renamed {
	type cand struct {
		r, a  int
		score float64
		shape string
	}
	var cands []cand
	countR, countA := make([]int, len(removed)), make([]int, len(added))
	shapes := make([]string, len(added))
	words := make([]map[string]bool, len(added))
	for j, a := range added {
		if !usedA[j] {
			shapes[j] = paramShape(a.v)
			words[j] = descWords(a.v)
		}
	}
	for i, r := range removed {
		if usedR[i] {
			continue
		}
		shape, rw := paramShape(r.v), descWords(r.v)
		if shape == "" || len(rw) == 0 {
			continue
		}
		for j := range added {
			if usedA[j] || shapes[j] != shape || len(words[j]) == 0 {
				continue
			}
			budget -= len(rw) + len(words[j])
			if budget < 0 {
				return nil
			}
			min := wordsRenameParams
			if shape == noParams {
				min = wordsRenameNoParams
			}
			if s := dice(rw, words[j]); s >= min {
				cands = append(cands, cand{i, j, s, shape})
				countR[i]++
				countA[j]++
			}
		}
	}
	var out []renamed
	for _, c := range cands {
		if countR[c.r] != 1 || countA[c.a] != 1 {
			continue
		}
		usedR[c.r], usedA[c.a] = true, true
		shape := c.shape
		if shape == noParams {
			shape = "(none)"
		}
		out = append(out, renamed{from: removed[c.r], to: added[c.a], score: c.score, shape: shape})
	}
	return out
}

const (
	// wordsRenameParams is the share of description words (Dice
	// coefficient over stemmed words) two tools with the same parameters
	// need to be one renamed tool; wordsRenameNoParams for tools without.
	wordsRenameParams   = 0.5
	wordsRenameNoParams = 0.75
	noParams            = "-"
)

// paramShape is "name:type, ..." of a tool's top-level input parameters
// in name order, then its required list: "a:number, b:number (required a,
// b)"; noParams for none, "" when the schema is not an object schema.
func paramShape(v map[string]any) string {
	schema, ok := v["inputSchema"].(map[string]any)
	if !ok {
		return ""
	}
	props, _ := schema["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		typ := "any"
		if p, ok := props[n].(map[string]any); ok {
			if t, ok := p["type"]; ok {
				typ = marshalKey(t)
			}
		}
		parts = append(parts, escape.Line(n)+":"+strings.Trim(typ, `"`))
	}
	if len(parts) == 0 {
		return noParams
	}
	out := strings.Join(parts, ", ")
	if req, ok := schema["required"].([]any); ok && len(req) > 0 {
		rs := make([]string, 0, len(req))
		for _, x := range req {
			rs = append(rs, escape.Line(fmt.Sprint(x)))
		}
		sort.Strings(rs)
		out += " (required " + strings.Join(rs, ", ") + ")"
	}
	return out
}

// stopWords carry no meaning of their own in a tool description.
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "to": true, "and": true, "or": true, "for": true,
	"in": true, "on": true, "with": true, "from": true, "by": true, "is": true, "it": true, "this": true,
	"that": true, "be": true, "as": true, "at": true, "its": true, "your": true, "you": true,
}

// descWords is the set of a tool's description words, lower-cased, stop
// words dropped and a plural or third-person "s" stripped.
func descWords(v map[string]any) map[string]bool {
	d, _ := v["description"].(string)
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(d), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) < 2 || stopWords[w] {
			continue
		}
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1]
		}
		out[w] = true
	}
	return out
}

// dice is the Dice coefficient of two word sets: 2|A∩B| / (|A|+|B|).
func dice(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	n := 0
	for w := range a {
		if b[w] {
			n++
		}
	}
	return 2 * float64(n) / float64(len(a)+len(b))
}

// lengthsAllow is a cheap bound: texts whose lengths differ by more than
// the allowed edit can never be similar enough.
func lengthsAllow(a, b string) bool {
	la, lb := utf8.RuneCountInString(a), utf8.RuneCountInString(b)
	return float64(min(la, lb)) >= renameSimilarity*float64(max(la, lb))
}

// bodyKey is a tool without its name, as comparable text.
func bodyKey(v map[string]any) string {
	rest := make(map[string]any, len(v))
	for k, x := range v {
		if k != "name" {
			rest[k] = x
		}
	}
	return marshalKey(rest)
}

func schemaKey(v map[string]any) string {
	s, ok := v["inputSchema"]
	if !ok {
		return "-"
	}
	return marshalKey(s)
}

// marshalKey renders a decoded value deterministically (encoding/json sorts
// map keys).
func marshalKey(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func entityNoun(entity string) string {
	if entity == string(manifest.KindResourceTemplate) {
		return "resource template"
	}
	return entity
}

// finish applies the policy's severity override and lint hook, and records
// the change. text is the new text to lint; hasNew is false when there is
// none (a removal).
func (d *differ) finish(c *report.Change, level severity.Level, key, text string, hasNew bool) {
	if level != severity.Info {
		if o, ok := d.p.Severity[c.Kind]; ok {
			level = o
		}
	}
	c.Findings = []report.Finding{}
	if d.p.Lint != nil && hasNew && text != "" {
		for _, f := range d.p.Lint(c.Entity, key, text) {
			// The change locates the finding; its own location would
			// only repeat it (report.Change.Findings).
			f.Entity, f.Name, f.Path = "", "", ""
			f.Rule = escape.Line(f.Rule)
			f.Message = escape.Line(f.Message)
			f.Evidence = escape.Line(f.Evidence)
			c.Findings = append(c.Findings, f)
			level = severity.Max(level, f.Severity)
		}
	}
	c.Severity = level
	d.out = append(d.out, *c)
}

func excerpt(s string) string { return escape.Truncate(escape.Visible(s), maxExcerpt) }

func oneLine(s string) string { return escape.Truncate(escape.Line(s), maxSummary) }

func diffText(before, after string) string { return truncateDiff(textdiff.Auto(before, after)) }

func truncateDiff(s string) string { return escape.Truncate(s, maxDiff) }
