package lint

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normText is text prepared for phrase matching, with a map back to the raw
// text so that a match can be reported at its real position.
//
// The normalized form is: compatibility decomposition (NFKD, which applies
// every NFKC compatibility mapping: fullwidth, ligatures, mathematical
// letters, circled letters...), combining marks dropped (so diacritics do
// not split a word), Latin look-alikes from other scripts mapped to Latin,
// lower case, typographic quotes and dashes mapped to ASCII and other
// non-ASCII punctuation turned into spaces, invisible characters and ANSI
// escape sequences removed (so a zero-width space cannot split a word),
// names split at case changes ("readSshKey"), whitespace runs collapsed to one
// space (or one newline when the run held a line break), and letter-spaced
// words ("i g n o r e") joined.
type normText struct {
	s string
	// idx[i] is the raw rune index that byte i of s came from; idx has one
	// more entry than s, holding the raw rune count. It is built only when
	// asked for (see unit.rawStart): most texts have no finding to place.
	idx []int32
}

// normalize prepares raw for phrase matching. With splitCamel, a lower case
// letter followed by an upper case one is split into two words, so that
// property names such as "readSshKey" read as words.
//
// With withIdx, the map back to raw rune offsets is built too; the text is
// the same either way.
func normalize(raw string, splitCamel, withIdx bool) normText {
	b := make([]byte, 0, len(raw)+8)
	var idx []int32
	if withIdx {
		idx = make([]int32, 0, len(raw)+9)
	}
	ri := int32(-1)  // raw rune index of the current rune
	space := 0       // pending whitespace run length
	newline := false // the pending run holds a line break
	prevLower := false
	var tmp [utf8.UTFMax]byte
	// wordStart is the raw byte offset where the current word began;
	// mapped remembers, for the word at mappedAt, whether its look-alike
	// letters are mapped to Latin (see mapConfusables).
	wordStart, mappedAt, mapped := 0, -1, false

	emit := func(c byte) {
		b = append(b, c)
		if withIdx {
			idx = append(idx, ri)
		}
	}
	emitRune := func(r rune) {
		if r < utf8.RuneSelf {
			emit(byte(r))
			return
		}
		n := utf8.EncodeRune(tmp[:], r)
		for k := 0; k < n; k++ {
			emit(tmp[k])
		}
	}
	flushSpace := func() {
		if space == 0 {
			return
		}
		if len(b) > 0 {
			switch {
			case newline:
				emit('\n')
			case space > 1 && singleLetterEnd(b):
				// A wide gap after a lone letter may end a letter-spaced
				// word: mark it for joinLetterSpacing.
				emit(' ')
				emit(' ')
			default:
				emit(' ')
			}
		}
		space, newline = 0, false
	}

	for i := 0; i < len(raw); {
		if c := raw[i]; c > ' ' && c < 0x7f {
			// Fast path: printable ASCII is only lower-cased (and split
			// at case changes in names).
			ri++
			i++
			if !isASCIILetter(c | 0x20) {
				wordStart = i
			}
			upper := 'A' <= c && c <= 'Z'
			if splitCamel {
				if upper && prevLower {
					space++
				}
				prevLower = 'a' <= c && c <= 'z'
			}
			if space > 0 {
				flushSpace()
			}
			if upper {
				c += 'a' - 'A'
			}
			b = append(b, c)
			if withIdx {
				idx = append(idx, ri)
			}
			continue
		} else if c == ' ' {
			ri++
			i++
			space++
			wordStart = i
			continue
		}
		r, size := utf8.DecodeRuneInString(raw[i:])
		ri++
		if r == utf8.RuneError && size == 1 {
			i++
			continue
		}
		if r == 0x1b || r == 0x9b {
			n, runes := ansiLen(raw[i:])
			i += n
			ri += int32(runes - 1)
			continue
		}
		i += size
		if isSpace(r) {
			wordStart = i
			space++
			if r == '\n' || r == '\r' || r == 0x2028 || r == 0x2029 || r == 0x85 || r == '\v' || r == '\f' {
				newline = true
			}
			continue
		}
		if droppedForMatch(r) {
			continue
		}
		if r >= utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r)) {
			// Typographic quotes and dashes, fullwidth and other
			// compatibility forms stand for the ASCII characters patterns
			// spell; any other punctuation or symbol separates words.
			wordStart = i
			if a := asciiForm(r); a != "" {
				flushSpace()
				for k := 0; k < len(a); k++ {
					emit(a[k])
				}
				prevLower = false
				continue
			}
			space++
			continue
		}
		if splitCamel && prevLower && unicode.IsUpper(r) {
			space++
		}
		flushSpace()
		prevLower = unicode.IsLower(r)
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			emit(byte(r))
			continue
		}
		if m, ok := confusable(r); ok {
			if mappedAt != wordStart {
				mappedAt, mapped = wordStart, mapConfusables(raw[wordStart:])
			}
			if mapped || !unicode.IsLetter(r) {
				emitRune(m)
				continue
			}
		}
		n := utf8.EncodeRune(tmp[:], r)
		if d := norm.NFKD.Properties(tmp[:n]).Decomposition(); d != nil {
			for _, c := range string(d) {
				if unicode.Is(unicode.Mn, c) || droppedForMatch(c) {
					continue
				}
				if m, ok := confusable(c); ok {
					if mappedAt != wordStart {
						mappedAt, mapped = wordStart, mapConfusables(raw[wordStart:])
					}
					if mapped || !unicode.IsLetter(c) {
						emitRune(m)
						continue
					}
				}
				emitRune(unicode.ToLower(c))
			}
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		emitRune(unicode.ToLower(r))
	}
	if withIdx {
		idx = append(idx, ri+1)
	}
	n := normText{s: string(b), idx: idx}
	return joinLetterSpacing(n)
}

// mapConfusables decides whether the look-alike letters of the word that
// starts raw are mapped to Latin: when the word mixes them with Latin
// letters ("іgnore" with a Cyrillic і), or is spelled in look-alikes
// only and long enough to be a disguised English word. A word in its own
// script ("пользователю", "не", "και") keeps its letters, so phrases of
// other languages can be matched.
func mapConfusables(raw string) bool {
	latin, conf, other, letters := false, false, false, 0
	for _, r := range raw {
		if isSpace(r) {
			break
		}
		if droppedForMatch(r) || unicode.Is(unicode.Mn, r) {
			continue
		}
		if !unicode.IsLetter(r) {
			break
		}
		letters++
		switch {
		case r < utf8.RuneSelf || unicode.Is(unicode.Latin, r):
			latin = true
		case isConfusableLetter(r):
			conf = true
		default:
			other = true
		}
	}
	return (latin && conf) || (conf && !other && !latin && letters >= 4)
}

// isConfusableLetter reports a letter of another script that looks Latin,
// directly or once its marks are dropped ("ё" is "е" with a diaeresis).
func isConfusableLetter(r rune) bool {
	if _, ok := confusable(r); ok {
		return true
	}
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	if d := norm.NFKD.Properties(tmp[:n]).Decomposition(); d != nil {
		base, _ := utf8.DecodeRune(d)
		_, ok := confusable(base)
		return ok
	}
	return false
}

// singleLetterEnd reports whether b ends with a one-letter word.
func singleLetterEnd(b []byte) bool {
	n := len(b)
	return n > 0 && isASCIILetter(b[n-1]) && (n == 1 || !isWordByte(b[n-2]))
}

// asciiForm returns the ASCII a non-ASCII punctuation or symbol rune stands
// for ("’" is "'", "＜" is "<", "…" is "..."), or "" when it has none.
func asciiForm(r rune) string {
	if m, ok := confusable(r); ok && m < utf8.RuneSelf {
		return string(m)
	}
	var tmp [utf8.UTFMax]byte
	n := utf8.EncodeRune(tmp[:], r)
	d := norm.NFKD.Properties(tmp[:n]).Decomposition()
	if d == nil {
		return ""
	}
	for _, c := range d {
		if c >= utf8.RuneSelf || c < 0x20 {
			return ""
		}
	}
	return string(d)
}

// ansiLen returns the length in bytes and runes of the escape sequence at
// the start of s (which starts with ESC or the C1 CSI).
func ansiLen(s string) (bytes, runes int) {
	r, size := utf8.DecodeRuneInString(s)
	i, n := size, 1
	if r == 0x1b {
		if i >= len(s) {
			return i, n
		}
		switch s[i] {
		case '[':
			i, n = i+1, n+1
		case ']', 'P', '_', '^', 'X':
			// OSC and string sequences end at BEL or ST (ESC \).
			i, n = i+1, n+1
			for i < len(s) {
				c, sz := utf8.DecodeRuneInString(s[i:])
				i, n = i+sz, n+1
				if c == 0x07 || c == 0x9c {
					return i, n
				}
				if c == 0x1b && i < len(s) && s[i] == '\\' {
					return i + 1, n + 1
				}
			}
			return i, n
		default:
			// A two-character escape (ESC 7, ESC c...).
			_, sz := utf8.DecodeRuneInString(s[i:])
			return i + sz, n + 1
		}
	}
	// CSI parameters and intermediates, then one final byte.
	for i < len(s) {
		c := s[i]
		i, n = i+1, n+1
		if c >= 0x40 && c <= 0x7e {
			return i, n
		}
		if c < 0x20 || c > 0x3f && c < 0x40 || c >= 0x7f {
			return i - 1, n - 1
		}
	}
	return i, n
}

// isSpace reports whitespace, including the blank look-alikes that render
// as a space.
func isSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || r == 0x2800 || r == 0x3164 || r == 0xffa0 || r == 0x115f || r == 0x1160
}

// droppedForMatch reports characters removed before phrase matching:
// controls, format characters (zero-width, bidi, tags, soft hyphen),
// variation selectors, other default-ignorable and private-use code points.
func droppedForMatch(r rune) bool {
	if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
		return true
	}
	if r < 0x80 {
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Co, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) ||
		(r >= 0xe0000 && r <= 0xe0fff)
}

// joinLetterSpacing joins words written one letter at a time ("i g n o r e
// a l l"): a region of single letters separated by single spacers, with
// wider gaps (double spaces) between words, holding four or more letters.
// Inside the region single spacers vanish and wide gaps become one space;
// elsewhere a double space becomes a single one.
func joinLetterSpacing(n normText) normText {
	s := n.s
	if !hasLetterSpacing(s) {
		return n
	}
	b := make([]byte, 0, len(s))
	var idx []int32
	if n.idx != nil {
		idx = make([]int32, 0, len(n.idx))
	}
	keep := func(k int) {
		b = append(b, s[k])
		if n.idx != nil {
			idx = append(idx, n.idx[k])
		}
	}
	single := func(i int) bool { // a lone letter at i
		return i < len(s) && isASCIILetter(s[i]) && (i == 0 || !isWordByte(s[i-1])) && (i+1 == len(s) || !isWordByte(s[i+1]))
	}
	for i := 0; i < len(s); {
		if single(i) {
			// Extend the region: letter (gap letter)*.
			j, letters, singles := i, 1, 0
			for {
				switch {
				case j+2 < len(s) && isSpacer(s[j+1]) && single(j+2):
					j += 2
					singles++
				case j+3 < len(s) && s[j+1] == ' ' && s[j+2] == ' ' && single(j+3):
					j += 3
				default:
					goto done
				}
				letters++
			}
		done:
			if letters >= 4 && singles >= 2 {
				for k := i; k <= j; k++ {
					switch {
					case isASCIILetter(s[k]):
						keep(k)
					case s[k] == ' ' && k+1 <= j && s[k+1] == ' ':
						keep(k)
						k++
					}
				}
				i = j + 1
				continue
			}
		}
		if s[i] == ' ' && i+1 < len(s) && s[i+1] == ' ' {
			i++ // collapse the double space marker
			continue
		}
		keep(i)
		i++
	}
	if n.idx != nil {
		idx = append(idx, n.idx[len(s)])
	}
	return normText{s: string(b), idx: idx}
}

// hasLetterSpacing is the cheap test before joinLetterSpacing: a wide-gap
// marker, or three lone letters joined by spacers ("e.g." is not enough).
func hasLetterSpacing(s string) bool {
	lone := func(i int) bool {
		return i < len(s) && isASCIILetter(s[i]) && (i == 0 || !isWordByte(s[i-1])) && (i+1 == len(s) || !isWordByte(s[i+1]))
	}
	for i := 0; i+4 < len(s); i++ {
		if s[i] == ' ' && s[i+1] == ' ' {
			return true
		}
		if lone(i) && isSpacer(s[i+1]) && lone(i+2) && isSpacer(s[i+3]) && lone(i+4) {
			return true
		}
	}
	return false
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' }

func isWordByte(c byte) bool { return isASCIILetter(c) || ('0' <= c && c <= '9') || c >= 0x80 }

func isSpacer(c byte) bool {
	switch c {
	case ' ', '.', '-', '_', '*':
		return true
	}
	return false
}
