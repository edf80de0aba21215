package lint

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// confusables maps letters of other scripts that render like a Latin letter
// to that Latin letter (lower case). It is a small hand-made subset of
// Unicode's confusables.txt (UTS #39) covering Cyrillic, Greek, Armenian
// and a few Latin extensions: the scripts used for homoglyph tool names and
// for hiding phrases from keyword filters.
var confusables = map[rune]rune{
	// Cyrillic
	'а': 'a', 'А': 'a', 'В': 'b', 'в': 'b', 'Ь': 'b', 'с': 'c', 'С': 'c', 'ԁ': 'd', 'е': 'e', 'Е': 'e', 'ё': 'e',
	'һ': 'h', 'Н': 'h', 'н': 'h', 'і': 'i', 'І': 'i', 'ї': 'i', 'ј': 'j', 'Ј': 'j', 'к': 'k', 'К': 'k',
	'ӏ': 'l', 'Ӏ': 'l', 'м': 'm', 'М': 'm', 'п': 'n', 'о': 'o', 'О': 'o', 'р': 'p', 'Р': 'p', 'ԛ': 'q', 'Ԛ': 'q',
	'г': 'r', 'ѕ': 's', 'Ѕ': 's', 'т': 't', 'Т': 't', 'у': 'y', 'У': 'y', 'ү': 'y', 'Ү': 'y', 'х': 'x', 'Х': 'x',
	'ԝ': 'w', 'Ԝ': 'w', 'ѡ': 'w', 'ꙇ': 'i', 'ɡ': 'g', 'ԍ': 'g', 'Ԍ': 'g', 'Ꮃ': 'w',
	// Greek
	'α': 'a', 'Α': 'a', 'β': 'b', 'Β': 'b', 'Ε': 'e', 'ε': 'e', 'Ζ': 'z', 'Η': 'h', 'η': 'n', 'Ι': 'i', 'ι': 'i',
	'Κ': 'k', 'κ': 'k', 'Μ': 'm', 'Ν': 'n', 'ν': 'v', 'Ο': 'o', 'ο': 'o', 'Ρ': 'p', 'ρ': 'p', 'Τ': 't', 'τ': 't',
	'Υ': 'y', 'υ': 'u', 'Χ': 'x', 'χ': 'x', 'ω': 'w', 'ϲ': 'c', 'Ϲ': 'c', 'ϳ': 'j', 'ί': 'i', 'ό': 'o', 'ς': 's',
	// Armenian
	'օ': 'o', 'Օ': 'o', 'ս': 'u', 'Ս': 'u', 'ո': 'n', 'հ': 'h', 'ց': 'g', 'զ': 'q', 'ք': 'p', 'ա': 'w',
	// Latin extensions and IPA
	'ı': 'i', 'ȷ': 'j', 'ɑ': 'a', 'ɩ': 'i', 'ʟ': 'l', 'ɪ': 'i', 'ʀ': 'r', 'ᴅ': 'd', 'ᴏ': 'o', 'ᴜ': 'u',
	// Punctuation that phrase patterns spell in ASCII
	'‘': '\'', '’': '\'', 'ʼ': '\'', '′': '\'', '“': '"', '”': '"', '″': '"', '‐': '-', '‑': '-', '–': '-', '—': '-',
	'Ɩ': 'l', 'ꓲ': 'i', 'ꓳ': 'o', 'ꓴ': 'u', 'ꓢ': 's', 'ꓑ': 'p', 'ꓚ': 'c', 'ꓓ': 'd', 'ꓰ': 'e',
}

func confusable(r rune) (rune, bool) {
	if r < 0x100 {
		return 0, false
	}
	m, ok := confusables[r]
	return m, ok
}

// skeleton maps a name to the form under which two confusable names are
// equal: compatibility-decomposed, marks and invisible characters dropped,
// look-alike letters mapped to Latin, lower case, dashes unified, and the
// ASCII confusions of UTS #39 applied (0→o, 1→l, rn→m, vv→w).
func skeleton(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	add := func(r rune) {
		switch {
		case r == '0':
			r = 'o'
		case r == '1' || r == '|':
			r = 'l'
		case unicode.Is(unicode.Pd, r):
			r = '-'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	var tmp [utf8.UTFMax]byte
	for _, r := range name {
		if droppedForMatch(r) || unicode.Is(unicode.Mn, r) {
			continue
		}
		if m, ok := confusable(r); ok {
			add(m)
			continue
		}
		if r >= utf8.RuneSelf {
			n := utf8.EncodeRune(tmp[:], r)
			if d := norm.NFKD.Properties(tmp[:n]).Decomposition(); d != nil {
				for _, c := range string(d) {
					if unicode.Is(unicode.Mn, c) {
						continue
					}
					if m, ok := confusable(c); ok {
						c = m
					}
					add(c)
				}
				continue
			}
		}
		add(r)
	}
	s := b.String()
	if strings.Contains(s, "rn") || strings.Contains(s, "vv") {
		s = strings.NewReplacer("rn", "m", "vv", "w").Replace(s)
	}
	return s
}

// scriptOf names the script of a letter, for the scripts that matter to
// homoglyph names; other letters are "other", non-letters "".
func scriptOf(r rune) string {
	switch {
	case !unicode.IsLetter(r):
		return ""
	case unicode.Is(unicode.Latin, r):
		return "Latin"
	case unicode.Is(unicode.Cyrillic, r):
		return "Cyrillic"
	case unicode.Is(unicode.Greek, r):
		return "Greek"
	case unicode.Is(unicode.Armenian, r):
		return "Armenian"
	case unicode.Is(unicode.Cherokee, r):
		return "Cherokee"
	case unicode.Is(unicode.Lisu, r):
		return "Lisu"
	}
	return "other"
}

// scripts returns the distinct scripts of the letters in s, in order of
// first appearance.
func scripts(s string) []string {
	var out []string
	for _, r := range s {
		sc := scriptOf(r)
		if sc == "" {
			continue
		}
		seen := false
		for _, o := range out {
			if o == sc {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, sc)
		}
	}
	return out
}
