package teams

import (
	"regexp"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/notifiers/render"
)

// How server-controlled text is made inert in a Teams card, on top of
// render.Line and render.Text (invisible characters shown as <U+200B>,
// "<" written "‹" so no <at>mention</at> or tag forms, and URL schemes and
// "www." defanged):
//
//   - No markdown anywhere: every piece of text, ours included, is a
//     TextRun inside a RichTextBlock. Adaptive Cards never parse a TextRun
//     as markdown, so *bold*, _italic_, # headings, lists and [x](y) links
//     in server text stay literal characters. (A TextBlock would parse
//     them, and Teams has no reliable escape for its markdown subset.)
//   - Teams links bare host names it recognises, and has no switch to stop
//     it, so a dot before a common top-level domain is written "[.]":
//     "evil.example" shows as "evil[.]example", like render.Defang's
//     "hxxps://" for schemes.
//   - Nothing is a mention: cards carry no msteams.entities, which is the
//     only way an <at> becomes one, and "<" cannot reach Teams anyway.

// dotted matches a dotted word: a host name, a file name, a field path.
var dotted = regexp.MustCompile(`(?i)\b[a-z0-9-]+(?:\.[a-z0-9-]+)+\b`)

// linkedTLDs are top-level domains Teams clients link bare host names in;
// dotted words ending otherwise ("id_rsa.pub", "serverInfo.version",
// "1.3.0") are left alone.
var linkedTLDs = map[string]bool{}

func init() {
	for _, tld := range strings.Fields(`com net org edu gov mil int io ai app dev co me info biz xyz top site online
		cloud shop ru cn tk ly gg cc us uk de fr eu ch nl example test local localhost internal onion`) {
		linkedTLDs[tld] = true
	}
}

// noAutolink writes the last dot of each host name "[.]". A word already
// followed by "[.]" is the start of a defanged host and stays as it is.
func noAutolink(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range dotted.FindAllStringIndex(s, -1) {
		w := s[m[0]:m[1]]
		i := strings.LastIndexByte(w, '.')
		if !linkedTLDs[strings.ToLower(w[i+1:])] || strings.HasPrefix(s[m[1]:], "[.]") {
			continue
		}
		b.WriteString(s[last : m[0]+i])
		b.WriteString("[.]")
		last = m[0] + i + 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// Longest server text shown inline, in bytes before escaping, so that one
// hostile field cannot crowd everything else out of the card.
const (
	maxName    = 150
	maxSummary = 400
	maxMessage = 200
)

// line makes server text inert on one line, cut to n bytes with a note of
// how much was cut.
func line(s string, n int) string {
	return noAutolink(render.Line(escape.Truncate(escape.Line(s), n)))
}

// lines makes multi-line server text that is already escaped and cut
// (render.Excerpt of escape.Visible) inert, one string per line. An empty
// line becomes a space: a TextRun needs text.
func lines(s string) []string {
	out := strings.Split(render.Text(s), "\n")
	for i, l := range out {
		if l = noAutolink(strings.TrimRight(l, " ")); l == "" {
			l = " "
		}
		out[i] = l
	}
	return out
}
