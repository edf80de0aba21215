package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrTooLarge is returned by Load for a config file over MaxFileSize bytes,
// which is far more than any real config needs.
var ErrTooLarge = errors.New("config file too large")

// Problem is one thing wrong with a config file.
type Problem struct {
	File string // the name given to Parse, or the path given to Load
	Line int    // 1-based; 0 when the problem has no place in the file
	Path string // key path such as servers[1].url; empty for the whole document
	Msg  string // what is wrong, never quoting a secret
}

// String renders the problem as "file:line: path: msg", leaving out the
// parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error holds every problem found in a config file, in file order.
type Error struct {
	Problems []Problem
}

// Error joins the problems, one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
