package lint

import (
	"strings"
	"unicode"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

var (
	// changeRe is language, in the sentence naming another server's tool,
	// that changes how that tool is used. "Instead of X" is not in it: a
	// tool preferring itself over another is a medium mention.
	changeRe = compile(`(?:must|should|always|never|make sure|ensure|change|changes|replace|redirect|override|modify|whenever|when|do not|don't|proxy|side effect|recipient|recipients|bcc|cc|intercept|wrap|prefix|prepend|append|before calling|after calling)`, false)
	// ownChangeBeforeRe and ownChangeAfterRe are the stronger forms needed
	// to flag a reference to a tool of the same server.
	ownChangeBeforeRe = compile(`(?:when(?:ever)?(?: the)?|(?:change|modify|override|replace|redirect|intercept|alter) (?:the )?(?:behaviou?r|recipients?|arguments?|parameters?|inputs?|outputs?|destination) (?:of|for)(?: the)?)(?: tool)?\s?[\x60'"]?$`, true)
	ownChangeAfterRe  = compile(`^[\x60'"]?(?: tool| function)? (?:is|gets|was|are) (?:called|invoked|used|executed|run)|^[\x60'"]?(?: tool| function)?(?: \S+){0,3} (?:must|should) (?:always|never|only|now|instead)`, true)
)

// shadowing finds references to tools by name: tools of other configured
// servers (any mention is suspect, a behaviour change is high) and tools of
// this server whose behaviour the text changes.
func (c *checker) shadowing(u *unit) []located {
	if len(c.prep.peers.byLower) == 0 && len(c.prep.ownLower) == 0 && len(c.mineLower) == 0 {
		return nil
	}
	n := u.normalized()
	s := n.s
	self := strings.ToLower(u.name)
	for i := 0; i < len(s); {
		if !isIdentByte(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isIdentByte(s[j]) {
			j++
		}
		tok := strings.TrimRight(s[i:j], ".-")
		end := i + len(tok)
		start := i
		i = j
		if tok == "" || tok == self {
			continue
		}
		refs, ok := c.others(tok)
		if !ok && strings.HasPrefix(tok, "mcp_") {
			for k := 3; k < len(tok); k++ {
				if tok[k] == '_' && k+1 < len(tok) {
					if refs, ok = c.others(strings.TrimLeft(tok[k+1:], "_")); ok {
						break
					}
				}
			}
		}
		if ok {
			if !distinctive(tok, s, start, end) {
				continue
			}
			rs, re := u.rawStart(start), u.rawEnd(end)
			level := severity.Medium
			if ownChangeBeforeRe.MatchString(s[max(start-60, 0):start]) || ownChangeAfterRe.MatchString(s[end:min(end+60, len(s))]) ||
				changeRe.MatchString(sentence(s, start, end)) {
				level = severity.High
			}
			msg := "refers to tool " + quote(refs[0].Name) + " of server " + quote(refs[0].Server)
			return []located{c.finding(u, RuleToolShadowing, level, msg, rs, re)}
		}
		if c.isOwn(tok) && distinctive(tok, s, start, end) {
			if ownChangeBeforeRe.MatchString(s[max(start-60, 0):start]) || ownChangeAfterRe.MatchString(s[end:min(end+60, len(s))]) {
				rs, re := u.rawStart(start), u.rawEnd(end)
				return []located{c.finding(u, RuleToolShadowing, severity.Medium,
					"changes how tool "+quote(runeSlice(u.text, rs, re))+" of this server must be used", rs, re)}
			}
		}
	}
	return nil
}

// sentence returns the sentence of s around [start, end): from the last
// sentence end before start to the first one after end.
func sentence(s string, start, end int) string {
	from := max(start-200, 0)
	for i := start - 1; i >= from; i-- {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && i+1 < len(s) && (s[i+1] == ' ' || s[i+1] == '\n') || s[i] == '\n' {
			from = i + 1
			break
		}
	}
	to := min(end+200, len(s))
	for i := end; i < to; i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\n') || s[i] == '\n' {
			to = i
			break
		}
	}
	return s[from:to]
}

func isIdentByte(b byte) bool {
	return isASCIILetter(b) || ('0' <= b && b <= '9') || b == '_' || b == '-' || b == '.'
}

// distinctive reports whether a token that equals a tool name is meant as
// that tool: the name is not an ordinary word (it has "_", "-", "." or a
// digit), or the text marks it as a tool (quoted, or followed by "tool",
// "function" or "(").
func distinctive(tok, s string, start, end int) bool {
	if strings.ContainsAny(tok, "_-.0123456789") {
		return true
	}
	if start > 0 && strings.IndexByte("`'\"", s[start-1]) >= 0 && end < len(s) && strings.IndexByte("`'\"", s[end]) >= 0 {
		return true
	}
	rest := s[end:min(end+10, len(s))]
	return strings.HasPrefix(rest, " tool") || strings.HasPrefix(rest, " function") || strings.HasPrefix(rest, "(")
}

// firstWord returns the leading letters and digits of a lower-cased name.
func firstWord(l string) string {
	l = strings.TrimLeft(l, "_")
	i := 0
	for i < len(l) && (isASCIILetter(l[i]) || ('0' <= l[i] && l[i] <= '9')) {
		i++
	}
	return l[:i]
}

// lowerName is a tool name as it appears in normalized text; names that
// cannot appear as one identifier token are not indexed.
func lowerName(name string) string {
	l := strings.ToLower(name)
	for i := 0; i < len(l); i++ {
		if !isIdentByte(l[i]) {
			return ""
		}
	}
	if len(l) < 3 || !unicode.IsLetter(rune(l[0])) && l[0] != '_' {
		return ""
	}
	return l
}
