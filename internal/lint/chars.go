package lint

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// charClass is a character rule's category.
type charClass int

const (
	classNone charClass = iota
	classTag
	classANSI
	classBidi
	classInvisible
	classControl
	classPrivate
)

// charStat counts one class in one string.
type charStat struct {
	count int
	first int  // rune offset of the first occurrence
	r     rune // the first occurrence
}

// chars runs the character rules on the raw text.
func (c *checker) chars(u *unit) []located {
	s := u.text
	if plainASCII(s) {
		return nil
	}
	var stats [classPrivate + 1]charStat
	var tags strings.Builder
	var prev rune
	ri := -1
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		ri++
		if r == 0x1f3f4 {
			// An emoji tag sequence (the flags of Scotland, Wales,
			// England) is the one honest use of tag characters.
			if n, runes := flagTagSequence(s[i+size:]); n > 0 {
				i += size + n
				ri += runes
				prev = 0xe007f
				continue
			}
		}
		var next rune
		if i+size < len(s) {
			next, _ = utf8.DecodeRuneInString(s[i+size:])
		}
		cl := classify(r, prev, next)
		if r == utf8.RuneError && size == 1 {
			cl = classControl
		}
		if cl != classNone {
			st := &stats[cl]
			if st.count == 0 {
				st.first, st.r = ri, r
			}
			st.count++
			if cl == classTag && r >= 0xe0020 && r <= 0xe007e && tags.Len() < 512 {
				tags.WriteRune(r - 0xe0000)
			}
		}
		prev = r
		i += size
	}
	var fs []located
	add := func(cl charClass, rule string, level severity.Level, what string) {
		st := stats[cl]
		if st.count == 0 {
			return
		}
		msg := fmt.Sprintf("%d %s (first U+%04X at %d)", st.count, what, st.r, st.first)
		if st.count == 1 {
			msg = fmt.Sprintf("%s U+%04X at %d", strings.TrimSuffix(what, "s"), st.r, st.first)
		}
		if cl == classTag && tags.Len() > 0 {
			msg += ", spelling " + quote(tags.String())
		}
		fs = append(fs, c.finding(u, rule, level, msg, st.first, st.first+1))
	}
	add(classTag, RuleUnicodeTags, severity.Critical, "Unicode tag characters")
	add(classANSI, RuleANSIEscape, severity.Critical, "ANSI escape characters")
	add(classBidi, RuleBidiControl, severity.High, "bidirectional control characters")
	add(classInvisible, RuleInvisibleChars, severity.High, "invisible characters")
	add(classControl, RuleControlChars, severity.High, "control characters")
	add(classPrivate, RulePrivateUse, severity.Medium, "private-use characters")
	return fs
}

// flagTagSequence returns the length in bytes and runes of the tag
// characters that complete a subdivision flag at the start of s: one to
// seven tag letters or digits, then the cancel tag; 0 when there is none.
func flagTagSequence(s string) (n, runes int) {
	for i := 0; i < len(s) && runes <= 8; {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
		switch {
		case r == 0xe007f:
			if runes < 2 {
				return 0, 0
			}
			return i, runes
		case (r >= 0xe0030 && r <= 0xe0039) || (r >= 0xe0061 && r <= 0xe007a):
		default:
			return 0, 0
		}
	}
	return 0, 0
}

// plainASCII is the fast path: printable ASCII, tab, newline and carriage
// return trip no character rule.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c >= 0x7f {
			return false
		}
	}
	return true
}

// classify sorts one rune; prev and next decide whether a joiner or a
// variation selector is doing its honest job.
func classify(r, prev, next rune) charClass {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return classNone
	case r == 0x1b || r == 0x9b:
		return classANSI
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return classControl
	case r < 0xa0:
		return classNone
	case r >= 0xe0000 && r <= 0xe007f:
		return classTag
	case r == 0x200e || r == 0x200f || r == 0x061c || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
		return classBidi
	case r == 0x200c || r == 0x200d:
		if joinerAllowed(prev, next) {
			return classNone
		}
		return classInvisible
	case r >= 0xfe00 && r <= 0xfe0f:
		if emojiBase(prev) {
			return classNone
		}
		return classInvisible
	case r >= 0xe0100 && r <= 0xe01ef, r >= 0x180b && r <= 0x180f:
		return classInvisible
	case r == 0x00ad, r == 0x034f, r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0, r == 0x2800, r == 0x17b4, r == 0x17b5:
		return classInvisible
	case unicode.Is(unicode.Co, r):
		return classPrivate
	case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return classInvisible
	}
	return classNone
}

// joinerAllowed reports a zero-width joiner or non-joiner between emoji
// (family and profession sequences) or inside words of scripts that need
// them (Arabic, Persian, Indic).
func joinerAllowed(prev, next rune) bool {
	if emojiBase(prev) && (emojiBase(next) || next >= 0x2600) {
		return true
	}
	return joiningScript(prev) && joiningScript(next)
}

func emojiBase(r rune) bool {
	return r >= 0x1f000 || (r >= 0x2190 && r <= 0x2bff) || r == 0x00a9 || r == 0x00ae || r == 0x203c || r == 0x2049 ||
		r == 0x2122 || r == 0x2139 || r == '#' || r == '*' || ('0' <= r && r <= '9') || unicode.Is(unicode.So, r)
}

func joiningScript(r rune) bool {
	return unicode.In(r, unicode.Arabic, unicode.Syriac, unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi,
		unicode.Gujarati, unicode.Oriya, unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam,
		unicode.Sinhala, unicode.Mongolian, unicode.Myanmar, unicode.Khmer, unicode.Nko)
}

// padding finds whitespace used to push text out of view: a long run of
// blanks after text on the same line, or a long run of blank lines.
func (c *checker) padding(u *unit) []located {
	s := u.text
	if !strings.Contains(s, "          ") && !strings.Contains(s, "\n\n\n\n\n") && plainASCII(s) {
		return nil
	}
	ri, run, runStart, lines, linesStart := -1, 0, 0, 0, 0
	textOnLine := false
	for _, r := range s {
		ri++
		switch {
		case r == '\n':
			if run >= 40 && textOnLine {
				return []located{c.finding(u, RuleWhitespacePadding, severity.Medium,
					"run of "+itoa(run)+" blanks pads text out of view", runStart, ri)}
			}
			run, textOnLine = 0, false
			if lines == 0 {
				linesStart = ri
			}
			lines++
			if lines >= 20 {
				return []located{c.finding(u, RuleWhitespacePadding, severity.Medium,
					"run of "+itoa(lines)+" line breaks pads text out of view", linesStart, ri+1)}
			}
		case r == '\r':
		case isSpace(r) || droppedForMatch(r):
			if run == 0 {
				runStart = ri
			}
			run++
		default:
			if run >= 40 && textOnLine {
				return []located{c.finding(u, RuleWhitespacePadding, severity.Medium,
					"run of "+itoa(run)+" blanks pads text out of view", runStart, ri)}
			}
			run, lines, textOnLine = 0, 0, true
		}
	}
	if run >= 40 && textOnLine {
		return []located{c.finding(u, RuleWhitespacePadding, severity.Medium,
			"run of "+itoa(run)+" blanks pads text out of view", runStart, ri+1)}
	}
	return nil
}
