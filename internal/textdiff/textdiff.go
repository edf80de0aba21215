// Package textdiff renders readable, inert diffs of text for people: unified
// line diffs for multi-line text and word diffs for one-line text.
//
// Every character of the compared text goes through package escape, so a
// diff never carries ANSI escapes or invisible characters to a terminal,
// Slack or email: an inserted zero-width space shows as <U+200B>. Output is
// plain text with no colour; colouring is the caller's business.
//
// Word diffs mark deleted text as [-old-] and inserted text as {+new+}, the
// plain form of `git diff --word-diff` and GNU wdiff. The markers are not
// quoted: text that itself contains "[-" or "{+" reads ambiguously, so a
// reviewer should read Before and After too.
//
// Diffs are deterministic: go-diff runs without its time limit, and inputs too
// large for Myers' algorithm to finish quickly (see maxTokens) fall back to
// "common prefix and suffix kept, the middle replaced", which is still a
// correct diff, only a coarser one.
//
// textdiff owns the rendering of differences between two strings; it does no
// I/O and knows nothing about manifests.
package textdiff

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// maxTokens bounds the lines or words handed to the Myers diff, whose cost
// grows with the product of input size and edit distance. Above it, diffs
// fall back to replacing the differing middle wholesale.
const maxTokens = 5000

// DefaultContext is the number of context lines Auto shows around changes.
const DefaultContext = 3

// Lines returns a unified diff of before and after (hunks headed
// "@@ -a,b +c,d @@", lines prefixed "-", "+" or " "), with context lines of
// unchanged text around each change. It returns "" when the texts are equal.
//
// "\ No newline at end of file" follows a line only when exactly one
// (non-empty) side ends with a newline, the one case where it is needed to
// see the change.
func Lines(before, after string, context int) string {
	if before == after {
		return ""
	}
	if context < 0 {
		context = 0
	}
	// A last line without a newline is its own token, so "a" and "a\n"
	// differ. When both sides lack the final newline, add it to both so an
	// unchanged last line stays context; when only one side lacks it, that
	// is the change, and the marker says so.
	noEOLb := !strings.HasSuffix(before, "\n")
	noEOLa := !strings.HasSuffix(after, "\n")
	if before == "" {
		noEOLb = noEOLa
	}
	if after == "" {
		noEOLa = noEOLb
	}
	markNoEOL := noEOLb != noEOLa
	if noEOLb && noEOLa {
		before, after = addEOL(before), addEOL(after)
	}
	return unified(lineOps(before, after), context, markNoEOL)
}

// Words returns a word diff of one-line text, e.g.
// "Search issues in [-a-]{+any+} repo". Newlines and tabs are escaped as by
// escape.Line. It returns "" when the texts are equal.
func Words(before, after string) string {
	if before == after {
		return ""
	}
	var b strings.Builder
	var del, ins strings.Builder
	flush := func() {
		if del.Len() > 0 {
			b.WriteString("[-" + escape.Line(del.String()) + "-]")
			del.Reset()
		}
		if ins.Len() > 0 {
			b.WriteString("{+" + escape.Line(ins.String()) + "+}")
			ins.Reset()
		}
	}
	for _, d := range tokenDiff(tokenize(before), tokenize(after)) {
		switch d.op {
		case diffmatchpatch.DiffDelete:
			del.WriteString(d.text)
		case diffmatchpatch.DiffInsert:
			ins.WriteString(d.text)
		default:
			flush()
			b.WriteString(escape.Line(d.text))
		}
	}
	flush()
	return b.String()
}

// Auto returns Lines (with DefaultContext) when either side spans more than
// one line, and Words otherwise.
func Auto(before, after string) string {
	if strings.Contains(before, "\n") || strings.Contains(after, "\n") {
		return Lines(before, after, DefaultContext)
	}
	return Words(before, after)
}

// WhitespaceOnly reports whether before and after differ, and only in ASCII
// whitespace (space, tab, newline, carriage return, vertical tab, form
// feed): the same words in the same order. Unicode spaces count as content
// because they can disguise text, and joining or splitting words is a change.
func WhitespaceOnly(before, after string) bool {
	if before == after {
		return false
	}
	bw, aw := strings.FieldsFunc(before, asciiSpace), strings.FieldsFunc(after, asciiSpace)
	if len(bw) != len(aw) {
		return false
	}
	for i := range bw {
		if bw[i] != aw[i] {
			return false
		}
	}
	return true
}

func asciiSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f':
		return true
	}
	return false
}

// Similarity returns how alike two texts are, from 0 (nothing in common) to
// 1 (equal): one minus the word-level edit distance, weighted by characters,
// over the length of the longer text.
func Similarity(a, b string) float64 {
	if a == b {
		return 1
	}
	la, lb := len([]rune(a)), len([]rune(b))
	longer := max(la, lb)
	if longer == 0 {
		return 1
	}
	cost, del, ins := 0, 0, 0
	for _, d := range tokenDiff(tokenize(a), tokenize(b)) {
		n := len([]rune(d.text))
		switch d.op {
		case diffmatchpatch.DiffDelete:
			del += n
		case diffmatchpatch.DiffInsert:
			ins += n
		default:
			cost += max(del, ins)
			del, ins = 0, 0
		}
	}
	cost += max(del, ins)
	// Short equal runs between edits can make the cost exceed the length.
	return max(0, 1-float64(cost)/float64(longer))
}

// op is one piece of a diff: equal, deleted or inserted text.
type op struct {
	op   diffmatchpatch.Operation
	text string
}

// tokenize splits text into runs of letters, digits and underscores, runs of
// whitespace, and single other characters, so word diffs align on words
// while punctuation and invisible characters stand on their own.
func tokenize(s string) []string {
	var toks []string
	start := 0
	class := -1
	for i, r := range s {
		c := runeClass(r)
		if c != class || c == classOther {
			if i > start {
				toks = append(toks, s[start:i])
			}
			start, class = i, c
		}
	}
	if start < len(s) {
		toks = append(toks, s[start:])
	}
	return toks
}

const (
	classWord = iota
	classSpace
	classOther
)

func runeClass(r rune) int {
	switch {
	case r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) && !escape.HasInvisible(string(r)):
		return classWord
	case asciiSpace(r):
		return classSpace
	}
	return classOther
}

// tokenDiff diffs two token sequences by mapping each distinct token to one
// rune, the trick go-diff's line mode uses, and mapping the result back.
func tokenDiff(a, b []string) []op {
	ids := map[string]rune{}
	var table []string
	encode := func(toks []string) []rune {
		out := make([]rune, len(toks))
		for i, t := range toks {
			id, ok := ids[t]
			if !ok {
				id = indexRune(len(table))
				ids[t] = id
				table = append(table, t)
			}
			out[i] = id
		}
		return out
	}
	ra, rb := encode(a), encode(b)
	var diffs []diffmatchpatch.Diff
	if len(ra)+len(rb) > maxTokens {
		diffs = coarseDiff(ra, rb)
	} else {
		dmp := diffmatchpatch.New()
		dmp.DiffTimeout = 0 // deterministic: maxTokens bounds the cost instead
		diffs = dmp.DiffMainRunes(ra, rb, false)
	}
	out := make([]op, 0, len(diffs))
	for _, d := range diffs {
		var sb strings.Builder
		for _, r := range d.Text {
			sb.WriteString(table[runeIndex(r)])
		}
		out = append(out, op{d.Type, sb.String()})
	}
	return out
}

// indexRune maps a table index to a rune, skipping the surrogate range that
// a Go string cannot hold.
func indexRune(i int) rune {
	if i >= 0xD800 {
		i += 0x800
	}
	return rune(i) //nolint:gosec // i indexes a table of at most a few thousand entries
}

func runeIndex(r rune) int {
	if r >= 0xD800+0x800 {
		return int(r) - 0x800
	}
	return int(r)
}

// coarseDiff keeps the common prefix and suffix and replaces the middle.
func coarseDiff(a, b []rune) []diffmatchpatch.Diff {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	var out []diffmatchpatch.Diff
	add := func(t diffmatchpatch.Operation, rs []rune) {
		if len(rs) > 0 {
			out = append(out, diffmatchpatch.Diff{Type: t, Text: string(rs)})
		}
	}
	add(diffmatchpatch.DiffEqual, a[:p])
	add(diffmatchpatch.DiffDelete, a[p:len(a)-s])
	add(diffmatchpatch.DiffInsert, b[p:len(b)-s])
	add(diffmatchpatch.DiffEqual, a[len(a)-s:])
	return out
}

// line is one line of a unified diff. text keeps its trailing newline, if
// any.
type line struct {
	op   byte // ' ', '-' or '+'
	text string
}

func lineOps(before, after string) []line {
	var ops []line
	for _, d := range tokenDiff(splitLines(before), splitLines(after)) {
		c := byte(' ')
		switch d.op {
		case diffmatchpatch.DiffDelete:
			c = '-'
		case diffmatchpatch.DiffInsert:
			c = '+'
		}
		for _, l := range splitLines(d.text) {
			ops = append(ops, line{c, l})
		}
	}
	return ops
}

func addEOL(s string) string {
	if s == "" {
		return s
	}
	return s + "\n"
}

// splitLines splits after each newline; the last line may lack one.
func splitLines(s string) []string {
	parts := strings.SplitAfter(s, "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// unified groups changed lines into hunks with context lines around them.
func unified(ops []line, context int, markNoEOL bool) string {
	var b strings.Builder
	// oldAt[i] and newAt[i] are the 0-based line numbers before ops[i].
	oldAt, newAt := make([]int, len(ops)+1), make([]int, len(ops)+1)
	for i, o := range ops {
		oldAt[i+1], newAt[i+1] = oldAt[i], newAt[i]
		if o.op != '+' {
			oldAt[i+1]++
		}
		if o.op != '-' {
			newAt[i+1]++
		}
	}
	for i := 0; i < len(ops); {
		if ops[i].op == ' ' {
			i++
			continue
		}
		start := max(i-context, 0)
		// Extend the hunk while the next change is close enough that the
		// context between them would overlap.
		end, gap := i, 0
		for j := i; j < len(ops); j++ {
			if ops[j].op != ' ' {
				end, gap = j+1, 0
				continue
			}
			gap++
			if gap > 2*context {
				break
			}
		}
		stop := min(end+context, len(ops))
		oldN, newN := oldAt[stop]-oldAt[start], newAt[stop]-newAt[start]
		fmt.Fprintf(&b, "@@ -%d,%d +%d,%d @@\n", hunkStart(oldAt[start], oldN), oldN, hunkStart(newAt[start], newN), newN)
		for _, o := range ops[start:stop] {
			b.WriteByte(o.op)
			b.WriteString(escape.Visible(strings.TrimSuffix(o.text, "\n")))
			b.WriteByte('\n')
			if markNoEOL && o.op != ' ' && !strings.HasSuffix(o.text, "\n") {
				b.WriteString("\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return b.String()
}

// hunkStart follows the unified format: an empty range names the line
// before it.
func hunkStart(at, n int) int {
	if n == 0 {
		return at
	}
	return at + 1
}
