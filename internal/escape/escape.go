// Package escape makes hostile text visible and inert before it reaches a
// person: terminals, Slack, email, JSON reports.
//
// Everything an MCP server sends may hide instructions for the model in
// characters a reviewer cannot see (zero-width and bidi controls, Unicode tag
// characters, variation selectors, private use), or drive the reviewer's
// terminal with ANSI escapes. Visible and Line replace each such character
// with a plain-ASCII marker:
//
//	<U+200B>   an invisible or deceptive code point (4 to 6 hex digits)
//	<ESC>      the escape character U+001B, which starts ANSI sequences
//	<0xNN>     a byte that is not part of valid UTF-8
//
// Line also flattens text onto one line, writing a newline as "⏎" and a
// tab as "⇥". Both functions are idempotent: escaping escaped text changes
// nothing, so layers may escape defensively. The markers are not quoted, so a
// server that writes a literal "<U+200B>" looks like one that sent the
// character; both are visible and harmless, which is all that matters here.
//
// escape owns only this rendering. It must not judge text (that is lint's
// job) and does no I/O.
package escape

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Markers Line uses for line breaks and tabs.
const (
	NewlineMarker = "⏎"
	TabMarker     = "⇥"
)

// hidden reports whether r is shown as a <U+XXXX> marker. Newline and tab are
// decided by the caller.
func hidden(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true // C0, DEL, C1 controls
	case r < 0x7f:
		return false // printable ASCII: the common case, decided cheaply
	case r == 0x2800:
		return true // BRAILLE PATTERN BLANK: renders as nothing, used as a fake space
	}
	return unicode.In(r,
		unicode.Cf,                         // format: zero-width, bidi, tags, soft hyphen, BOM
		unicode.Co,                         // private use
		unicode.Zs, unicode.Zl, unicode.Zp, // non-ASCII spaces and line/paragraph separators
		unicode.Variation_Selector,                 // VS1-VS256, Mongolian FVS
		unicode.Other_Default_Ignorable_Code_Point, // Hangul fillers, U+034F, unassigned tags
	) || !assigned(r)
}

// assigned reports whether r has a general category other than Cn, as far as
// this Go release's Unicode tables know: an unassigned code point may render
// as anything in a newer terminal.
func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S,
		unicode.Z, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

// Visible returns s with every invisible or deceptive character replaced by
// a marker. Newlines and tabs are kept as they are.
func Visible(s string) string { return render(s, false) }

// Line is Visible for one-line summaries: newlines become "⏎" and tabs "⇥"
// too, so the result never breaks a line.
func Line(s string) string { return render(s, true) }

// HasInvisible reports whether Visible would change s: s holds a control
// character other than newline and tab, an invisible or deceptive code
// point, or invalid UTF-8.
func HasInvisible(s string) bool {
	if clean(s, false) {
		return false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return true
		}
		if r != '\n' && r != '\t' && hidden(r) {
			return true
		}
		i += size
	}
	return false
}

// CountInvisible returns how many characters and bytes Visible would replace
// with a marker (newlines and tabs are not counted).
func CountInvisible(s string) int {
	if clean(s, false) {
		return 0
	}
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || (r != '\n' && r != '\t' && hidden(r)) {
			n++
		}
		i += size
	}
	return n
}

func render(s string, oneLine bool) string {
	if clean(s, oneLine) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, "<0x%02X>", s[i])
		case r == '\n' && oneLine:
			b.WriteString(NewlineMarker)
		case r == '\t' && oneLine:
			b.WriteString(TabMarker)
		case r == '\n', r == '\t':
			b.WriteRune(r)
		case r == 0x1b:
			b.WriteString("<ESC>")
		case hidden(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// clean is the fast path: printable ASCII (plus newline and tab when they
// are kept) needs no work.
func clean(s string, oneLine bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			continue
		}
		if !oneLine && (c == '\n' || c == '\t') {
			continue
		}
		return false
	}
	return true
}

// Truncate shortens s to at most n bytes, cutting at a rune boundary and
// never inside an escape marker, and appends "…(N more bytes)" naming how
// many bytes were cut. A string of n bytes or fewer is returned unchanged.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < 0 {
		n = 0
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	cut = avoidMarker(s, cut)
	return fmt.Sprintf("%s…(%d more bytes)", s[:cut], len(s)-cut)
}

// TruncateRunes shortens s to at most n runes, ending with "…" when cut
// (for a channel that counts characters, not bytes; see Truncate).
func TruncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 1 {
		return ""
	}
	i, count := 0, 0
	for i < len(s) && count < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		count++
	}
	return s[:i] + "…"
}

// avoidMarker moves cut back to the start of an escape marker it would split.
func avoidMarker(s string, cut int) int {
	const longest = len("<U+10FFFF>")
	from := max(cut-longest+1, 0)
	open := strings.LastIndexByte(s[from:cut], '<')
	if open < 0 {
		return cut
	}
	open += from
	if strings.IndexByte(s[open:cut], '>') >= 0 {
		return cut
	}
	rest := s[open:min(len(s), open+longest)]
	for _, p := range []string{"<U+", "<0x", "<ESC>"} {
		if strings.HasPrefix(rest, p) && strings.IndexByte(rest, '>') > 0 {
			return open
		}
	}
	return cut
}

// PathSegment percent-encodes s for use as one segment of a change or
// finding path (and of ignore rules, which match on the same form): "%",
// "/", whitespace, controls, invisible characters and invalid UTF-8 become
// %XX, and "." too when dot is set (the field separator). Printable names
// are unchanged.
func PathSegment(s string, dot bool) string {
	safe := func(r rune, size int) bool {
		if r == utf8.RuneError && size == 1 {
			return false
		}
		switch {
		case r == '%', r == '/', r <= ' ', dot && r == '.':
			return false
		case r < 0x7f:
			return true
		}
		return !HasInvisible(string(r))
	}
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !safe(r, size) {
			clean = false
			break
		}
		i += size
	}
	if clean {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if safe(r, size) {
			b.WriteString(s[i : i+size])
		} else {
			for k := 0; k < size; k++ {
				c := s[i+k]
				b.WriteByte('%')
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			}
		}
		i += size
	}
	return b.String()
}
