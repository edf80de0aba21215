package escape

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// InertJSON rewrites a valid JSON document so that every invisible,
// format, private-use or control character is a \uXXXX escape: the
// document means exactly the same, but nothing hidden reaches a terminal.
func InertJSON(doc []byte) []byte {
	out := make([]byte, 0, len(doc))
	for i := 0; i < len(doc); {
		r, size := utf8.DecodeRune(doc[i:])
		if r < utf8.RuneSelf && r >= 0x20 && r != 0x7f || (r >= utf8.RuneSelf && r != utf8.RuneError && visibleRune(r)) {
			out = append(out, doc[i:i+size]...)
			i += size
			continue
		}
		if r == '\n' || r == '\t' || r == '\r' { // whitespace between tokens
			out = append(out, doc[i])
			i++
			continue
		}
		if r == utf8.RuneError && size == 1 {
			out = append(out, `\ufffd`...)
			i++
			continue
		}
		if r > 0xffff {
			r1, r2 := utf16Pair(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}

func visibleRune(r rune) bool {
	return unicode.IsGraphic(r) && !unicode.In(r, unicode.Cf, unicode.Co, unicode.Variation_Selector) && !(r >= 0xe0000 && r <= 0xe007f)
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
