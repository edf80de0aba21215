package lint

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Length limits of the long-description rule, in runes.
const (
	maxDescription  = 2000
	maxInstructions = 8000
)

// checker holds what one lint run derives from its Context.
type checker struct {
	ctx Context
	// prep is the context's name indexes, shared with other runs in the
	// same context (see Prepare).
	prep *prepared
	// mineLower and mineHeads hold the lower-cased tool names of the
	// manifest being linted and their first words; with prep.ownLower,
	// prep.heads and the peers' heads they are every known name (a text
	// without one of the heads cannot name a tool).
	mineLower, mineHeads map[string]bool
	// mineSkeletons maps a skeleton to the manifest's tool names having
	// it, sorted.
	mineSkeletons map[string][]string
	// cache remembers the text rules' outcome per string (see scanKey).
	cache map[scanKey]scanned
}

func newChecker(ctx Context) *checker {
	c := &checker{ctx: ctx, prep: ctx.prep}
	if c.prep == nil {
		c.prep = prepare(ctx)
	}
	return c
}

// addOwn records the tool names of the manifest being linted.
func (c *checker) addOwn(names []string) {
	c.mineLower, c.mineHeads, c.mineSkeletons = map[string]bool{}, map[string]bool{}, map[string][]string{}
	for _, n := range names {
		if l := lowerName(n); l != "" {
			c.mineLower[l] = true
			c.mineHeads[firstWord(l)] = true
		}
		sk := skeleton(n)
		c.mineSkeletons[sk] = append(c.mineSkeletons[sk], n)
	}
	for _, ns := range c.mineSkeletons {
		sort.Strings(ns)
	}
}

// isOwn reports whether a lower-cased name is one of this server's tools.
func (c *checker) isOwn(l string) bool { return c.prep.ownLower[l] || c.mineLower[l] }

// others returns the tools of other servers with a lower-cased name (a
// name this server also has counts as its own).
func (c *checker) others(l string) ([]ToolRef, bool) {
	if c.isOwn(l) {
		return nil, false
	}
	refs, ok := c.prep.peers.byLower[l]
	return refs, ok
}

// isHead reports whether a word is the first word of a known tool name.
func (c *checker) isHead(w string) bool {
	return c.prep.heads[w] || c.prep.peers.heads[w] || c.mineHeads[w]
}

func (c *checker) newUnit(entity, name, path, text string, r role) *unit {
	u := &unit{entity: entity, name: name, text: text, role: r}
	if path != "" {
		u.path = []string{path}
		u.rawPath = true
	}
	return u
}

// scanKey is what the text rules' outcome depends on: the same string in
// the same role gives the same findings, wherever it sits. Manifests
// repeat a lot (shared parameter descriptions, $defs copied into every
// tool), so scan remembers outcomes for the length of one lint run.
type scanKey struct {
	text            string
	role            role
	param, propName bool
}

// scanned is a remembered outcome: findings without their location, and
// whether the text names a known tool (only then does shadowing, which
// depends on the entity, run again).
type scanned struct {
	fs      []located
	toolRef bool
}

// scan runs every rule that applies to one string.
func (c *checker) scan(u *unit) []located {
	if u.text == "" {
		return nil
	}
	if u.role == roleStructural && !tokenLike(u.text) {
		u.role = roleText
	}
	key := scanKey{u.text, u.role, u.param, u.propName}
	hit, ok := c.cache[key]
	if !ok {
		hit = c.scanText(u)
		if c.cache == nil {
			c.cache = map[scanKey]scanned{}
		}
		c.cache[key] = hit
	}
	var fs []located
	if len(hit.fs) > 0 {
		fs = make([]located, len(hit.fs), len(hit.fs)+1)
		path, name := u.fieldPath(), strings.Clone(escape.Line(u.name))
		for i, f := range hit.fs {
			f.Entity, f.Name, f.Path = u.entity, name, path
			fs[i] = f
		}
	}
	if hit.toolRef {
		fs = append(fs, c.shadowing(u)...)
	}
	return dedupe(fs)
}

// scanText runs the rules that depend on the text and its role only.
func (c *checker) scanText(u *unit) scanned {
	fs := c.chars(u)
	if u.role == roleStructural {
		return scanned{fs: fs}
	}
	fs = append(fs, c.padding(u)...)
	switch u.role {
	case roleDescription:
		if n := utf8.RuneCountInString(u.text); n > maxDescription {
			fs = append(fs, c.finding(u, RuleLongDescription, severity.Low,
				"description is "+itoa(n)+" characters long (over "+itoa(maxDescription)+")", maxDescription, maxDescription))
		}
	case roleInstructions:
		if n := utf8.RuneCountInString(u.text); n > maxInstructions {
			fs = append(fs, c.finding(u, RuleLongDescription, severity.Low,
				"instructions are "+itoa(n)+" characters long (over "+itoa(maxInstructions)+")", maxInstructions, maxInstructions))
		}
	}
	if u.propName {
		fs = append(fs, c.instructionKey(u)...)
	}
	fs = append(fs, c.phrases(u)...)
	fs = append(fs, c.obfuscated(u)...)
	fs = append(fs, c.covertDirective(u)...)
	fs = append(fs, c.destinations(u)...)
	fs = append(fs, c.payloads(u)...)
	return scanned{fs: fs, toolRef: u.namesTool}
}

// tokenLike reports a structural value that is a plain token: no
// whitespace, of a sane length.
func tokenLike(s string) bool {
	if len(s) > 4096 {
		return false
	}
	for _, r := range s {
		if isSpace(r) {
			return false
		}
	}
	return true
}

// dedupe keeps one finding per rule for one string: the most severe, the
// earliest on ties.
func dedupe(fs []located) []located {
	if len(fs) < 2 {
		return fs
	}
	best := map[string]int{}
	out := fs[:0:0]
	for _, f := range fs {
		i, ok := best[f.Rule]
		if !ok {
			best[f.Rule] = len(out)
			out = append(out, f)
			continue
		}
		if f.Severity > out[i].Severity || (f.Severity == out[i].Severity && f.Offset < out[i].Offset) {
			out[i] = f
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Offset < out[j].Offset })
	return out
}

// finding builds a finding on u for the raw rune span [start, end).
func (c *checker) finding(u *unit, rule string, level severity.Level, msg string, start, end int) located {
	return located{Finding: report.Finding{
		Entity:   u.entity,
		Name:     strings.Clone(escape.Line(u.name)), // see fieldPath: never a slice of the manifest
		Path:     u.fieldPath(),
		Rule:     rule,
		Severity: level,
		Message:  escape.Line(msg),
		Evidence: evidence(u.text, start, end),
	}, Offset: start}
}

// fieldPath renders the unit's path as report.Finding.Path.
func (u *unit) fieldPath() string {
	if u.rawPath {
		return u.path[0]
	}
	return fieldPath(u.path)
}

// quote renders matched text for a message: escaped, one line, bounded.
func quote(s string) string {
	return `"` + escape.Truncate(escape.Line(s), 80) + `"`
}

// Spans bound how far past its anchor a phrase match may reach, in bytes
// of normalized text. Most patterns are a few words; the regexp package's
// backtracker, which short inputs get, costs in proportion to the input
// it is given, so the bound is kept tight.
const (
	shortSpan = 256
	longSpan  = 1024
)

// span returns the bound for p: long for phrases whose pattern may cover
// a whole passage (an HTML comment).
func (p *phrase) span() int {
	if p.long {
		return longSpan
	}
	return shortSpan
}

// phrases runs the phrase table on the normalized text: each phrase is
// tried, anchored, where one of its lead words or strings occurs.
func (c *checker) phrases(u *unit) []located {
	n := u.normalized()
	s := n.s
	if s == "" {
		return nil
	}
	var fs []located
	hits, head, cues := anchorsHit(s, c.isHead)
	u.namesTool = head
	u.cues |= cues
	for len(hits) > 0 {
		// hits are sorted by phrase, then position: take one phrase's run.
		k := 1
		for k < len(hits) && hits[k].phrase == hits[0].phrase {
			k++
		}
		p := &phrases[hits[0].phrase]
		found, next := 0, 0
		for _, h := range hits[:k] {
			at := int(h.pos)
			if at < next || found >= 8 {
				continue
			}
			if at > 0 && !p.midWord && isWordByte(s[at-1]) {
				continue // a lead string glued to the word before it
			}
			if p.next != nil && !p.next[secondWord(s, at)] {
				continue
			}
			loc := p.re.FindStringSubmatchIndex(s[at:min(at+p.span(), len(s))])
			if loc == nil {
				continue
			}
			st, en := at+loc[2], at+loc[3]
			if p.before != nil {
				from := max(st-48, 0)
				b := p.before.FindStringSubmatchIndex(s[from:st])
				if b == nil {
					continue
				}
				st = from + b[2]
			}
			level := p.level
			if p.check != nil {
				var ok bool
				if level, ok = p.check(&match{u: u, start: st, end: en}); !ok {
					continue
				}
			}
			found++
			next = en
			rs, re := u.rawStart(st), u.rawEnd(en)
			msg := strings.Replace(p.msg, "%q", quote(runeSlice(u.text, rs, re)), 1)
			fs = append(fs, c.finding(u, p.rule, level, msg, rs, re))
		}
		hits = hits[k:]
	}
	return fs
}

// instructionKey flags property and argument names that read as
// sentences.
func (c *checker) instructionKey(u *unit) []located {
	words := len(strings.Fields(u.normalized().s))
	if n := u.normalized(); strings.ContainsAny(n.s, "_-.") {
		words = len(strings.FieldsFunc(n.s, func(r rune) bool { return r == ' ' || r == '_' || r == '-' || r == '.' || r == '\n' }))
	}
	runes := utf8.RuneCountInString(u.text)
	if words < 5 && runes <= 48 {
		return nil
	}
	return []located{c.finding(u, RuleInstructionKey, severity.Medium,
		"parameter name of "+itoa(words)+" words and "+itoa(runes)+" characters reads like an instruction", 0, runes)}
}

// runeSlice returns the runes [start, end) of s.
func runeSlice(s string, start, end int) string {
	if start >= end {
		return ""
	}
	i, bs, be := 0, -1, len(s)
	for off := range s {
		if i == start {
			bs = off
		}
		if i == end {
			be = off
			break
		}
		i++
	}
	if bs < 0 {
		return ""
	}
	return s[bs:be]
}

// secondWord returns the word after the word at i, if a short separator
// run lies between them.
func secondWord(s string, i int) string {
	for i < len(s) && (isASCIILetter(s[i]) || ('0' <= s[i] && s[i] <= '9')) {
		i++
	}
	j := i
	for j < len(s) && j-i < 4 && !isWordByte(s[j]) {
		j++
	}
	if j == i {
		return ""
	}
	k := j
	for k < len(s) && (isASCIILetter(s[k]) || ('0' <= s[k] && s[k] <= '9')) {
		k++
	}
	return s[j:k]
}

// anchors indexes the phrase table by anchor: words map to the phrases
// they start; literal anchors (which all start with punctuation) are listed
// by their first byte, so one pass over the text finds them all.
type anchors struct {
	words map[string]wordAnchor
	lits  [256][]litAnchor
}

// wordAnchor is what a word may start: phrases, and the parts of the
// structural rule it is a cue for.
type wordAnchor struct {
	phrases []uint16
	cue     uint8
}

type litAnchor struct {
	lit    string
	phrase uint16
}

var anchorIndex = buildAnchors()

func buildAnchors() *anchors {
	a := &anchors{words: map[string]wordAnchor{}}
	for w, cue := range cueWords {
		a.words[w] = wordAnchor{cue: cue}
	}
	for i, p := range phrases {
		for _, w := range p.words {
			wa := a.words[w]
			wa.phrases = append(wa.phrases, uint16(i))
			a.words[w] = wa
		}
		for _, sub := range p.subs {
			a.lits[sub[0]] = append(a.lits[sub[0]], litAnchor{sub, uint16(i)})
		}
	}
	return a
}

// anchorHit is an anchor of a phrase found at a byte offset.
type anchorHit struct {
	phrase uint16
	pos    int32
}

// anchorsHit returns where the anchors of each phrase occur in s, sorted by
// phrase and position, whether a word of heads occurs, and the cue bits of
// the words of s.
func anchorsHit(s string, isHead func(string) bool) ([]anchorHit, bool, uint8) {
	var hits []anchorHit
	head := false
	var cues uint8
	a := anchorIndex
	for i := 0; i < len(s); {
		c := s[i]
		if !isASCIILetter(c) && !('0' <= c && c <= '9') {
			for _, l := range a.lits[c] {
				if strings.HasPrefix(s[i:], l.lit) {
					hits = append(hits, anchorHit{l.phrase, int32(i)})
				}
			}
			i++
			continue
		}
		j := i + 1
		for j < len(s) && (isASCIILetter(s[j]) || ('0' <= s[j] && s[j] <= '9')) {
			j++
		}
		if i == 0 || s[i-1] < 0x80 {
			wa := a.words[s[i:j]]
			cues |= wa.cue
			for _, k := range wa.phrases {
				hits = append(hits, anchorHit{k, int32(i)})
			}
			if !head && isHead(s[i:j]) {
				head = true
			}
		}
		i = j
	}
	slices.SortFunc(hits, func(x, y anchorHit) int {
		if x.phrase != y.phrase {
			return int(x.phrase) - int(y.phrase)
		}
		return int(x.pos) - int(y.pos)
	})
	return hits, head, cues
}
