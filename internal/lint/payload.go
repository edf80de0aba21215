package lint

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/mcpdrift/mcpdrift/internal/severity"
)

// Run lengths of the encoded-payload rule. A run of at least minEncoded
// characters is decoded and its text linted; it is reported on its own,
// without a finding inside, only from the long lengths on: longer than any
// hash a description would quote (a SHA-256 is 64 hex digits or 44 base64
// characters).
const (
	minEncoded = 16
	minBase64  = 80
	minHex     = 96
	minBase32  = 80
	// maxDecodeIn bounds the bytes decoded per text: decoding is linear,
	// and a bound on attempts would let decoys hide the payload.
	maxDecodeIn = 1 << 20
	// decodeDepth bounds nested encodings (base64 of URL-encoded text).
	decodeDepth = 2
)

// Encodings a run is decoded from.
const (
	encBase64 = "base64"
	encBase32 = "base32"
	encHex    = "hex"
	encURL    = "URL-encoded"
)

// encodedRun is a run of text that decodes to readable text.
type encodedRun struct {
	start, end int // byte offsets in the text
	kind       string
	decoded    string
}

// findEncoded returns the runs of s that decode, as base64, base32, hex or
// URL encoding, to mostly printable text, and the long runs that decode to
// bytes.
func findEncoded(s string) []encodedRun {
	var out []encodedRun
	budget := maxDecodeIn
	for i := 0; i < len(s) && budget > 0; {
		if !isEncodedByte(s[i]) {
			i++
			continue
		}
		j := i
		pct := 0
		for j < len(s) && isEncodedByte(s[j]) {
			if s[j] == '%' {
				pct++
			}
			j++
		}
		run := s[i:j]
		start := i
		i = j
		if len(run) < minEncoded || len(run) > budget {
			continue
		}
		budget -= len(run)
		kind, text, ok := decodeRun(run, pct)
		switch {
		case ok:
			out = append(out, encodedRun{start, j, kind, text})
		case isLong(kind, len(run)):
			// A long run is reported even when it decodes to bytes.
			out = append(out, encodedRun{start, j, kind, ""})
		}
	}
	return out
}

// isLong reports a run long enough to report without a finding inside.
func isLong(kind string, n int) bool {
	switch kind {
	case encBase64:
		return n >= minBase64
	case encHex:
		return n >= minHex
	case encBase32:
		return n >= minBase32
	}
	return false
}

// isEncodedByte reports a byte that may be part of an encoded run.
func isEncodedByte(b byte) bool {
	return isASCIILetter(b|0x20) || ('0' <= b && b <= '9') || b == '+' || b == '/' || b == '=' || b == '_' || b == '-' || b == '%'
}

// decodeRun decodes one run: URL encoding when it holds escapes, else
// hex, base32 or base64 by the characters it uses. It returns the decoded
// text when it is mostly printable and reads as text (has a space, or is a
// path), else ok is false.
func decodeRun(run string, pct int) (kind, text string, ok bool) {
	if pct >= 3 {
		d, err := url.PathUnescape(run)
		if err != nil || d == run {
			return "", "", false
		}
		return encURL, d, readable(d)
	}
	if pct > 0 {
		return "", "", false
	}
	trimmed := strings.TrimRight(run, "=")
	var upper, lower, digit, slash, other int
	hexOnly, b32 := true, true
	for k := 0; k < len(trimmed); k++ {
		b := trimmed[k]
		switch {
		case 'A' <= b && b <= 'Z':
			upper++
			hexOnly = hexOnly && b <= 'F'
		case 'a' <= b && b <= 'z':
			lower++
			hexOnly = hexOnly && b <= 'f'
		case '0' <= b && b <= '9':
			digit++
			b32 = b32 && '2' <= b && b <= '7'
		case b == '/':
			slash++
			hexOnly, b32 = false, false
		default:
			other++
			hexOnly, b32 = false, false
		}
	}
	switch {
	case hexOnly && digit > 0 && (upper == 0 || lower == 0):
		b, err := hex.DecodeString(trimmed[:len(trimmed)&^1])
		return encHex, string(b), err == nil && readable(string(b))
	case b32 && (upper == 0 || lower == 0) && digit > 0:
		if d, ok := decodeBase32(strings.ToUpper(trimmed)); ok {
			return encBase32, d, true
		}
		if upper == 0 || lower == 0 {
			return encBase32, "", false
		}
	}
	// Real base64 of text mixes cases and digits; a path or a snake_case
	// identifier has many separators and is not base64.
	if upper == 0 || lower == 0 || digit == 0 || slash*16 > len(trimmed) || other*8 > len(trimmed) {
		return "", "", false
	}
	if len(trimmed)%4 == 1 {
		trimmed = trimmed[:len(trimmed)-1] // a partial quantum cannot decode
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(trimmed); err == nil && readable(string(b)) {
			return encBase64, string(b), true
		}
	}
	return encBase64, "", false
}

// decodeBase32 decodes unpadded or padded base32 text.
func decodeBase32(s string) (string, bool) {
	for len(s)%8 == 1 || len(s)%8 == 3 || len(s)%8 == 6 {
		s = s[:len(s)-1] // lengths no quantum has
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || !readable(string(b)) {
		return "", false
	}
	return string(b), true
}

// readable reports decoded bytes that are text: valid UTF-8 and nine
// tenths printable.
func readable(s string) bool {
	if len(s) < 4 || !utf8.ValidString(s) {
		return false
	}
	printable, n := 0, 0
	for _, r := range s {
		n++
		if r == '\n' || r == '\t' || r == '\r' || (r >= 0x20 && r != 0x7f && r != utf8.RuneError) {
			printable++
		}
	}
	return printable*10 >= n*9
}

// payloads decodes the encoded runs of u's text and lints what they hold:
// high when the decoded text trips a rule of medium or above (the text
// was encoded to hide it), medium for a long run of base64, base32 or hex
// that decodes to harmless text or not at all.
func (c *checker) payloads(u *unit) []located {
	return c.payloadsAt(u, u.text, 0, 0)
}

// payloadsAt is payloads on text, a decoding of u's text at the given
// depth; offsets of findings are those of the outermost run (at, in u's
// raw runes, for nested text).
func (c *checker) payloadsAt(u *unit, text string, depth, at int) []located {
	if len(text) < minEncoded {
		return nil
	}
	var best *located
	for _, r := range findEncoded(text) {
		start := at
		if depth == 0 {
			start = utf8.RuneCountInString(text[:r.start])
		}
		end := start + utf8.RuneCountInString(text[r.start:r.end])
		if depth > 0 {
			end = start + 1
		}
		level, msg := c.decodedLevel(u, r, depth, start)
		if level == severity.None {
			continue
		}
		f := c.finding(u, RuleEncodedPayload, level, msg, start, end)
		if best == nil || f.Severity > best.Severity {
			best = &f
		}
		if level >= severity.High {
			break
		}
	}
	if best == nil {
		return nil
	}
	return []located{*best}
}

// decodedLevel lints a decoded run and grades it.
func (c *checker) decodedLevel(u *unit, r encodedRun, depth, at int) (severity.Level, string) {
	n := r.end - r.start
	msg := itoa(n) + "-character " + r.kind + " run"
	if r.decoded == "" {
		// Bytes, not text (an image, a key): nothing the model reads as
		// an instruction, but worth a look.
		return severity.Low, msg + " of binary data"
	}
	if inner := c.decodedFindings(u, r.decoded); inner != "" {
		return severity.High, msg + " decodes to text that trips " + inner + ": " + quote(r.decoded)
	}
	if depth+1 < decodeDepth {
		if fs := c.payloadsAt(u, r.decoded, depth+1, at); len(fs) > 0 && fs[0].Severity >= severity.High {
			return severity.High, msg + " decodes to a " + fs[0].Message
		}
	}
	if isLong(r.kind, n) {
		return severity.Medium, msg + " decodes to text: " + quote(r.decoded)
	}
	return severity.None, ""
}

// decodedFindings lints decoded payload text and names the rules of medium
// or higher it trips ("" when none).
func (c *checker) decodedFindings(u *unit, text string) string {
	inner := &unit{entity: u.entity, name: u.name, path: u.path, rawPath: u.rawPath, text: text, role: roleText, param: u.param}
	var rules []string
	fs := c.phrases(inner)
	fs = append(fs, c.covertDirective(inner)...)
	fs = append(fs, c.destinations(inner)...)
	for _, f := range fs {
		if f.Severity < severity.Medium {
			continue
		}
		dup := false
		for _, r := range rules {
			dup = dup || r == f.Rule
		}
		if !dup {
			rules = append(rules, f.Rule)
		}
	}
	return strings.Join(rules, ", ")
}
