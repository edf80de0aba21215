package probe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// escapeText makes server-sent text safe to show in one line of a log or an
// error: control, format (zero-width, bidi, tag) and separator characters,
// and invalid UTF-8, are written as <U+XXXX> (or <0xXX> for a bad byte).
func escapeText(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, "<0x%02X>", s[i])
		case needsEscape(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) ||
		(r >= 0xFE00 && r <= 0xFE0F) || (r >= 0xE0100 && r <= 0xE01EF) // variation selectors
}

// excerpt returns an escaped prefix of b of at most max bytes, for showing
// what a server sent.
func excerpt(b []byte, max int) string {
	s := string(b)
	cut := false
	if len(s) > max {
		for max > 0 && !utf8.RuneStart(s[max]) {
			max--
		}
		s = s[:max]
		cut = true
	}
	s = escapeText(s)
	if cut {
		s += "..."
	}
	return s
}

// terminalTail turns the end of a process's output into one escaped line of
// at most max bytes (before escaping): terminal escape sequences are
// removed, line breaks become " | ", other control characters are escaped.
func terminalTail(b []byte, max int) string {
	if len(b) > max {
		b = b[len(b)-max:]
		// Start on a rune boundary and, preferably, a line boundary.
		for len(b) > 0 && !utf8.RuneStart(b[0]) {
			b = b[1:]
		}
	}
	s := stripANSI(string(b))
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, escapeText(strings.ReplaceAll(l, "\t", " ")))
		}
	}
	return strings.Join(out, " | ")
}

// stripANSI removes CSI (ESC [ ... final) and OSC (ESC ] ... BEL or ESC \)
// sequences and lone two-byte escapes, which colour and cursor control use.
func stripANSI(s string) string {
	if !strings.ContainsRune(s, 0x1b) && !strings.ContainsRune(s, 0x9b) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != 0x1b {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(s) {
			break
		}
		switch s[i+1] {
		case '[':
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
		case ']':
			j := i + 2
			for j < len(s) && s[j] != 0x07 && !(s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\') {
				j++
			}
			if j < len(s) && s[j] == 0x1b {
				j++
			}
			i = j
		default:
			i++
		}
	}
	return b.String()
}
