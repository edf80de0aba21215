// Package suggest finds the names a mistyped one was probably meant to be,
// for "did you mean" hints in config errors and on the command line.
package suggest

import (
	"sort"
	"strings"
)

// maxSuggestions is how many names a hint offers.
const maxSuggestions = 3

// Closest returns up to three candidates close to word, closest first: an
// edit distance of at most a third of the word's length (at least 1, at
// most 3), case-insensitively, or one of them a prefix of the other (so
// "urls" finds "url" and "tool.remove" finds "tool.removed").
func Closest(word string, candidates []string) []string {
	w := strings.ToLower(word)
	limit := min(max(len([]rune(w))/3, 1), 3)
	type scored struct {
		name string
		d    int
	}
	var found []scored
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || c == word {
			continue
		}
		seen[c] = true
		lc := strings.ToLower(c)
		d := distance(w, lc)
		if d > limit && !(len(w) >= 3 && (strings.HasPrefix(lc, w) || strings.HasPrefix(w, lc))) {
			continue
		}
		found = append(found, scored{c, d})
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].d != found[j].d {
			return found[i].d < found[j].d
		}
		return found[i].name < found[j].name
	})
	var out []string
	for i := 0; i < len(found) && i < maxSuggestions; i++ {
		out = append(out, found[i].name)
	}
	return out
}

// Hint is " (did you mean X?)", " (did you mean X or Y?)", or "" when
// nothing is close.
func Hint(word string, candidates []string) string {
	c := Closest(word, candidates)
	switch len(c) {
	case 0:
		return ""
	case 1:
		return " (did you mean " + c[0] + "?)"
	default:
		return " (did you mean " + strings.Join(c[:len(c)-1], ", ") + " or " + c[len(c)-1] + "?)"
	}
}

// distance is the Levenshtein distance between a and b, by runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
