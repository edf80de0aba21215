package report

import (
	"fmt"
	"strings"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Count is how many changes have one severity.
type Count struct {
	Level severity.Level
	N     int
}

// Counts returns the non-zero counts of changes by severity, highest first.
func Counts(cs []Change) []Count {
	var n [severity.Critical + 1]int
	for _, c := range cs {
		if c.Severity >= severity.None && c.Severity <= severity.Critical {
			n[c.Severity]++
		}
	}
	var out []Count
	for l := severity.Critical; l >= severity.None; l-- {
		if n[l] > 0 {
			out = append(out, Count{Level: l, N: n[l]})
		}
	}
	return out
}

// CountsText joins Counts with sep: "1 critical · 2 high".
func CountsText(cs []Change, sep string) string {
	var parts []string
	for _, c := range Counts(cs) {
		parts = append(parts, fmt.Sprintf("%d %s", c.N, c.Level))
	}
	return strings.Join(parts, sep)
}
