package drift

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A change between two Unicode normalization forms of the same text (NFC
// "é" and NFD "e" + U+0301) looks like no change at all when both sides
// are printed. The model still reads different tokens, so it is a change,
// and it is shown with the non-ASCII code points written out.

// sameToTheEye reports whether a and b differ only in their Unicode
// normalization (canonically equivalent, or compatibly so).
func sameToTheEye(a, b string) bool {
	if a == b {
		return false
	}
	return norm.NFC.String(a) == norm.NFC.String(b) || norm.NFKC.String(a) == norm.NFKC.String(b)
}

// normForm names a string's normalization form for a summary.
func normForm(s string) string {
	switch {
	case norm.NFC.IsNormalString(s) && norm.NFD.IsNormalString(s):
		return "NFC and NFD"
	case norm.NFC.IsNormalString(s):
		return "NFC"
	case norm.NFD.IsNormalString(s):
		return "NFD"
	case norm.NFKC.IsNormalString(s):
		return "NFKC"
	case norm.NFKD.IsNormalString(s):
		return "NFKD"
	}
	return "not normalized"
}

// reveal writes every non-ASCII code point of s as <U+XXXX>.
func reveal(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "<U+%04X>", r)
	}
	return b.String()
}

// revealPair reveals a and b from a little before their first difference,
// so a short summary shows where they differ.
func revealPair(a, b string) (string, string) {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	// Back to a rune start, then up to 8 runes of context.
	for i > 0 && !utf8.RuneStart(a[i]) {
		i--
	}
	for n := 0; n < 8 && i > 0; n++ {
		_, size := utf8.DecodeLastRuneInString(a[:i])
		i -= size
	}
	lead := ""
	if i > 0 {
		lead = "…"
	}
	return lead + reveal(a[i:]), lead + reveal(b[i:])
}

// normalizationNote is the summary of a normalization-only text change.
func normalizationNote(lbl, a, b string) string {
	ra, rb := revealPair(a, b)
	return fmt.Sprintf("changes Unicode normalization of %s from %s (%s) to %s (%s): the same text to the eye",
		lbl, compact(ra, 48), normForm(a), compact(rb, 48), normForm(b))
}
