package render

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/escape"
	"github.com/mcpdrift/mcpdrift/internal/report"
	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Summary limits: a summary is for one screen (about 40 lines per server)
// however large the upgrade.
const (
	// summaryRiskiest is how many escalations and text edits are listed
	// one line each before the rest are folded.
	summaryRiskiest = 12
	// summaryGroups is how many folded lines follow them.
	summaryGroups = 15
	// summaryKinds is how many kinds the per-kind count line names.
	summaryKinds = 8
	// summaryNames is how many runes of names a folded line shows.
	summaryNames = 100
	// summaryText and summaryNote cut a change's summary and its first
	// finding, so that each change stays on one screen line or two.
	summaryText = 120
	summaryNote = 80
)

// renderSummary writes each server in at most about 40 lines: its header,
// counts per severity and kind, the riskiest changes (escalations and text
// edits, see report.Tier) one line each, then everything else folded by kind and
// severity, with runs of numbered names written once
// ("test://static/resource/{1..100}").
func renderSummary(w io.Writer, r *report.Report, o Options) error {
	return renderServers(w, r, o, writeServerSummary)
}

func writeServerSummary(b *strings.Builder, s *report.Server, p painter, now time.Time) {
	writeServerHeader(b, s, p, now)
	if len(s.Changes) > 0 {
		fmt.Fprintf(b, "  %s: %s\n", plural2(len(s.Changes), "change", "changes"), report.CountsText(s.Changes, " · "))
		fmt.Fprintf(b, "  by kind: %s\n", kindCounts(s.Changes, summaryKinds))
	}
	var top, rest []report.Change
	for _, c := range s.Changes {
		if t := report.Tier(&c); t <= report.TierText && len(top) < summaryRiskiest {
			top = append(top, c)
		} else {
			rest = append(rest, c)
		}
	}
	if len(top) > 0 {
		b.WriteString("  riskiest:\n")
		for _, c := range top {
			fmt.Fprintf(b, "    %s %s  %s%s\n", p.badge(c.Severity), changeName(&c), escape.TruncateRunes(line(c.Summary), summaryText), findingNote(&c))
		}
	}
	groups := foldChanges(rest)
	if len(groups) > 0 {
		if len(top) > 0 {
			b.WriteString("  the rest:\n")
		} else {
			b.WriteString("  changes:\n")
		}
		for i, g := range groups {
			if i == summaryGroups {
				n := 0
				for _, g := range groups[i:] {
					n += len(g)
				}
				fmt.Fprintf(b, "    … and %s in %d more groups\n", plural2(n, "change", "changes"), len(groups)-i)
				break
			}
			c := &g[0]
			if len(g) == 1 {
				fmt.Fprintf(b, "    %s %s  %s%s\n", p.badge(c.Severity), changeName(c), escape.TruncateRunes(line(c.Summary), summaryText), findingNote(c))
				continue
			}
			names := make([]string, len(g))
			for j := range g {
				names[j] = line(g[j].Name)
			}
			fmt.Fprintf(b, "    %s %d %s: %s\n", p.badge(c.Severity), len(g), groupWhat(c), FoldNames(names, summaryNames))
		}
	}
	if fs := report.Unaccepted(s.Findings); len(fs) > 0 {
		fmt.Fprintf(b, "  ! %s on the manifest: %s\n", plural2(len(fs), "lint finding", "lint findings"), findingCounts(fs))
	}
	if len(s.Changes) > 0 {
		fmt.Fprintf(b, "  %s\n", p.paint(ansiDim, "every change in full: mcpdrift diff "+escape.ShellWord(s.Server)+" (--full for whole definitions)"))
	}
}

// foldChanges groups changes by kind and severity, in order of first
// appearance (so still riskiest first).
func foldChanges(cs []report.Change) [][]report.Change {
	type key struct {
		kind string
		sev  severity.Level
	}
	idx := map[key]int{}
	var out [][]report.Change
	for _, c := range cs {
		k := key{c.Kind, c.Severity}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], c)
	}
	return out
}

// groupWhat names a folded group: "tools added", "resources removed",
// "tool.input_schema changes".
func groupWhat(c *report.Change) string {
	for _, verb := range []string{"added", "removed", "renamed"} {
		if strings.HasSuffix(c.Kind, "."+verb) {
			return plural(c.Entity) + " " + verb
		}
	}
	return c.Kind + " changes"
}

func findingNote(c *report.Change) string {
	if len(c.Findings) == 0 {
		return ""
	}
	f := c.Findings[0]
	note := "  ! " + escape.TruncateRunes(f.Rule+" "+line(f.Message), summaryNote)
	if len(c.Findings) > 1 {
		note += fmt.Sprintf(" (+%d)", len(c.Findings)-1)
	}
	return note
}

func findingCounts(fs []report.Finding) string {
	cs := make([]report.Change, len(fs))
	for i, f := range fs {
		cs[i].Severity = f.Severity
	}
	return report.CountsText(cs, " · ")
}

// kindCounts is "100 resource.removed · 12 tool.added", most frequent
// first, at most max kinds.
func kindCounts(cs []report.Change, max int) string {
	n := map[string]int{}
	for _, c := range cs {
		n[c.Kind]++
	}
	kinds := make([]string, 0, len(n))
	for k := range n {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if n[kinds[i]] != n[kinds[j]] {
			return n[kinds[i]] > n[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	var parts []string
	for i, k := range kinds {
		if i == max {
			parts = append(parts, fmt.Sprintf("%d more kinds", len(kinds)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	return strings.Join(parts, " · ")
}

// FoldNames joins names with ", ", writing names that differ only in one
// number once: test://r/1 … test://r/100 become "test://r/{1..100}", and
// scattered numbers "test://r/{1,4,9}". At most maxRunes runes are
// written, the rest counted: "a, b, … (+12)".
func FoldNames(names []string, maxRunes int) string {
	type run struct {
		prefix, suffix string
		nums           []int
		names          []string
	}
	var order []*run
	byKey := map[[2]string]*run{}
	for _, n := range names {
		pre, num, suf, ok := splitNumber(n)
		if !ok {
			order = append(order, &run{names: []string{n}})
			continue
		}
		k := [2]string{pre, suf}
		r := byKey[k]
		if r == nil {
			r = &run{prefix: pre, suffix: suf}
			byKey[k] = r
			order = append(order, r)
		}
		r.nums = append(r.nums, num)
		r.names = append(r.names, n)
	}
	var items []string
	var counts []int
	for _, r := range order {
		if len(r.names) < 3 {
			for _, n := range r.names {
				items = append(items, n)
				counts = append(counts, 1)
			}
			continue
		}
		items = append(items, r.prefix+"{"+numberSet(r.nums)+"}"+r.suffix)
		counts = append(counts, len(r.names))
	}
	var b strings.Builder
	for i, it := range items {
		sep := ""
		if i > 0 {
			sep = ", "
		}
		if utf8.RuneCountInString(b.String()+sep+it) > maxRunes && i > 0 {
			left := 0
			for _, c := range counts[i:] {
				left += c
			}
			fmt.Fprintf(&b, ", … (+%d)", left)
			break
		}
		b.WriteString(sep + it)
	}
	return b.String()
}

// splitNumber splits a name at its last run of ASCII digits.
func splitNumber(s string) (prefix string, n int, suffix string, ok bool) {
	end := -1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			end = i + 1
			break
		}
	}
	if end < 0 {
		return "", 0, "", false
	}
	start := end - 1
	for start > 0 && s[start-1] >= '0' && s[start-1] <= '9' {
		start--
	}
	// A leading zero would not survive the round trip through an int.
	if end-start > 9 || (s[start] == '0' && end-start > 1) {
		return "", 0, "", false
	}
	v, err := strconv.Atoi(s[start:end])
	if err != nil {
		return "", 0, "", false
	}
	return s[:start], v, s[end:], true
}

// numberSet writes sorted numbers as "1..100" when they are consecutive,
// else as a list, the longest stretches written "a..b": "1..3,7,9..12".
func numberSet(nums []int) string {
	ns := append([]int(nil), nums...)
	sort.Ints(ns)
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] <= ns[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(ns[i]))
		case j-i == 1 && ns[j] != ns[i]:
			parts = append(parts, strconv.Itoa(ns[i]), strconv.Itoa(ns[j]))
		default:
			parts = append(parts, strconv.Itoa(ns[i])+".."+strconv.Itoa(ns[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
