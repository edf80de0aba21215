package lint

import (
	"regexp"
	"strings"
)

// Leetspeak and split words: "1gn0r3 pr3v10us 1nstruct10ns", "ig.nore
// pre-vious instruc_tions". Normalization cannot undo them in place (a
// digit or a hyphen is usually just that), so the phrase rules run a
// second time on a variant of the normalized text, and only when the
// variant spells a word of the rules' vocabulary that the text did not
// have: "ipv4", "read-only" and "file.txt" change nothing.

// leet maps the digits and symbols of leetspeak to the letters they stand
// for; '1' is tried as "i", then as "l".
var leet = [256]byte{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i', '|': 'l'}

// vocabulary holds the words of the phrase patterns and structural cues:
// a variant is worth a second pass only when it spells one of them.
var vocabulary = func() map[string]bool {
	v := map[string]bool{}
	word := regexp.MustCompile(`[a-z]{3,}`)
	for _, p := range phrases {
		for _, w := range word.FindAllString(p.re.String(), -1) {
			v[w] = true
		}
	}
	for w := range cueWords {
		if len(w) >= 3 {
			v[w] = true
		}
	}
	// Short function words the phrases are built of ("do not tell").
	for _, w := range strings.Fields("do no to of me my is it as at in on or if we be so up an us") {
		v[w] = true
	}
	return v
}()

// leetBytes and splitters are byte classes of deobfuscate's scanner.
var leetBytes, splitters = func() (l, s [256]bool) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		l[c] = isASCIILetter(b) || ('0' <= b && b <= '9') || leet[c] != 0
	}
	for _, c := range ".-_*~^+`" {
		s[c] = true
	}
	return l, s
}()

// isLeetByte reports a byte that may stand for a letter in a leet word.
func isLeetByte(b byte) bool { return leetBytes[b] }

// isSplitter reports punctuation that may split a word in two.
func isSplitter(b byte) bool { return splitters[b] }

// variant is a rewritten normalized text; from[i] is the byte of the
// normalized text that byte i came from.
type variant struct {
	s    string
	from []int
}

// deobfuscate rewrites leet words and split words of normalized text s
// into the words of the vocabulary they spell. ok is false when nothing
// changed.
func deobfuscate(s string) (variant, bool) {
	type rewrite struct {
		i, j int
		out  []byte
		at   []int
	}
	var rs []rewrite
	for i := 0; i < len(s); {
		if i > 0 && isWordByte(s[i-1]) && !isWordByte(s[i]) {
			// Padding: a run of one punctuation mark repeated three or
			// more times, with spaces, between two words on one line
			// ("ignore ..... all") reads as one space.
			j := i
			for j < len(s) && !isWordByte(s[j]) && s[j] != '\n' {
				j++
			}
			if j-i >= 5 && j < len(s) && isWordByte(s[j]) && isPadding(s[i:j]) {
				rs = append(rs, rewrite{i, j, []byte{' '}, []int{0}})
				i = j
				continue
			}
		}
		if !isLeetByte(s[i]) || (i > 0 && isWordByte(s[i-1])) {
			i++
			continue
		}
		// A token: leet bytes, with single splitters between them.
		j := i + 1
		for j < len(s) && (isLeetByte(s[j]) || (isSplitter(s[j]) && j+1 < len(s) && isLeetByte(s[j+1]))) {
			j++
		}
		if out, at, ok := rewriteToken(s[i:j]); ok {
			rs = append(rs, rewrite{i, j, out, at})
		}
		i = j
	}
	if len(rs) == 0 {
		return variant{}, false
	}
	var b strings.Builder
	from := make([]int, 0, len(s))
	last := 0
	for _, r := range rs {
		for k := last; k < r.i; k++ {
			from = append(from, k)
		}
		b.WriteString(s[last:r.i])
		b.Write(r.out)
		for _, a := range r.at {
			from = append(from, r.i+a)
		}
		last = r.j
	}
	b.WriteString(s[last:])
	for k := last; k < len(s); k++ {
		from = append(from, k)
	}
	return variant{s: b.String(), from: from}, true
}

// isPadding reports a run of spaces and one punctuation mark repeated at
// least three times.
func isPadding(run string) bool {
	var mark byte
	n := 0
	for k := 0; k < len(run); k++ {
		c := run[k]
		if c == ' ' {
			continue
		}
		if mark != 0 && c != mark {
			return false
		}
		mark = c
		n++
	}
	return n >= 3
}

// rewriteToken reads a token's parts (split at splitters) as leet words,
// joining neighbouring parts when together they spell a vocabulary word.
// at[k] is the token byte output byte k came from.
func rewriteToken(tok string) (out []byte, at []int, ok bool) {
	hasLeet, hasSplit, letters, ones := false, false, 0, strings.IndexByte(tok, '1') >= 0
	for k := 0; k < len(tok); k++ {
		switch {
		case isSplitter(tok[k]):
			hasSplit = true
		case isASCIILetter(tok[k]):
			letters++
		default:
			hasLeet = true
		}
	}
	// Words are short; a token without letters is a number.
	if (!hasLeet && !hasSplit) || letters == 0 || len(tok) > 48 {
		return nil, nil, false
	}
	type part struct{ start, end int }
	var buf [12]part
	parts := buf[:0]
	st := 0
	for k := 0; k <= len(tok); k++ {
		if k == len(tok) || isSplitter(tok[k]) {
			if len(parts) == len(buf) {
				return nil, nil, false // a list, not a split word
			}
			parts = append(parts, part{st, k})
			st = k + 1
		}
	}
	for p := 0; p < len(parts); {
		// The longest run of parts, joined and read as leet, that is a
		// word of the vocabulary.
		best, bestWord, bestAt := -1, []byte(nil), []int(nil)
		for q := min(len(parts)-1, p+4); q >= p; q-- {
			if parts[q].end-parts[p].start > 32 {
				continue // longer than any word of the vocabulary
			}
			for _, one := range []byte{'i', 'l'} {
				if one == 'l' && !ones {
					break
				}
				var buf [48]byte
				w := readLeet(buf[:0], tok, parts[p].start, parts[q].end, one)
				if len(w) >= 2 && vocabulary[string(w)] && (q > p || string(w) != tok[parts[p].start:parts[p].end]) {
					best, bestWord = q, append([]byte(nil), w...)
					bestAt = leetSources(tok, parts[p].start, parts[q].end)
					break
				}
			}
			if best >= 0 {
				break
			}
		}
		if best < 0 {
			for k := parts[p].start; k < parts[p].end; k++ {
				out = append(out, tok[k])
				at = append(at, k)
			}
			best = p
		} else {
			out = append(out, bestWord...)
			at = append(at, bestAt...)
			ok = true
		}
		if best+1 < len(parts) {
			out = append(out, tok[parts[best].end])
			at = append(at, parts[best].end)
		}
		p = best + 1
	}
	return out, at, ok
}

// readLeet appends to w tok[from:to] with splitters dropped and leet bytes
// read as letters ('1' as one); nil when a byte cannot be a letter.
func readLeet(w []byte, tok string, from, to int, one byte) []byte {
	for k := from; k < to; k++ {
		c := tok[k]
		switch {
		case isSplitter(c):
			continue
		case c == '1':
			c = one
		case !isASCIILetter(c):
			if leet[c] == 0 {
				return nil
			}
			c = leet[c]
		}
		w = append(w, c)
	}
	return w
}

// leetSources returns the token bytes readLeet reads letters from.
func leetSources(tok string, from, to int) []int {
	var at []int
	for k := from; k < to; k++ {
		if !isSplitter(tok[k]) {
			at = append(at, k)
		}
	}
	return at
}

// obfuscated runs the phrase and structural rules on the deobfuscated
// variant of u's text, when there is one.
func (c *checker) obfuscated(u *unit) []located {
	v, ok := deobfuscate(u.normalized().s)
	if !ok {
		return nil
	}
	u.mapBack()
	idx := make([]int32, len(v.s)+1)
	for i, k := range v.from {
		idx[i] = u.norm.idx[k]
	}
	idx[len(v.s)] = u.norm.idx[len(u.norm.s)]
	vu := &unit{entity: u.entity, name: u.name, path: u.path, rawPath: u.rawPath, text: u.text, role: u.role,
		param: u.param, propName: u.propName, norm: normText{s: v.s, idx: idx}, normed: true}
	fs := c.phrases(vu)
	return append(fs, c.covertDirective(vu)...)
}
