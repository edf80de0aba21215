package lint

import (
	"strings"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// nameRef is a known tool name a new name could be confused with.
type nameRef struct {
	name  string
	where string // "this server", `server "x"` or "the baseline"
}

// toolName checks a tool name: scripts mixed or spelled with look-alikes,
// and names that look like (share a skeleton with) another tool of this
// manifest, of another configured server or of the baseline.
func (c *checker) toolName(name string) []located {
	u := &unit{entity: string(manifest.KindTool), name: name, path: []string{"name"}, text: name, role: roleName}
	var fs []located
	if f, ok := c.scriptFinding(u); ok {
		fs = append(fs, f)
	}
	fs = append(fs, c.promoName(name)...)
	if ref, ok := c.confusable(name, skeleton(name), c.mineSkeletons); ok {
		level := severity.Medium
		if !isASCII(name) || !isASCII(ref.name) {
			level = severity.High
		}
		at := firstDiff(name, ref.name)
		fs = append(fs, c.finding(u, RuleConfusableName, level,
			"name looks like tool "+quote(ref.name)+" of "+ref.where, at, at+1))
	}
	return dedupe(fs)
}

// scriptFinding flags a name whose letters mix scripts, or that spells
// Latin-looking letters in another script.
func (c *checker) scriptFinding(u *unit) (located, bool) {
	name := u.text
	if isASCII(name) {
		return located{}, false
	}
	sc := scripts(name)
	first := 0
	for i, r := range []rune(name) {
		if r >= utf8.RuneSelf {
			first = i
			break
		}
	}
	hasLatin := false
	for _, s := range sc {
		if s == "Latin" {
			hasLatin = true
		}
	}
	if len(sc) > 1 && hasLatin {
		return c.finding(u, RuleConfusableName, severity.High,
			"name mixes "+strings.Join(sc, " and ")+" letters", first, first+1), true
	}
	if !hasLatin && len(sc) == 1 && isASCII(skeleton(name)) && strings.ContainsFunc(name, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return c.finding(u, RuleConfusableName, severity.High,
			"name is spelled in "+sc[0]+" letters that look Latin", first, first+1), true
	}
	return located{}, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// firstDiff returns the rune index of the first difference of a and b.
func firstDiff(a, b string) int {
	ar, br := []rune(a), []rune(b)
	for i := range ar {
		if i >= len(br) || ar[i] != br[i] {
			return i
		}
	}
	return len(ar)
}
