package escape

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestVisible(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain ascii", "Search issues in a repo", "Search issues in a repo"},
		{"newline and tab kept", "a\n\tb", "a\n\tb"},
		{"ordinary unicode kept", "café — naïve 日本語 🙂", "café — naïve 日本語 🙂"},
		{"zero width space", "a\u200bb", "a<U+200B>b"},
		{"zero width non-joiner and joiner", "\u200c\u200d", "<U+200C><U+200D>"},
		{"lrm rlm", "\u200e\u200f", "<U+200E><U+200F>"},
		{"word joiner and invisible operators", "\u2060\u2061\u2062\u2063\u2064", "<U+2060><U+2061><U+2062><U+2063><U+2064>"},
		{"byte order mark", "\ufeffx", "<U+FEFF>x"},
		{"bidi embeddings and overrides", "\u202a\u202b\u202c\u202d\u202e", "<U+202A><U+202B><U+202C><U+202D><U+202E>"},
		{"bidi isolates", "\u2066\u2067\u2068\u2069", "<U+2066><U+2067><U+2068><U+2069>"},
		{"unicode tags smuggle ascii", "ok\U000E0001\U000E0069\U000E0067\U000E007F", "ok<U+E0001><U+E0069><U+E0067><U+E007F>"},
		{"unassigned tag", "\U000E0000", "<U+E0000>"},
		{"variation selectors", "a\ufe0f\U000E0100\u180b", "a<U+FE0F><U+E0100><U+180B>"},
		{"soft hyphen", "pass\u00adword", "pass<U+00AD>word"},
		{"private use", "\ue000\U000F0000\U00100000", "<U+E000><U+F0000><U+100000>"},
		{"unassigned code point", "\U0003FFFD\uffff", "<U+3FFFD><U+FFFF>"},
		{"other format: mongolian vowel separator", "\u180e", "<U+180E>"},
		{"hangul fillers", "\u3164\u115f\uffa0", "<U+3164><U+115F><U+FFA0>"},
		{"combining grapheme joiner", "a\u034fb", "a<U+034F>b"},
		{"braille blank", "\u2800", "<U+2800>"},
		{"non-ascii spaces", "a\u00a0b\u3000c\u2009d", "a<U+00A0>b<U+3000>c<U+2009>d"},
		{"line and paragraph separators", "a\u2028b\u2029c", "a<U+2028>b<U+2029>c"},
		{"ansi escape", "\x1b[31mred\x1b[0m", "<ESC>[31mred<ESC>[0m"},
		{"bell and nul", "\a\x00", "<U+0007><U+0000>"},
		{"carriage return", "safe\rrm -rf", "safe<U+000D>rm -rf"},
		{"vertical tab form feed", "\v\f", "<U+000B><U+000C>"},
		{"delete", "\x7f", "<U+007F>"},
		{"c1 controls", "\u0085\u009b", "<U+0085><U+009B>"},
		{"invalid utf-8", "a\xffb\xc3", "a<0xFF>b<0xC3>"},
		{"encoded surrogate is invalid", "\xed\xa0\x80", "<0xED><0xA0><0x80>"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Visible(tt.in); got != tt.want {
				t.Errorf("Visible(%q) = %q, want %q", tt.in, got, tt.want)
			}
			wantHidden := tt.want != tt.in
			if got := HasInvisible(tt.in); got != wantHidden {
				t.Errorf("HasInvisible(%q) = %v, want %v", tt.in, got, wantHidden)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "one line", "one line"},
		{"newline", "a\nb", "a⏎b"},
		{"tab", "a\tb", "a⇥b"},
		{"crlf", "a\r\nb", "a<U+000D>⏎b"},
		{"invisible", "a\u200bb\n", "a<U+200B>b⏎"},
		{"ansi", "\x1b]8;;http://x\x07", "<ESC>]8;;http://x<U+0007>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short kept", "abc", 3, "abc"},
		{"cut ascii", "abcdef", 3, "abc…(3 more bytes)"},
		{"never splits a rune", "aé", 2, "a…(2 more bytes)"},
		{"never splits a marker", "ab<U+200B>cd", 6, "ab…(10 more bytes)"},
		{"cut after a whole marker", "ab<U+200B>cd", 10, "ab<U+200B>…(2 more bytes)"},
		{"plain angle bracket may be cut", "a<b c d e", 4, "a<b …(5 more bytes)"},
		{"zero", "abc", 0, "…(3 more bytes)"},
		{"negative", "abc", -1, "…(3 more bytes)"},
		{"empty", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if !utf8.ValidString(got) && utf8.ValidString(tt.in) {
				t.Errorf("Truncate produced invalid UTF-8: %q", got)
			}
		})
	}
}

func FuzzVisible(f *testing.F) {
	for _, s := range []string{"", "plain", "a\u200bb", "\x1b[2J", "\xff\xfe", "\U000E0041", "a\r\n\tb", "<U+200B>", "\u202e\u2066"} {
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		v, l := Visible(s), Line(s)
		checkInert(t, "Visible", v, true)
		checkInert(t, "Line", l, false)
		if Visible(v) != v || Line(l) != l {
			t.Errorf("escaping is not idempotent for %q", s)
		}
		if HasInvisible(v) {
			t.Errorf("HasInvisible(Visible(%q)) is true", s)
		}
		if HasInvisible(s) != (v != s) {
			t.Errorf("HasInvisible(%q) disagrees with Visible", s)
		}
		tr := Truncate(v, n%64)
		if utf8.ValidString(v) && !utf8.ValidString(tr) {
			t.Errorf("Truncate(%q, %d) = %q: invalid UTF-8", v, n%64, tr)
		}
		if len(v) > n%64 && !strings.Contains(tr, "more bytes)") {
			t.Errorf("Truncate(%q, %d) = %q: no marker", v, n%64, tr)
		}
	})
}

// checkInert asserts the escaped output holds nothing a terminal or a model
// could act on invisibly.
func checkInert(t *testing.T, fn, out string, keepBreaks bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s output is not valid UTF-8: %q", fn, out)
	}
	for _, r := range out {
		if keepBreaks && (r == '\n' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || hidden(r) {
			t.Fatalf("%s output holds %U: %q", fn, r, out)
		}
	}
}

func TestCountInvisible(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"none", "plain\ttext\n", 0},
		{"two", "a\u200bb\u202e", 2},
		{"invalid byte and esc", "\xff\x1b", 2},
		{"tags", "\U000E0041\U000E0042\U000E0043", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CountInvisible(tt.in); got != tt.want {
				t.Errorf("CountInvisible(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
