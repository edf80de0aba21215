package lint

import (
	"strings"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/escape"
)

// Evidence excerpt bounds, in runes of raw text: context before the match,
// and the whole excerpt.
const (
	evidenceBefore = 40
	evidenceRunes  = 120
	// evidenceBytes bounds the escaped excerpt: markers such as <U+E0041>
	// make escaped text longer than the raw runes it shows.
	evidenceBytes = 240
)

// evidence returns an escaped one-line excerpt of text around the raw rune
// span [start, end), with "…" where it was cut.
func evidence(text string, start, end int) string {
	runes := utf8.RuneCountInString(text)
	start = min(max(start, 0), runes)
	end = min(max(end, start), runes)
	from := max(start-evidenceBefore, 0)
	to := min(max(end, from+evidenceRunes), from+evidenceRunes, runes)
	if to-from < evidenceRunes && from > 0 {
		from = max(to-evidenceRunes, 0)
	}
	ex := escape.Line(runeSlice(text, from, to))
	if from > 0 {
		ex = "…" + ex
	}
	if to < runes {
		ex += "…"
	}
	// A copy: the excerpt may be a slice of the entity's whole text, which
	// a finding kept in the engine's lint cache would otherwise hold on to
	// (about the manifest's size again, for a manifest of long texts).
	return strings.Clone(escape.Truncate(ex, evidenceBytes))
}
