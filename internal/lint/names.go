package lint

import (
	"sort"
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
func (c *checker) toolName(name string, m *manifest.Manifest) []Finding {
	u := &unit{entity: string(manifest.KindTool), name: name, path: []string{"name"}, text: name, role: roleName}
	var fs []Finding
	if f, ok := c.scriptFinding(u); ok {
		fs = append(fs, f)
	}
	fs = append(fs, c.promoName(name)...)
	c.buildSkeletons(m)
	sk := skeleton(name)
	for _, ref := range c.skeletons[sk] {
		if ref.name == name {
			continue
		}
		level := severity.Medium
		if !isASCII(name) || !isASCII(ref.name) {
			level = severity.High
		}
		at := firstDiff(name, ref.name)
		fs = append(fs, c.finding(u, RuleConfusableName, level,
			"name looks like tool "+quote(ref.name)+" of "+ref.where, at, at+1))
		break
	}
	return dedupe(fs)
}

// scriptFinding flags a name whose letters mix scripts, or that spells
// Latin-looking letters in another script.
func (c *checker) scriptFinding(u *unit) (Finding, bool) {
	name := u.text
	if isASCII(name) {
		return Finding{}, false
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
	return Finding{}, false
}

// buildSkeletons indexes every name a tool name could be confused with.
func (c *checker) buildSkeletons(m *manifest.Manifest) {
	if c.skeletons != nil {
		return
	}
	c.skeletons = map[string][]nameRef{}
	add := func(name, where string) {
		sk := skeleton(name)
		for _, r := range c.skeletons[sk] {
			if r.name == name && r.where == where {
				return
			}
		}
		c.skeletons[sk] = append(c.skeletons[sk], nameRef{name, where})
	}
	if m != nil {
		for _, e := range m.Entities[manifest.KindTool] {
			add(e.Key, "this server")
		}
	}
	for _, t := range c.ctx.OtherTools {
		where := `server "` + t.Server + `"`
		if c.ctx.Server != "" && t.Server == c.ctx.Server {
			where = "this server"
		}
		add(t.Name, where)
	}
	for _, b := range c.ctx.BaselineNames {
		add(b, "the baseline")
	}
	for _, refs := range c.skeletons {
		sort.SliceStable(refs, func(i, j int) bool {
			if refs[i].name != refs[j].name {
				return refs[i].name < refs[j].name
			}
			return refs[i].where < refs[j].where
		})
	}
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
